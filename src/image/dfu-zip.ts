// Reading Zephyr's dfu_application.zip (manifest.json + signed images; image_index says which image each file is).
// Pure: the caller inflates (node:zlib in package.ts, DecompressionStream in browsers).
import { crc32 } from '../protocol/crc32.js';
import { ImageError } from './errors.js';
import { parseImage, type McubootImage } from './image.js';

export interface ZipEntry {
  name: string;
  data: Uint8Array;
}

/** An entry as stored: `raw` is deflated (method 8) when `deflated`, else stored (method 0). */
export interface RawZipEntry {
  name: string;
  deflated: boolean;
  /** Declared size and CRC-32 of the inflated bytes. */
  size: number;
  crc: number;
  raw: Uint8Array;
}

/** Largest entry a DFU package may inflate to, and all its entries together (images are a few MiB at most). */
export const ZIP_LIMITS = { entryBytes: 64 * 1024 * 1024, totalBytes: 128 * 1024 * 1024 };

const ZIP64_LOCATOR = 0x07064b50;
const MAX_32 = 0xffffffff;

/**
 * The entries of a ZIP file (via its central directory), still compressed. Untrusted input: declared sizes are
 * checked against ZIP_LIMITS before anything is inflated, and ZIP64 archives are refused.
 */
export function zipEntries(bytes: Uint8Array, limits = ZIP_LIMITS): RawZipEntry[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 0xffff); i--) {
    if (dv.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new ImageError('truncated', 'not a ZIP file: end of central directory not found');
  const count = dv.getUint16(eocd + 10, true);
  let p = dv.getUint32(eocd + 16, true);
  if ((eocd >= 20 && dv.getUint32(eocd - 20, true) === ZIP64_LOCATOR) || count === 0xffff || p === MAX_32) {
    throw new ImageError('bad-option', 'ZIP64 archives are not supported (a DFU package is far smaller than 4 GiB)');
  }
  const dec = new TextDecoder();
  const entries: { name: string; method: number; crc: number; csize: number; size: number; local: number }[] = [];
  for (let n = 0; n < count; n++) {
    if (p + 46 > bytes.length || dv.getUint32(p, true) !== 0x02014b50) throw new ImageError('truncated', 'ZIP central directory is damaged');
    const nameLen = dv.getUint16(p + 28, true);
    const entry = {
      name: dec.decode(bytes.subarray(p + 46, p + 46 + nameLen)),
      method: dv.getUint16(p + 10, true),
      crc: dv.getUint32(p + 16, true),
      csize: dv.getUint32(p + 20, true),
      size: dv.getUint32(p + 24, true),
      local: dv.getUint32(p + 42, true),
    };
    p += 46 + nameLen + dv.getUint16(p + 30, true) + dv.getUint16(p + 32, true);
    if (entry.csize === MAX_32 || entry.size === MAX_32 || entry.local === MAX_32) {
      throw new ImageError('bad-option', `ZIP entry ${entry.name} uses ZIP64 sizes, which are not supported`);
    }
    if (entry.size > limits.entryBytes) {
      throw new ImageError(
        'too-large',
        `ZIP entry ${entry.name} declares ${entry.size} bytes, more than the ${limits.entryBytes} a DFU package entry may hold`,
      );
    }
    entries.push(entry);
  }
  // Checked before anything is inflated; each entry then inflates to its declared size at most.
  if (entries.reduce((sum, e) => sum + e.size, 0) > limits.totalBytes)
    throw new ImageError('too-large', `ZIP entries declare more than ${limits.totalBytes} bytes in all`);
  const out: RawZipEntry[] = [];
  for (const { name, method, crc, csize, size, local } of entries) {
    if (local + 30 > bytes.length || dv.getUint32(local, true) !== 0x04034b50) throw new ImageError('truncated', `ZIP entry ${name}: bad local header`);
    const start = local + 30 + dv.getUint16(local + 26, true) + dv.getUint16(local + 28, true);
    if (start + csize > bytes.length) throw new ImageError('truncated', `ZIP entry ${name} is truncated`);
    if (method !== 0 && method !== 8) throw new ImageError('bad-option', `ZIP entry ${name} uses unsupported compression method ${method}`);
    if (!name.endsWith('/')) out.push({ name, deflated: method === 8, crc, size, raw: bytes.subarray(start, start + csize) });
  }
  return out;
}

/** The entry with its inflated bytes, once they have the declared size and CRC-32. */
export function checkedEntry(entry: RawZipEntry, data: Uint8Array): ZipEntry {
  const { name, size, crc } = entry;
  if (data.length !== size) throw new ImageError('truncated', `ZIP entry ${name} holds ${data.length} bytes, not the ${size} its directory declares`);
  if (crc32(data) !== crc) throw new ImageError('hash-mismatch', `ZIP entry ${name} is damaged (CRC-32 mismatch)`);
  return { name, data };
}

export interface PackageImage {
  imageIndex: number;
  file: string;
  bytes: Uint8Array;
  image: McubootImage;
  /** The manifest entry as written. */
  meta: Record<string, unknown>;
}

export interface DfuPackage {
  manifest: Record<string, unknown>;
  images: PackageImage[];
}

/** The DFU package in a ZIP's entries: manifest.json lists files with image_index and file name. */
export function dfuPackageFromEntries(entries: ZipEntry[]): DfuPackage {
  const byName = new Map(entries.map((e) => [e.name, e.data]));
  const mf = byName.get('manifest.json');
  if (!mf) throw new ImageError('truncated', 'DFU package has no manifest.json');
  let manifest: Record<string, unknown>;
  try {
    manifest = JSON.parse(new TextDecoder().decode(mf)) as Record<string, unknown>;
  } catch (e) {
    throw new ImageError('bad-option', `DFU package manifest.json is not valid JSON: ${(e as Error).message}`);
  }
  const files = manifest.files;
  if (!Array.isArray(files)) throw new ImageError('bad-option', 'DFU package manifest.json has no "files" list');
  const images: PackageImage[] = files.map((f: Record<string, unknown>) => {
    const file = String(f.file ?? '');
    const bytes = byName.get(file);
    if (!bytes) throw new ImageError('truncated', `DFU package manifest lists ${file || '(no file)'}, which is not in the ZIP`);
    const imageIndex = Number(f.image_index ?? 0);
    if (!Number.isInteger(imageIndex) || imageIndex < 0) throw new ImageError('bad-option', `bad image_index ${String(f.image_index)} for ${file}`);
    let image: McubootImage;
    try {
      image = parseImage(bytes);
    } catch (e) {
      if (e instanceof ImageError) throw new ImageError(e.code, `${file}: ${e.message}`);
      throw e;
    }
    return { imageIndex, file, bytes, image, meta: f };
  });
  images.sort((a, b) => a.imageIndex - b.imageIndex);
  const twice = images.find((img, i) => i > 0 && images[i - 1]!.imageIndex === img.imageIndex);
  if (twice) throw new ImageError('bad-option', `DFU package manifest lists two files for image_index ${twice.imageIndex}`);
  return { manifest, images };
}

/** Inflates at most `size` bytes with the platform's DecompressionStream (one more is read to catch a longer stream). */
async function inflateAtMost(raw: Uint8Array, size: number, name: string): Promise<Uint8Array> {
  const reader = new Blob([raw as BlobPart]).stream().pipeThrough(new DecompressionStream('deflate-raw')).getReader();
  const out = new Uint8Array(size + 1);
  let length = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return out.slice(0, length);
      if (length + value.length > size) throw new ImageError('too-large', `ZIP entry ${name} inflates to more than the ${size} bytes it declares`);
      out.set(value, length);
      length += value.length;
    }
  } catch (err) {
    if (err instanceof ImageError) throw err;
    throw new ImageError('truncated', `ZIP entry ${name} is damaged: ${(err as Error).message}`);
  } finally {
    reader.cancel().catch(() => undefined);
  }
}

/** Reads a dfu_application.zip with DecompressionStream (browsers; no node:zlib), with the limits of zipEntries. */
export async function readDfuPackageAsync(zip: Uint8Array, limits = ZIP_LIMITS): Promise<DfuPackage> {
  const entries: ZipEntry[] = [];
  for (const e of zipEntries(zip, limits)) entries.push(checkedEntry(e, e.deflated ? await inflateAtMost(e.raw, e.size, e.name) : e.raw.slice()));
  return dfuPackageFromEntries(entries);
}
