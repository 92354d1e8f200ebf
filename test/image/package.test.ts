import { describe, it, expect } from 'vitest';
import { deflateRawSync } from 'node:zlib';
import { readDfuPackage, readZip, ImageError } from '../../src/image/index.js';
import { fx } from './fixtures.js';

/** Build a small ZIP (stored or deflated entries) for tests. */
function makeZip(files: { name: string; data: Uint8Array; deflate?: boolean }[]): Uint8Array {
  const enc = new TextEncoder();
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  let off = 0;
  for (const f of files) {
    const name = Buffer.from(enc.encode(f.name));
    const body = f.deflate ? deflateRawSync(f.data) : Buffer.from(f.data);
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0); lh.writeUInt16LE(20, 4); lh.writeUInt16LE(f.deflate ? 8 : 0, 8);
    lh.writeUInt32LE(body.length, 18); lh.writeUInt32LE(f.data.length, 22); lh.writeUInt16LE(name.length, 26);
    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0); ch.writeUInt16LE(20, 4); ch.writeUInt16LE(20, 6); ch.writeUInt16LE(f.deflate ? 8 : 0, 10);
    ch.writeUInt32LE(body.length, 20); ch.writeUInt32LE(f.data.length, 24); ch.writeUInt16LE(name.length, 28); ch.writeUInt32LE(off, 42);
    locals.push(lh, name, body);
    central.push(ch, name);
    off += 30 + name.length + body.length;
  }
  const cd = Buffer.concat(central);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0); eocd.writeUInt16LE(files.length, 8); eocd.writeUInt16LE(files.length, 10);
  eocd.writeUInt32LE(cd.length, 12); eocd.writeUInt32LE(off, 16);
  return new Uint8Array(Buffer.concat([...locals, cd, eocd]));
}

const manifestJson = (files: object[]) => new TextEncoder().encode(JSON.stringify({ 'format-version': 0, files, name: 'smp_svr' }));

describe('dfu_application.zip', () => {
  it('reads a two-image package, sorted by image_index', () => {
    const zip = makeZip([
      { name: 'manifest.json', data: manifestJson([
        { type: 'application', image_index: '1', file: 'net.signed.bin', version_MCUBOOT: '1.2.3+456' },
        { type: 'application', image_index: '0', file: 'app.signed.bin', version_MCUBOOT: '1.2.3+0' },
      ]), deflate: true },
      { name: 'app.signed.bin', data: fx('ed25519/base.bin'), deflate: true },
      { name: 'net.signed.bin', data: fx('hash-only/version_build.bin') },
    ]);
    const pkg = readDfuPackage(zip);
    expect(pkg.images.map((i) => [i.imageIndex, i.file, i.image.header.version.build])).toEqual([[0, 'app.signed.bin', 0], [1, 'net.signed.bin', 456]]);
    expect(pkg.images[0]!.bytes.length).toBe(fx('ed25519/base.bin').length);
    expect(readZip(zip).map((e) => e.name)).toEqual(['manifest.json', 'app.signed.bin', 'net.signed.bin']);
  });
  it('errors', () => {
    const code = (f: () => unknown) => { try { f(); } catch (e) { expect(e).toBeInstanceOf(ImageError); return (e as ImageError).code; } return 'none'; };
    expect(code(() => readDfuPackage(new Uint8Array(40)))).toBe('truncated');
    expect(code(() => readDfuPackage(makeZip([{ name: 'x.bin', data: new Uint8Array(3) }])))).toBe('truncated');
    expect(code(() => readDfuPackage(makeZip([{ name: 'manifest.json', data: manifestJson([{ image_index: '0', file: 'missing.bin' }]) }])))).toBe('truncated');
    expect(code(() => readDfuPackage(makeZip([{ name: 'manifest.json', data: new TextEncoder().encode('{') }])))).toBe('bad-option');
    expect(code(() => readDfuPackage(makeZip([
      { name: 'manifest.json', data: manifestJson([{ image_index: '0', file: 'a.bin' }]) },
      { name: 'a.bin', data: fx('broken/wrong_magic.bin') },
    ])))).toBe('bad-magic');
  });
});
