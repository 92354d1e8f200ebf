// Reading Zephyr's dfu_application.zip (manifest.json + signed images; image_index says which image each file is).
import { crc32, inflateRawSync } from 'node:zlib';
import { ImageError } from './errors.js';
import { parseImage, type McubootImage } from './image.js';

export interface ZipEntry {
  name: string;
  data: Uint8Array;
}

/** Largest entry a DFU package may inflate to, and all its entries together (images are a few MiB at most). */
export const ZIP_LIMITS = { entryBytes: 64 * 1024 * 1024, totalBytes: 128 * 1024 * 1024 };

const ZIP64_LOCATOR = 0x07064b50;
const MAX_32 = 0xffffffff;

/**
 * Minimal ZIP reader (stored and deflate entries, via the central directory). Untrusted input: each entry inflates
 * to at most its declared size, within ZIP_LIMITS, and must match its CRC-32; ZIP64 archives are refused.
 */
export function readZip(bytes: Uint8Array, limits = ZIP_LIMITS): ZipEntry[] {
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
      throw new ImageError('too-large', `ZIP entry ${entry.name} declares ${entry.size} bytes, more than the ${limits.entryBytes} a DFU package entry may hold`);
    }
    entries.push(entry);
  }
  // Checked before anything is inflated; each entry then inflates to its declared size at most.
  if (entries.reduce((sum, e) => sum + e.size, 0) > limits.totalBytes) throw new ImageError('too-large', `ZIP entries declare more than ${limits.totalBytes} bytes in all`);
  const out: ZipEntry[] = [];
  for (const { name, method, crc, csize, size, local } of entries) {
    if (local + 30 > bytes.length || dv.getUint32(local, true) !== 0x04034b50) throw new ImageError('truncated', `ZIP entry ${name}: bad local header`);
    const start = local + 30 + dv.getUint16(local + 26, true) + dv.getUint16(local + 28, true);
    if (start + csize > bytes.length) throw new ImageError('truncated', `ZIP entry ${name} is truncated`);
    const raw = bytes.subarray(start, start + csize);
    let data: Uint8Array;
    if (method === 0) data = raw.slice();
    else if (method === 8) data = inflateAtMost(raw, size, name);
    else throw new ImageError('bad-option', `ZIP entry ${name} uses unsupported compression method ${method}`);
    if (data.length !== size) throw new ImageError('truncated', `ZIP entry ${name} holds ${data.length} bytes, not the ${size} its directory declares`);
    if (crc32(data) !== crc) throw new ImageError('hash-mismatch', `ZIP entry ${name} is damaged (CRC-32 mismatch)`);
    if (!name.endsWith('/')) out.push({ name, data });
  }
  return out;
}

/** Inflates at most `size` bytes: a deflate stream that would grow past its declared size is refused, not expanded. */
function inflateAtMost(raw: Uint8Array, size: number, name: string): Uint8Array {
  try {
    // One byte more than declared, so that a stream longer than declared is caught by the size check.
    return new Uint8Array(inflateRawSync(raw, { maxOutputLength: size + 1 }));
  } catch (err) {
    const tooLarge = (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
    throw new ImageError(tooLarge ? 'too-large' : 'truncated', tooLarge ? `ZIP entry ${name} inflates to more than the ${size} bytes it declares` : `ZIP entry ${name} is damaged: ${(err as Error).message}`);
  }
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

/** Read a Zephyr dfu_application.zip: manifest.json lists files with image_index and file name. */
export function readDfuPackage(zip: Uint8Array): DfuPackage {
  const entries = readZip(zip);
  const byName = new Map(entries.map((e) => [e.name, e.data]));
  const mf = byName.get('manifest.json');
  if (!mf) throw new ImageError('truncated', 'DFU package has no manifest.json');
  let manifest: Record<string, unknown>;
  try {
    manifest = JSON.parse(new TextDecoder().decode(mf)) as Record<string, unknown>;
  } catch (e) {
    throw new ImageError('bad-option', `DFU package manifest.json is not valid JSON: ${(e as Error).message}`);
  }
  const files = manifest['files'];
  if (!Array.isArray(files)) throw new ImageError('bad-option', 'DFU package manifest.json has no "files" list');
  const images: PackageImage[] = files.map((f: Record<string, unknown>) => {
    const file = String(f['file'] ?? '');
    const bytes = byName.get(file);
    if (!bytes) throw new ImageError('truncated', `DFU package manifest lists ${file || '(no file)'}, which is not in the ZIP`);
    const imageIndex = Number(f['image_index'] ?? 0);
    if (!Number.isInteger(imageIndex) || imageIndex < 0) throw new ImageError('bad-option', `bad image_index ${String(f['image_index'])} for ${file}`);
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
