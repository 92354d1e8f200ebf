import { describe, it, expect } from 'vitest';
import { readDfuPackage, readZip, ImageError } from '../../src/image/node.js';
import { fx } from './fixtures.js';
import { makeZip } from '../helpers/zip.js';

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
    expect(() => readDfuPackage(makeZip([
      { name: 'manifest.json', data: manifestJson([{ image_index: '0', file: 'a.bin' }]) },
      { name: 'a.bin', data: fx('broken/wrong_magic.bin') },
    ]))).toThrow(/^a\.bin: /);
    expect(() => readDfuPackage(makeZip([
      { name: 'manifest.json', data: manifestJson([{ image_index: '1', file: 'a.bin' }, { image_index: 1, file: 'b.bin' }]) },
      { name: 'a.bin', data: fx('ed25519/base.bin') },
      { name: 'b.bin', data: fx('ed25519/base.bin') },
    ]))).toThrow('DFU package manifest lists two files for image_index 1');
  });
});
