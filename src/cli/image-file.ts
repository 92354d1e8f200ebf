/** Reads an MCUboot image file and refuses anything else with a clear message. */
import { readFileSync } from 'node:fs';
import { UsageError } from './connect.js';
import { formatVersion, ihexToBinary, imageByteOrder, parseImage, type McubootImage } from '../image/index.js';

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

/** A text file (a PEM key, a base64 signature); `what` names it in the error. */
export function readTextFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    throw new UsageError(`cannot read the ${what} ${path}`);
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

/** Largest slot an Intel HEX image may span once the gap before a padded image's trailer is filled as erased flash. */
const MAX_HEX_IMAGE = 64 * 1024 * 1024;

/**
 * An Intel HEX file holding one contiguous image becomes that image's bytes; any other file stays as it is. With
 * `fillGaps`, a gap (imgtool's padded .hex has only the trailer at the slot's end) is read as erased flash.
 */
export function binaryFromFile(path: string, file: Uint8Array, fillGaps = false): Uint8Array {
  if (file.length === 0 || file[0] !== 0x3a) return file;
  try {
    return ihexToBinary(new TextDecoder().decode(file), fillGaps ? { fill: 0xff, maxSize: MAX_HEX_IMAGE } : undefined).data;
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
  if (bytes.length < 32 || imageByteOrder(bytes) === undefined) {
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
