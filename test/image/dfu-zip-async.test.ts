/** readDfuPackageAsync (DecompressionStream, what the web app uses): same package, same limits as the Node reader. */
import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { readDfuPackageAsync } from '../../src/image/dfu-zip.js';
import { createImage, ImageError, readDfuPackage } from '../../src/image/node.js';
import { makeZip } from '../helpers/zip.js';

const manifest = (file: string) => new TextEncoder().encode(JSON.stringify({ 'format-version': 0, files: [{ image_index: '0', file }] }));

async function failure(read: Promise<unknown>): Promise<string> {
  try {
    await read;
  } catch (e) {
    expect(e).toBeInstanceOf(ImageError);
    return `${(e as ImageError).code}: ${(e as Error).message}`;
  }
  return 'none';
}

describe('readDfuPackageAsync', () => {
  it('reads a deflated package as the Node reader does', async () => {
    const img = createImage(
      new Uint8Array(3000).map((_, i) => i & 0xff),
      { version: '1.2.3', padHeader: true },
    );
    const zip = makeZip([
      { name: 'manifest.json', data: manifest('app.bin'), deflate: true },
      { name: 'app.bin', data: img, deflate: true },
    ]);
    const pkg = await readDfuPackageAsync(zip);
    expect(pkg.images.map((i) => [i.file, i.imageIndex, i.bytes])).toEqual([['app.bin', 0, img]]);
    expect(pkg).toEqual(readDfuPackage(zip));
  });

  it('stops an entry that inflates past its declared size, and checks the CRC-32', async () => {
    const bomb = deflateRawSync(new Uint8Array(4 * 1024 * 1024), { level: 9 });
    const zip = makeZip([{ name: 'manifest.json', data: new Uint8Array(0), body: bomb, deflate: true, declaredSize: 1000 }]);
    expect(await failure(readDfuPackageAsync(zip))).toMatch(/^too-large: ZIP entry manifest.json inflates to more than the 1000 bytes/);
    const damaged = makeZip([{ name: 'manifest.json', data: manifest('x'), deflate: true, crc: 1234 }]);
    expect(await failure(readDfuPackageAsync(damaged))).toBe('hash-mismatch: ZIP entry manifest.json is damaged (CRC-32 mismatch)');
    expect(await failure(readDfuPackageAsync(new TextEncoder().encode('not a zip at all, longer than 22 bytes')))).toMatch(/^truncated: not a ZIP file/);
  });
});
