/** MCUboot image trailer helpers (reference §4.5). */

export const BOOT_MAGIC = new Uint8Array([0x77, 0xc2, 0x95, 0xf3, 0x60, 0xd2, 0xef, 0x7f, 0x35, 0x52, 0x50, 0x0f, 0x2c, 0xb6, 0x79, 0x80]);
const ALT_MAGIC_TAIL = [0x2d, 0xe1, 0x5d, 0x29, 0x41, 0x0b, 0x8d, 0x77, 0x67, 0x9c, 0x11, 0x0f, 0x1f, 0x8a];

/** Trailer magic for a given BOOT_MAX_ALIGN (standard magic when 8). */
export function bootMagic(maxAlign = 8): Uint8Array {
  if (maxAlign === 8) return BOOT_MAGIC.slice();
  return new Uint8Array([maxAlign & 0xff, (maxAlign >> 8) & 0xff, ...ALT_MAGIC_TAIL]);
}

const alignUp = (n: number, a: number) => Math.ceil(n / a) * a;

/** Offsets (from the slot start) of trailer fields for a slot of `slotSize` bytes. */
export function trailerOffsets(slotSize: number, maxAlign = 8) {
  const magic = slotSize - 16;
  const imageOk = slotSize - alignUp(16, maxAlign) - maxAlign;
  const copyDone = imageOk - maxAlign;
  const swapInfo = copyDone - maxAlign;
  const swapSize = swapInfo - maxAlign;
  return { magic, imageOk, copyDone, swapInfo, swapSize };
}

export type MagicState = 'good' | 'unset' | 'bad';
export type FlagState = 'set' | 'unset' | 'bad';

export interface Trailer {
  magic: MagicState;
  imageOk: FlagState;
  copyDone: FlagState;
  swapInfo: number;
  swapSize: number;
}

function flag(b: number, erased: number): FlagState {
  return b === 0x01 ? 'set' : b === erased ? 'unset' : 'bad';
}

/** Read the trailer at the end of a slot image (the whole slot). */
export function parseTrailer(slot: Uint8Array, maxAlign = 8, erasedVal = 0xff): Trailer {
  const o = trailerOffsets(slot.length, maxAlign);
  const m = slot.subarray(o.magic, o.magic + 16);
  const want = bootMagic(maxAlign);
  const magic: MagicState = m.every((b, i) => b === want[i]) ? 'good' : m.every((b) => b === erasedVal) ? 'unset' : 'bad';
  const dv = new DataView(slot.buffer, slot.byteOffset, slot.byteLength);
  return {
    magic,
    imageOk: flag(slot[o.imageOk]!, erasedVal),
    copyDone: flag(slot[o.copyDone]!, erasedVal),
    swapInfo: slot[o.swapInfo]!,
    swapSize: dv.getUint32(o.swapSize, true),
  };
}

/** A one-byte trailer field (image_ok, copy_done, swap_info) as MCUboot writes it: the value, then erased bytes up to maxAlign. */
export function encodeTrailerByte(value: number, maxAlign = 8, erasedVal = 0xff): Uint8Array {
  const out = new Uint8Array(maxAlign).fill(erasedVal);
  out[0] = value;
  return out;
}

/** Bytes of a fresh trailer area (`size` bytes, erased), with magic and optionally image_ok set. */
export function buildTrailerTail(size: number, opts: { maxAlign?: number; confirm?: boolean; erasedVal?: number }): Uint8Array {
  const maxAlign = opts.maxAlign ?? 8;
  const out = new Uint8Array(size).fill(opts.erasedVal ?? 0xff);
  const magic = bootMagic(maxAlign);
  out.set(magic, size - magic.length);
  if (opts.confirm) out[size - alignUp(16, maxAlign) - maxAlign] = 0x01;
  return out;
}

/**
 * imgtool's trailer size (swap status area included, no encryption keys), used
 * to check that an image fits in its slot: m*3*sectors + m*4 + magic area.
 */
export function trailerSize(writeSize: number, maxSectors = 128, maxAlign = 8): number {
  const m = Math.max(writeSize, maxAlign);
  return m * 3 * maxSectors + m * 4 + alignUp(16, maxAlign);
}
