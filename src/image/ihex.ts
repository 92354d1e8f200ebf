import { ImageError } from './errors.js';

export class IhexError extends Error {
  readonly line: number;
  constructor(line: number, message: string) {
    super(`Intel HEX line ${line}: ${message}`);
    this.name = 'IhexError';
    this.line = line;
  }
}

export interface IhexResult {
  /** Address of the first data byte. */
  address: number;
  data: Uint8Array;
  /** Start address from record 03/05, if present. */
  startAddress?: number;
}

/**
 * Convert Intel HEX text to one contiguous binary. Data must be contiguous
 * (records in ascending order, no gaps); otherwise an IhexError is thrown.
 * With `gaps`, forward gaps are filled with `gaps.fill` as long as the result stays within `gaps.maxSize`
 * (an imgtool image padded to its slot has only its trailer's magic at the slot's end).
 */
export function ihexToBinary(text: string, gaps?: { fill: number; maxSize: number }): IhexResult {
  const lines = text.split(/\r?\n/);
  let base = 0;
  let start: number | undefined;
  let next: number | undefined;
  let first: number | undefined;
  const chunks: Uint8Array[] = [];
  let total = 0;
  let sawEof = false;
  for (let i = 0; i < lines.length; i++) {
    const ln = i + 1;
    const line = lines[i]!.trim();
    if (line === '') continue;
    if (sawEof) throw new IhexError(ln, 'data after end-of-file record');
    if (line[0] !== ':') throw new IhexError(ln, `record does not start with ':'`);
    const h = line.slice(1);
    if (h.length < 10 || h.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(h)) throw new IhexError(ln, 'bad record: not an even number of hex digits, or too short');
    const bytes = new Uint8Array(h.length / 2);
    for (let j = 0; j < bytes.length; j++) bytes[j] = parseInt(h.slice(j * 2, j * 2 + 2), 16);
    const len = bytes[0]!;
    if (bytes.length !== len + 5) throw new IhexError(ln, `bad record: byte count ${len} does not match record length`);
    const sum = bytes.reduce((a, b) => (a + b) & 0xff, 0);
    if (sum !== 0) {
      const expected = (0x100 - bytes.subarray(0, bytes.length - 1).reduce((a, b) => (a + b) & 0xff, 0)) & 0xff;
      throw new IhexError(ln, `bad checksum 0x${bytes[bytes.length - 1]!.toString(16).padStart(2, '0')}, expected 0x${expected.toString(16).padStart(2, '0')}`);
    }
    const offset = (bytes[1]! << 8) | bytes[2]!;
    const type = bytes[3]!;
    const data = bytes.subarray(4, 4 + len);
    switch (type) {
      case 0x00: {
        if (len === 0) break;
        const addr = base + offset;
        if (next === undefined) {
          first = addr;
        } else if (addr > next && gaps && total + (addr - next) + len <= gaps.maxSize) {
          chunks.push(new Uint8Array(addr - next).fill(gaps.fill));
          total += addr - next;
        } else if (addr !== next) {
          throw new IhexError(ln, `non-contiguous data: record at 0x${addr.toString(16)}, expected 0x${next.toString(16)}`);
        }
        chunks.push(data);
        total += len;
        next = addr + len;
        break;
      }
      case 0x01:
        sawEof = true;
        break;
      case 0x02:
        if (len !== 2) throw new IhexError(ln, 'bad extended segment address record');
        base = ((data[0]! << 8) | data[1]!) * 16;
        break;
      case 0x04:
        if (len !== 2) throw new IhexError(ln, 'bad extended linear address record');
        base = ((data[0]! << 24) | (data[1]! << 16)) >>> 0;
        break;
      case 0x03:
      case 0x05:
        if (len !== 4) throw new IhexError(ln, 'bad start address record');
        start = ((data[0]! << 24) | (data[1]! << 16) | (data[2]! << 8) | data[3]!) >>> 0;
        break;
      default:
        throw new IhexError(ln, `bad record type 0x${type.toString(16).padStart(2, '0')}`);
    }
  }
  if (first === undefined) throw new ImageError('truncated', 'Intel HEX file contains no data');
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return { address: first, data: out, ...(start !== undefined ? { startAddress: start } : {}) };
}

/** Encode binary data as Intel HEX (16-byte records, type 04 records as needed). */
export function binaryToIhex(address: number, data: Uint8Array, recordSize = 16): string {
  return segmentsToIhex([{ address, data }], recordSize);
}

/** Encode separate runs of data (ascending addresses) as one Intel HEX file. */
export function segmentsToIhex(segments: { address: number; data: Uint8Array }[], recordSize = 16): string {
  const out: string[] = [];
  const rec = (type: number, off: number, d: Uint8Array) => {
    const b = [d.length, (off >> 8) & 0xff, off & 0xff, type, ...d];
    const cs = (0x100 - b.reduce((a, x) => (a + x) & 0xff, 0)) & 0xff;
    out.push(`:${[...b, cs].map((x) => x.toString(16).padStart(2, '0').toUpperCase()).join('')}`);
  };
  let upper = -1;
  for (const { address, data } of segments) {
    for (let i = 0; i < data.length; ) {
      const addr = address + i;
      const hi = addr >>> 16;
      if (hi !== upper) {
        rec(0x04, 0, new Uint8Array([(hi >> 8) & 0xff, hi & 0xff]));
        upper = hi;
      }
      const n = Math.min(recordSize, data.length - i, 0x10000 - (addr & 0xffff));
      rec(0x00, addr & 0xffff, data.subarray(i, i + n));
      i += n;
    }
  }
  rec(0x01, 0, new Uint8Array(0));
  return `${out.join('\n')}\n`;
}
