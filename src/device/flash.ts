/** Emulated flash: two slots per image, each a file of `slotSize` bytes (erased = 0xFF), MCUboot trailer at the end (§4.5). */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { bootMagic, encodeTrailerByte, parseTrailer, trailerOffsets, trailerSize, type Trailer } from '../image/trailer.js';
import { writeFileAtomic } from './persist.js';

const BOOT_MAX_ALIGN = 8;
const ERASED = 0xff;
/** Erase unit of the emulated flash (Zephyr's native_sim flash controller: 4 KiB erase blocks). */
export const SECTOR_SIZE = 4096;

/** One change to flash, told to `Flash.beforeChange` before it is made. */
export interface FlashChange {
  kind: 'write' | 'erase';
  slot: number;
  offset: number;
  length: number;
}

export class Flash {
  private readonly slots: Buffer[] = [];
  /** Counters reported by the flash_sim_stats statistics group. */
  readonly stats = {
    bytes_read: 0,
    bytes_written: 0,
    double_writes: 0,
    flash_read_calls: 0,
    flash_read_time_us: 0,
    flash_write_calls: 0,
    flash_write_time_us: 0,
    flash_erase_calls: 0,
    flash_erase_time_us: 0,
  };

  /**
   * Fault-injection hook, called before every write and erase: throwing from it leaves flash as a power cut at
   * that point would (every earlier change is on disk, this one and later ones are not).
   */
  beforeChange: ((change: FlashChange) => void) | undefined;

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
    this.beforeChange?.({ kind: 'write', slot, offset, length: data.length });
    b.set(data, offset);
    this.stats.flash_write_calls++;
    this.stats.bytes_written += data.length;
    this.writeThrough(slot, offset, data);
  }

  /** Erases in place, so a power cut during a swap leaves every other region as it was. */
  erase(slot: number, offset = 0, length?: number): void {
    const b = this.read(slot);
    const end = length === undefined ? b.length : Math.min(b.length, offset + length);
    this.beforeChange?.({ kind: 'erase', slot, offset, length: end - offset });
    b.fill(ERASED, offset, end);
    this.stats.flash_erase_calls++;
    this.writeThrough(slot, offset, b.subarray(offset, end));
  }

  /** Copies a region (through a buffer: source and destination may be the same slot), as `boot_copy_region` does. */
  copy(from: number, fromOffset: number, to: number, toOffset: number, length: number): void {
    this.write(to, toOffset, Buffer.from(this.read(from).subarray(fromOffset, fromOffset + length)));
  }

  private writeThrough(slot: number, offset: number, data: Uint8Array): void {
    const fd = openSync(this.path(slot), 'r+');
    try {
      writeSync(fd, data, 0, data.length, offset);
    } finally {
      closeSync(fd);
    }
  }

  // --- MCUboot trailer (BOOT_MAX_ALIGN 8, write size 8) ---
  /** Bytes at the end of a slot reserved for the trailer (magic, flags, swap size, swap status). */
  get trailerSize(): number {
    return trailerSize(BOOT_MAX_ALIGN);
  }

  readTrailer(slot: number): Trailer {
    return parseTrailer(this.read(slot), BOOT_MAX_ALIGN, ERASED);
  }

  /** Offset of the swap status area (one BOOT_MAX_ALIGN-sized entry per step), the trailer's first field. */
  get statusOffset(): number {
    return this.slotSize - this.trailerSize;
  }

  /** Writes one swap status entry, as `boot_write_status` does: the state byte, padded to the write size. */
  writeStatusEntry(slot: number, entry: number, state: number): void {
    this.write(slot, this.statusOffset + entry * BOOT_MAX_ALIGN, encodeTrailerByte(state, BOOT_MAX_ALIGN, ERASED));
  }

  /** Index of the last swap status entry written (-1 when none), as `swap_read_status_bytes` finds it. */
  lastStatusEntry(slot: number, entries: number): number {
    const b = this.read(slot);
    for (let i = entries - 1; i >= 0; i--) if (b[this.statusOffset + i * BOOT_MAX_ALIGN] !== ERASED) return i;
    return -1;
  }

  /** Writes the given trailer fields, the magic last (as `swap_status_init` does). */
  writeTrailer(slot: number, fields: { magic?: boolean; imageOk?: boolean; copyDone?: boolean; swapInfo?: number; swapSize?: number }): void {
    const at = trailerOffsets(this.slotSize, BOOT_MAX_ALIGN);
    if (fields.swapSize !== undefined) {
      const field = new Uint8Array(BOOT_MAX_ALIGN).fill(ERASED);
      new DataView(field.buffer).setUint32(0, fields.swapSize, true);
      this.write(slot, at.swapSize, field);
    }
    if (fields.swapInfo !== undefined) this.write(slot, at.swapInfo, encodeTrailerByte(fields.swapInfo, BOOT_MAX_ALIGN, ERASED));
    if (fields.copyDone) this.write(slot, at.copyDone, encodeTrailerByte(1, BOOT_MAX_ALIGN, ERASED));
    if (fields.imageOk) this.write(slot, at.imageOk, encodeTrailerByte(1, BOOT_MAX_ALIGN, ERASED));
    if (fields.magic) this.write(slot, at.magic, bootMagic(BOOT_MAX_ALIGN));
  }

  /** Erases the sectors that hold the trailer, last first (`swap_erase_trailer_sectors`). */
  eraseTrailerSectors(slot: number): void {
    const sectors = Math.ceil(this.trailerSize / SECTOR_SIZE);
    for (let i = 1; i <= sectors; i++) this.erase(slot, this.slotSize - i * SECTOR_SIZE, SECTOR_SIZE);
  }
}
