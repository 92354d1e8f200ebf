/** Reads an MCUboot image file and refuses anything else with a clear message. */
import { readFileSync } from 'node:fs';
import { UsageError } from './connect.js';
import { formatVersion, IMAGE_MAGIC, ihexToBinary, parseImage, type McubootImage } from '../image/index.js';

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
  if (b.length >= 2 && b[0] === 0x50 && b[1] === 0x4b) return 'a ZIP archive (`image upload` takes a dfu_application.zip)';
  return 'not an MCUboot image';
}

/** An Intel HEX file holding one contiguous image becomes that image's bytes; any other file stays as it is. */
export function binaryFromFile(path: string, file: Uint8Array): Uint8Array {
  if (file.length === 0 || file[0] !== 0x3a) return file;
  try {
    return ihexToBinary(new TextDecoder().decode(file)).data;
  } catch (err) {
    throw new UsageError(`${path} is an Intel HEX file that cannot be converted: ${(err as Error).message}`);
  }
}

export function parseImageFile(path: string): ImageFileInfo {
  return parseImageBytes(path, readLocalFile(path));
}

/** The contents of `path` as an MCUboot image (Intel HEX converted), or a UsageError saying what the file is instead. */
export function parseImageBytes(path: string, file: Uint8Array): ImageFileInfo {
  const bytes = binaryFromFile(path, file);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 32 || dv.getUint32(0, true) !== IMAGE_MAGIC) {
    throw new UsageError(
      `${path} is ${describe(bytes)}: it does not start with the MCUboot header magic 0x96f3b83d. ` +
        'Upload a signed MCUboot image (Zephyr builds produce zephyr.signed.bin; or sign the binary with ' +
        '`imgtool sign`).',
    );
  }
  let img: McubootImage;
  try {
    img = parseImage(bytes);
  } catch (err) {
    throw new UsageError(`${path} has an MCUboot header but is not a valid image: ${(err as Error).message}`);
  }
  return { bytes, version: formatVersion(img.header.version), ...(img.hash ? { hash: img.hash } : {}) };
}
