/** Reads an MCUboot image file and refuses anything else with a clear message. */
import { readFileSync } from 'node:fs';
import { UsageError } from './connect.js';
import { toHex } from './format.js';

export const IMAGE_MAGIC = 0x96f3b83d;
const TLV_INFO_MAGIC = 0x6907;
const TLV_PROT_INFO_MAGIC = 0x6908;
const TLV_SHA256 = 0x10;

export interface ImageFileInfo {
  bytes: Uint8Array;
  version: string;
  /** SHA-256 hash TLV (what `image list` shows once the image is on the device), when present. */
  hash?: Uint8Array;
}

export function readLocalFile(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') throw new UsageError(`open ${path}: no such file or directory`);
    if (e.code === 'EISDIR') throw new UsageError(`${path} is a directory, not a file`);
    throw new UsageError(`cannot read ${path}: ${e.message}`);
  }
}

function describe(bytes: Uint8Array): string {
  const b = bytes;
  const ascii = (n: number): string => String.fromCharCode(...b.subarray(0, n));
  if (b.length >= 4 && b[0] === 0x7f && ascii(4).slice(1) === 'ELF') return 'an ELF file (e.g. zephyr.elf)';
  if (b.length > 0 && b[0] === 0x3a) return 'an Intel HEX file (e.g. zephyr.hex)';
  if (b.length >= 2 && b[0] === 0x50 && b[1] === 0x4b) return 'a ZIP archive';
  return 'not an MCUboot image';
}

export function parseImageFile(path: string): ImageFileInfo {
  const bytes = readLocalFile(path);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 32 || dv.getUint32(0, true) !== IMAGE_MAGIC) {
    throw new UsageError(
      `${path} is ${describe(bytes)}: it does not start with the MCUboot header magic 0x96f3b83d. ` +
        'Upload a signed MCUboot image (Zephyr builds produce zephyr.signed.bin; or sign the binary with ' +
        '`imgtool sign` / `mcumgr-ts image sign`).',
    );
  }
  const hdrSize = dv.getUint16(8, true);
  const protSize = dv.getUint16(10, true);
  const imgSize = dv.getUint32(12, true);
  const build = dv.getUint32(24, true);
  const version = `${bytes[20]}.${bytes[21]}.${dv.getUint16(22, true)}${build ? `.${build}` : ''}`;
  let hash: Uint8Array | undefined;
  let off = hdrSize + imgSize;
  for (let guard = 0; guard < 2 && off + 4 <= bytes.length; guard++) {
    const magic = dv.getUint16(off, true);
    const tot = dv.getUint16(off + 2, true);
    if (magic !== TLV_INFO_MAGIC && magic !== TLV_PROT_INFO_MAGIC) break;
    let p = off + 4;
    const end = Math.min(off + tot, bytes.length);
    while (p + 4 <= end) {
      const type = dv.getUint16(p, true);
      const len = dv.getUint16(p + 2, true);
      if (magic === TLV_INFO_MAGIC && type === TLV_SHA256 && len === 32) hash = bytes.slice(p + 4, p + 4 + 32);
      p += 4 + len;
    }
    off += tot;
  }
  void protSize;
  return { bytes, version, ...(hash ? { hash } : {}) };
}

export { toHex };
