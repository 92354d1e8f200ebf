/** Emulated flash: two slots per image, each a file of `slotSize` bytes (erased = 0xFF), MCUboot trailer at the end (§4.5). */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { bootMagic, encodeTrailerByte, parseTrailer, trailerOffsets, trailerSize, type Trailer } from '../image/trailer.js';
import { writeFileAtomic } from './persist.js';

const BOOT_MAX_ALIGN = 8;
const ERASED = 0xff;

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

  // --- MCUboot trailer (BOOT_MAX_ALIGN 8, write size 8) ---
  /** Bytes at the end of a slot reserved for the trailer (magic, flags, swap size, swap status). */
  get trailerSize(): number {
    return trailerSize(BOOT_MAX_ALIGN);
  }

  readTrailer(slot: number): Trailer {
    return parseTrailer(this.read(slot), BOOT_MAX_ALIGN, ERASED);
  }

  writeTrailer(slot: number, fields: { magic?: boolean; imageOk?: boolean; copyDone?: boolean; swapInfo?: number }): void {
    const at = trailerOffsets(this.slotSize, BOOT_MAX_ALIGN);
    if (fields.swapInfo !== undefined) this.write(slot, at.swapInfo, encodeTrailerByte(fields.swapInfo, BOOT_MAX_ALIGN, ERASED));
    if (fields.copyDone) this.write(slot, at.copyDone, encodeTrailerByte(1, BOOT_MAX_ALIGN, ERASED));
    if (fields.imageOk) this.write(slot, at.imageOk, encodeTrailerByte(1, BOOT_MAX_ALIGN, ERASED));
    if (fields.magic) this.write(slot, at.magic, bootMagic(BOOT_MAX_ALIGN));
  }

  eraseTrailer(slot: number): void {
    this.erase(slot, this.slotSize - this.trailerSize, this.trailerSize);
  }
}
