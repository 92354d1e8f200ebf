// Reading Zephyr's dfu_application.zip in Node (node:zlib inflates); the format itself is read in dfu-zip.ts.
import { inflateRawSync } from 'node:zlib';
import { checkedEntry, dfuPackageFromEntries, ZIP_LIMITS, zipEntries, type DfuPackage, type ZipEntry } from './dfu-zip.js';
import { ImageError } from './errors.js';

export { dfuPackageFromEntries, readDfuPackageAsync, ZIP_LIMITS, zipEntries } from './dfu-zip.js';
export type { DfuPackage, PackageImage, RawZipEntry, ZipEntry } from './dfu-zip.js';

/**
 * Minimal ZIP reader (stored and deflate entries, via the central directory). Untrusted input: each entry inflates
 * to at most its declared size, within ZIP_LIMITS, and must match its CRC-32; ZIP64 archives are refused.
 */
export function readZip(bytes: Uint8Array, limits = ZIP_LIMITS): ZipEntry[] {
  return zipEntries(bytes, limits).map((e) => checkedEntry(e, e.deflated ? inflateAtMost(e.raw, e.size, e.name) : e.raw.slice()));
}

/** Inflates at most `size` bytes: a deflate stream that would grow past its declared size is refused, not expanded. */
function inflateAtMost(raw: Uint8Array, size: number, name: string): Uint8Array {
  try {
    // One byte more than declared, so that a stream longer than declared is caught by the size check.
    return new Uint8Array(inflateRawSync(raw, { maxOutputLength: size + 1 }));
  } catch (err) {
    const tooLarge = (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
    throw new ImageError(
      tooLarge ? 'too-large' : 'truncated',
      tooLarge ? `ZIP entry ${name} inflates to more than the ${size} bytes it declares` : `ZIP entry ${name} is damaged: ${(err as Error).message}`,
    );
  }
}

/** Read a Zephyr dfu_application.zip: manifest.json lists files with image_index and file name. */
export function readDfuPackage(zip: Uint8Array): DfuPackage {
  return dfuPackageFromEntries(readZip(zip));
}
