// Reading Zephyr's dfu_application.zip (manifest.json + signed images; image_index says which image each file is).
// Pure: the caller inflates (node:zlib in package.ts, DecompressionStream in browsers).
import { ImageError } from './errors.js';
import { parseImage, type McubootImage } from './image.js';

export interface ZipEntry {
  name: string;
  data: Uint8Array;
}

export interface RawZipEntry {
  name: string;
  /** Deflate (method 8) when true, stored (method 0) otherwise. */
  deflated: boolean;
  raw: Uint8Array;
}

/** The entries of a ZIP file (via its central directory), still compressed. */
export function zipEntries(bytes: Uint8Array): RawZipEntry[] {
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
  const dec = new TextDecoder();
  const out: RawZipEntry[] = [];
  for (let n = 0; n < count; n++) {
    if (p + 46 > bytes.length || dv.getUint32(p, true) !== 0x02014b50) throw new ImageError('truncated', 'ZIP central directory is damaged');
    const method = dv.getUint16(p + 10, true);
    const csize = dv.getUint32(p + 20, true);
    const nameLen = dv.getUint16(p + 28, true);
    const extraLen = dv.getUint16(p + 30, true);
    const commentLen = dv.getUint16(p + 32, true);
    const local = dv.getUint32(p + 42, true);
    const name = dec.decode(bytes.subarray(p + 46, p + 46 + nameLen));
    p += 46 + nameLen + extraLen + commentLen;
    if (local + 30 > bytes.length || dv.getUint32(local, true) !== 0x04034b50) throw new ImageError('truncated', `ZIP entry ${name}: bad local header`);
    const start = local + 30 + dv.getUint16(local + 26, true) + dv.getUint16(local + 28, true);
    if (start + csize > bytes.length) throw new ImageError('truncated', `ZIP entry ${name} is truncated`);
    if (method !== 0 && method !== 8) throw new ImageError('bad-option', `ZIP entry ${name} uses unsupported compression method ${method}`);
    if (!name.endsWith('/')) out.push({ name, deflated: method === 8, raw: bytes.subarray(start, start + csize) });
  }
  return out;
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

async function inflateRaw(raw: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([raw as BlobPart]).stream().pipeThrough(new DecompressionStream('deflate-raw'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Reads a dfu_application.zip with the platform's DecompressionStream (browsers; no node:zlib). */
export async function readDfuPackageAsync(zip: Uint8Array): Promise<DfuPackage> {
  const entries = await Promise.all(
    zipEntries(zip).map(async (e) => ({ name: e.name, data: e.deflated ? await inflateRaw(e.raw) : e.raw.slice() })),
  );
  return dfuPackageFromEntries(entries);
}
