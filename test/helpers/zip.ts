import { crc32, deflateRawSync } from 'node:zlib';
import { formatVersion, parseImage } from '../../src/image/node.js';

/**
 * Build a small ZIP (stored or deflated entries) for tests. `declaredSize` and `crc` replace what the directory
 * says about an entry (for tests of lying archives); `body` replaces the compressed bytes.
 */
export function makeZip(files: { name: string; data: Uint8Array; deflate?: boolean; declaredSize?: number; crc?: number; body?: Uint8Array }[]): Uint8Array {
  const enc = new TextEncoder();
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  let off = 0;
  for (const f of files) {
    const name = Buffer.from(enc.encode(f.name));
    const body = f.body ? Buffer.from(f.body) : f.deflate ? deflateRawSync(f.data) : Buffer.from(f.data);
    const size = f.declaredSize ?? f.data.length;
    const crc = f.crc ?? crc32(f.data);
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0);
    lh.writeUInt16LE(20, 4);
    lh.writeUInt16LE(f.deflate ? 8 : 0, 8);
    lh.writeUInt32LE(crc, 14);
    lh.writeUInt32LE(body.length, 18);
    lh.writeUInt32LE(size, 22);
    lh.writeUInt16LE(name.length, 26);
    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0);
    ch.writeUInt16LE(20, 4);
    ch.writeUInt16LE(20, 6);
    ch.writeUInt16LE(f.deflate ? 8 : 0, 10);
    ch.writeUInt32LE(crc, 16);
    ch.writeUInt32LE(body.length, 20);
    ch.writeUInt32LE(size, 24);
    ch.writeUInt16LE(name.length, 28);
    ch.writeUInt32LE(off, 42);
    locals.push(lh, name, body);
    central.push(ch, name);
    off += 30 + name.length + body.length;
  }
  const cd = Buffer.concat(central);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(files.length, 8);
  eocd.writeUInt16LE(files.length, 10);
  eocd.writeUInt32LE(cd.length, 12);
  eocd.writeUInt32LE(off, 16);
  return new Uint8Array(Buffer.concat([...locals, cd, eocd]));
}

/** A package as Zephyr's build writes it: manifest.json with image_index as text, and the signed images. */
export function dfuZip(files: { index: number; name: string; bytes: Uint8Array }[]): Uint8Array {
  const manifest = {
    'format-version': 1,
    time: 1732000000,
    name: 'smp_svr',
    files: files.map((f) => ({
      type: 'application',
      board: 'nrf5340dk/nrf5340/cpuapp',
      image_index: String(f.index),
      slot_index_primary: String(2 * f.index + 1),
      slot_index_secondary: String(2 * f.index + 2),
      version_MCUBOOT: formatVersion(parseImage(f.bytes).header.version),
      size: f.bytes.length,
      file: f.name,
    })),
  };
  return makeZip([
    { name: 'manifest.json', data: new TextEncoder().encode(JSON.stringify(manifest, null, 4)), deflate: true },
    ...files.map((f) => ({ name: f.name, data: f.bytes, deflate: true })),
  ]);
}
