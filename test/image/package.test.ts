import { describe, it, expect } from 'vitest';
import { readDfuPackage, readZip, ImageError } from '../../src/image/node.js';
import { fx } from './fixtures.js';
import { makeZip } from '../helpers/zip.js';
import { deflateRawSync } from 'node:zlib';

const manifestJson = (files: object[]) => new TextEncoder().encode(JSON.stringify({ 'format-version': 0, files, name: 'smp_svr' }));

describe('dfu_application.zip', () => {
  it('reads a two-image package, sorted by image_index', () => {
    const zip = makeZip([
      {
        name: 'manifest.json',
        data: manifestJson([
          { type: 'application', image_index: '1', file: 'net.signed.bin', version_MCUBOOT: '1.2.3+456' },
          { type: 'application', image_index: '0', file: 'app.signed.bin', version_MCUBOOT: '1.2.3+0' },
        ]),
        deflate: true,
      },
      { name: 'app.signed.bin', data: fx('ed25519/base.bin'), deflate: true },
      { name: 'net.signed.bin', data: fx('hash-only/version_build.bin') },
    ]);
    const pkg = readDfuPackage(zip);
    expect(pkg.images.map((i) => [i.imageIndex, i.file, i.image.header.version.build])).toEqual([
      [0, 'app.signed.bin', 0],
      [1, 'net.signed.bin', 456],
    ]);
    expect(pkg.images[0]!.bytes.length).toBe(fx('ed25519/base.bin').length);
    expect(readZip(zip).map((e) => e.name)).toEqual(['manifest.json', 'app.signed.bin', 'net.signed.bin']);
  });
  it('errors', () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(ImageError);
        return (e as ImageError).code;
      }
      return 'none';
    };
    expect(code(() => readDfuPackage(new Uint8Array(40)))).toBe('truncated');
    expect(code(() => readDfuPackage(makeZip([{ name: 'x.bin', data: new Uint8Array(3) }])))).toBe('truncated');
    expect(code(() => readDfuPackage(makeZip([{ name: 'manifest.json', data: manifestJson([{ image_index: '0', file: 'missing.bin' }]) }])))).toBe('truncated');
    expect(code(() => readDfuPackage(makeZip([{ name: 'manifest.json', data: new TextEncoder().encode('{') }])))).toBe('bad-option');
    expect(
      code(() =>
        readDfuPackage(
          makeZip([
            { name: 'manifest.json', data: manifestJson([{ image_index: '0', file: 'a.bin' }]) },
            { name: 'a.bin', data: fx('broken/wrong_magic.bin') },
          ]),
        ),
      ),
    ).toBe('bad-magic');
    expect(() =>
      readDfuPackage(
        makeZip([
          { name: 'manifest.json', data: manifestJson([{ image_index: '0', file: 'a.bin' }]) },
          { name: 'a.bin', data: fx('broken/wrong_magic.bin') },
        ]),
      ),
    ).toThrow(/^a\.bin: /);
    expect(() =>
      readDfuPackage(
        makeZip([
          {
            name: 'manifest.json',
            data: manifestJson([
              { image_index: '1', file: 'a.bin' },
              { image_index: 1, file: 'b.bin' },
            ]),
          },
          { name: 'a.bin', data: fx('ed25519/base.bin') },
          { name: 'b.bin', data: fx('ed25519/base.bin') },
        ]),
      ),
    ).toThrow('DFU package manifest lists two files for image_index 1');
  });

  describe('hostile archives', () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(ImageError);
        return `${(e as ImageError).code}: ${(e as Error).message}`;
      }
      return 'none';
    };
    // 4 MiB of zeros deflate to about 4 KB (400 MB would to 389 KB).
    const bomb = () => {
      const chunk = deflateRawSync(new Uint8Array(4 * 1024 * 1024), { level: 9 });
      expect(chunk.length).toBeLessThan(8 * 1024);
      return chunk;
    };

    it('a zip bomb that declares its true size is refused before inflating', () => {
      const body = bomb();
      expect(code(() => readZip(makeZip([{ name: 'a.bin', data: new Uint8Array(0), body, deflate: true, declaredSize: 400_000_000 }])))).toMatch(
        /^too-large: ZIP entry a.bin declares 400000000 bytes, more than the 67108864/,
      );
    });

    it('an entry that inflates past the size it declares is stopped there', () => {
      const zip = makeZip([{ name: 'a.bin', data: new Uint8Array(0), body: bomb(), deflate: true, declaredSize: 1000 }]);
      const used = process.memoryUsage().arrayBuffers;
      expect(code(() => readZip(zip))).toMatch(/^too-large: ZIP entry a.bin inflates to more than the 1000 bytes it declares/);
      expect(process.memoryUsage().arrayBuffers - used).toBeLessThan(1024 * 1024);
    });

    it('many entries whose sizes add up past the total limit are refused', () => {
      const entries = Array.from({ length: 3 }, (_, i) => ({
        name: `e${i}`,
        data: new Uint8Array(0),
        body: new Uint8Array(0),
        declaredSize: 60 * 1024 * 1024,
      }));
      expect(code(() => readZip(makeZip(entries)))).toMatch(/^too-large: ZIP entries declare more than 134217728 bytes in all/);
    });

    it('a damaged entry fails its CRC-32; a short one its declared size', () => {
      const data = new TextEncoder().encode('manifest');
      expect(code(() => readZip(makeZip([{ name: 'm', data, crc: 1234 }])))).toBe('hash-mismatch: ZIP entry m is damaged (CRC-32 mismatch)');
      expect(code(() => readZip(makeZip([{ name: 'm', data, deflate: true, declaredSize: 100 }])))).toMatch(
        /^truncated: ZIP entry m holds 8 bytes, not the 100/,
      );
    });

    it('ZIP64 archives and sizes are refused', () => {
      const zip = makeZip([{ name: 'a', data: new Uint8Array(4) }]);
      const locator = Buffer.alloc(20);
      locator.writeUInt32LE(0x07064b50, 0);
      const eocd = zip.length - 22;
      const zip64 = Buffer.concat([zip.subarray(0, eocd), locator, zip.subarray(eocd)]);
      expect(code(() => readZip(zip64))).toMatch(/^bad-option: ZIP64 archives are not supported/);
      expect(code(() => readZip(makeZip([{ name: 'a', data: new Uint8Array(4), declaredSize: 0xffffffff }])))).toMatch(
        /^bad-option: ZIP entry a uses ZIP64 sizes/,
      );
    });
  });
});
