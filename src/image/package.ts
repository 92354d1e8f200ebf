// Reading Zephyr's dfu_application.zip in Node (node:zlib inflates); the format itself is read in dfu-zip.ts.
import { inflateRawSync } from 'node:zlib';
import { dfuPackageFromEntries, zipEntries, type DfuPackage, type ZipEntry } from './dfu-zip.js';

export { dfuPackageFromEntries, readDfuPackageAsync, zipEntries } from './dfu-zip.js';
export type { DfuPackage, PackageImage, RawZipEntry, ZipEntry } from './dfu-zip.js';

/** Minimal ZIP reader (stored and deflate entries, via the central directory). */
export function readZip(bytes: Uint8Array): ZipEntry[] {
  return zipEntries(bytes).map((e) => ({ name: e.name, data: e.deflated ? new Uint8Array(inflateRawSync(e.raw)) : e.raw.slice() }));
}

/** Read a Zephyr dfu_application.zip: manifest.json lists files with image_index and file name. */
export function readDfuPackage(zip: Uint8Array): DfuPackage {
  return dfuPackageFromEntries(readZip(zip));
}
