/** Emulated flash: two slots per image, each a file of `slotSize` bytes (erased = 0xFF), MCUboot trailer at the end (§4.5). */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from './persist.js';

export const BOOT_MAX_ALIGN = 8;
export const BOOT_MAGIC = Uint8Array.from([0x77, 0xc2, 0x95, 0xf3, 0x60, 0xd2, 0xef, 0x7f, 0x35, 0x52, 0x50, 0x0f, 0x2c, 0xb6, 0x79, 0x80]);
export const ERASED = 0xff;

export type MagicState = 'good' | 'unset' | 'bad';
export type FlagState = 'set' | 'unset' | 'bad';

export interface Trailer {
  magic: MagicState;
  imageOk: FlagState;
  copyDone: FlagState;
  /** Low nibble of swap_info (0 when erased). */
  swapType: number;
}

export class Flash {
  private readonly slots: Buffer[] = [];
  /** Counters reported by the flash_sim_stats statistics group. */
  readonly stats = { bytes_read: 0, bytes_written: 0, double_writes: 0, flash_read_calls: 0, flash_read_time_us: 0, flash_write_calls: 0, flash_write_time_us: 0, flash_erase_calls: 0, flash_erase_time_us: 0 };

  constructor(
    readonly dir: string,
    readonly slotCount: number,
    readonly slotSize: number,
  ) {
    mkdirSync(dir, { recursive: true });
    for (let s = 0; s < slotCount; s++) {
      const path = this.path(s);
      let buf: Buffer;
      if (existsSync(path)) {
        buf = readFileSync(path);
        if (buf.length !== slotSize) {
          const fixed = Buffer.alloc(slotSize, ERASED);
          buf.copy(fixed, 0, 0, Math.min(buf.length, slotSize));
          buf = fixed;
          writeFileAtomic(path, buf);
        }
      } else {
        buf = Buffer.alloc(slotSize, ERASED);
        writeFileAtomic(path, buf);
      }
      this.slots.push(buf);
    }
  }

  private path(slot: number): string {
    return join(this.dir, `slot${slot}.bin`);
  }

  hasSlot(slot: number): boolean {
    return Number.isInteger(slot) && slot >= 0 && slot < this.slotCount;
  }

  /** The slot's content (live view; do not modify, use write/erase). */
  read(slot: number): Buffer {
    const b = this.slots[slot];
    if (!b) throw new RangeError(`no flash slot ${slot}`);
    return b;
  }

  write(slot: number, offset: number, data: Uint8Array): void {
    const b = this.read(slot);
    if (offset < 0 || offset + data.length > b.length) throw new RangeError('flash write out of the slot');
    b.set(data, offset);
    this.stats.flash_write_calls++;
    this.stats.bytes_written += data.length;
    const fd = openSync(this.path(slot), 'r+');
    try {
      writeSync(fd, data, 0, data.length, offset);
    } finally {
      closeSync(fd);
    }
  }

  erase(slot: number, offset = 0, length?: number): void {
    const b = this.read(slot);
    const end = length === undefined ? b.length : Math.min(b.length, offset + length);
    b.fill(ERASED, offset, end);
    this.stats.flash_erase_calls++;
    writeFileAtomic(this.path(slot), b);
  }

  /** Replaces a whole slot at once (used by the swap). */
  replace(slot: number, content: Uint8Array): void {
    const b = this.read(slot);
    b.fill(ERASED);
    b.set(content.subarray(0, b.length));
    writeFileAtomic(this.path(slot), b);
  }

  // --- MCUboot trailer (A = 8) ---
  get magicOff(): number {
    return this.slotSize - 16;
  }
  get imageOkOff(): number {
    return this.slotSize - 24;
  }
  get copyDoneOff(): number {
    return this.slotSize - 32;
  }
  get swapInfoOff(): number {
    return this.slotSize - 40;
  }
  /** Bytes at the end of a slot reserved for the trailer (magic, flags, swap size, swap status). */
  get trailerSize(): number {
    return 48 + 128 * BOOT_MAX_ALIGN * 3;
  }

  readTrailer(slot: number): Trailer {
    const b = this.read(slot);
    const magicBytes = b.subarray(this.magicOff, this.magicOff + 16);
    const magic: MagicState = Buffer.from(BOOT_MAGIC).equals(magicBytes)
      ? 'good'
      : magicBytes.every((x) => x === ERASED)
        ? 'unset'
        : 'bad';
    const flag = (v: number): FlagState => (v === 1 ? 'set' : v === ERASED ? 'unset' : 'bad');
    const swapInfo = b[this.swapInfoOff]!;
    return {
      magic,
      imageOk: flag(b[this.imageOkOff]!),
      copyDone: flag(b[this.copyDoneOff]!),
      swapType: swapInfo === ERASED ? 0 : swapInfo & 0x0f,
    };
  }

  writeTrailer(slot: number, fields: { magic?: boolean; imageOk?: boolean; copyDone?: boolean; swapInfo?: number }): void {
    if (fields.swapInfo !== undefined) this.write(slot, this.swapInfoOff, padded(fields.swapInfo));
    if (fields.copyDone) this.write(slot, this.copyDoneOff, padded(1));
    if (fields.imageOk) this.write(slot, this.imageOkOff, padded(1));
    if (fields.magic) this.write(slot, this.magicOff, BOOT_MAGIC);
  }

  eraseTrailer(slot: number): void {
    this.erase(slot, this.slotSize - this.trailerSize, this.trailerSize);
  }
}

function padded(value: number): Uint8Array {
  const out = new Uint8Array(BOOT_MAX_ALIGN).fill(ERASED);
  out[0] = value;
  return out;
}
