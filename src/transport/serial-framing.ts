/**
 * SMP serial framing (reference §3.1) and raw UART packet delimiting (§3.1.7).
 *
 * Pure module: Uint8Array only, no Node APIs, usable in browsers.
 */
import { SMP_HEADER_SIZE } from '../protocol/header.js';
import { TransportError } from './transport.js';

// ---------------------------------------------------------------------------
// CRC-16/XMODEM

const CRC_TABLE: Uint16Array = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 8;
    for (let b = 0; b < 8; b++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
    t[i] = c;
  }
  return t;
})();

/** CRC-16/XMODEM (poly 0x1021, init 0, no reflection, no xor-out). `crc16("123456789") === 0x31c3`. */
export function crc16(data: Uint8Array, seed = 0): number {
  let crc = seed & 0xffff;
  for (let i = 0; i < data.length; i++) {
    crc = ((crc << 8) & 0xffff) ^ CRC_TABLE[((crc >> 8) ^ data[i]!) & 0xff]!;
  }
  return crc;
}

// ---------------------------------------------------------------------------
// Base64 (standard alphabet, strict)

const B64_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_ENC = new Uint8Array(64);
const B64_DEC = new Int16Array(256).fill(-1);
for (let i = 0; i < 64; i++) {
  B64_ENC[i] = B64_CHARS.charCodeAt(i);
  B64_DEC[B64_CHARS.charCodeAt(i)] = i;
}
const PAD = 0x3d; // '='

/** Base64-encodes bytes into ASCII bytes (with '=' padding). */
export function base64Encode(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(data.length / 3) * 4);
  let o = 0;
  let i = 0;
  for (; i + 2 < data.length; i += 3) {
    const n = (data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!;
    out[o++] = B64_ENC[n >> 18]!;
    out[o++] = B64_ENC[(n >> 12) & 63]!;
    out[o++] = B64_ENC[(n >> 6) & 63]!;
    out[o++] = B64_ENC[n & 63]!;
  }
  const rest = data.length - i;
  if (rest === 1) {
    const n = data[i]! << 16;
    out[o++] = B64_ENC[n >> 18]!;
    out[o++] = B64_ENC[(n >> 12) & 63]!;
    out[o++] = PAD;
    out[o++] = PAD;
  } else if (rest === 2) {
    const n = (data[i]! << 16) | (data[i + 1]! << 8);
    out[o++] = B64_ENC[n >> 18]!;
    out[o++] = B64_ENC[(n >> 12) & 63]!;
    out[o++] = B64_ENC[(n >> 6) & 63]!;
    out[o++] = PAD;
  }
  return out;
}

/**
 * Strictly decodes base64 ASCII bytes `text[start, end)`. The length must be a multiple of 4;
 * '=' is allowed only as 1 or 2 trailing pad characters; unused bits must be zero.
 * Returns null on any violation.
 */
export function base64Decode(text: Uint8Array, start = 0, end = text.length): Uint8Array | null {
  const len = end - start;
  if (len % 4 !== 0) return null;
  if (len === 0) return new Uint8Array(0);
  let pad = 0;
  if (text[end - 1] === PAD) pad = text[end - 2] === PAD ? 2 : 1;
  const out = new Uint8Array((len / 4) * 3 - pad);
  let o = 0;
  const fullEnd = pad ? end - 4 : end;
  for (let i = start; i < fullEnd; i += 4) {
    const a = B64_DEC[text[i]!]!;
    const b = B64_DEC[text[i + 1]!]!;
    const c = B64_DEC[text[i + 2]!]!;
    const d = B64_DEC[text[i + 3]!]!;
    if ((a | b | c | d) < 0) return null;
    const n = (a << 18) | (b << 12) | (c << 6) | d;
    out[o++] = n >> 16;
    out[o++] = (n >> 8) & 0xff;
    out[o++] = n & 0xff;
  }
  if (pad) {
    const i = end - 4;
    const a = B64_DEC[text[i]!]!;
    const b = B64_DEC[text[i + 1]!]!;
    if (a < 0 || b < 0) return null;
    if (pad === 2) {
      if (b & 0x0f) return null;
      out[o++] = (a << 2) | (b >> 4);
    } else {
      const c = B64_DEC[text[i + 2]!]!;
      if (c < 0 || c & 0x03) return null;
      const n = (a << 18) | (b << 12) | (c << 6);
      out[o++] = n >> 16;
      out[o++] = (n >> 8) & 0xff;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// Errors

export type FramingErrorCode =
  | 'bad-crc'
  | 'bad-base64'
  | 'bad-length'
  | 'too-large'
  | 'overrun'
  | 'truncated'
  | 'line-too-long'
  | 'orphan-continuation'
  | 'bad-header';

/** A dropped frame/packet, reported through a decoder's `onError` callback (never thrown). */
export class FramingError extends TransportError {
  constructor(
    readonly code: FramingErrorCode,
    message: string,
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------------------
// Encoder

export const SERIAL_MARKER_START = [0x06, 0x09] as const;
export const SERIAL_MARKER_CONTINUATION = [0x04, 0x14] as const;
/** Largest SMP packet the 16-bit serial length field (packet + CRC) can describe. */
export const SERIAL_MAX_PACKET = 0xffff - 2;

/**
 * Frames one SMP packet for the serial transport: `len(2 BE) || packet || crc16(2 BE)`, base64-encoded,
 * cut into lines of at most `maxLine` bytes (marker + text + '\n'; 127 → 124 characters), the first with
 * marker 06 09, the others 04 14. Byte-identical to MCUboot and the Go mcumgr CLI.
 */
export function encodeSerialFrames(packet: Uint8Array, maxLine = 127): Uint8Array {
  if (packet.length > SERIAL_MAX_PACKET) {
    throw new TransportError(`SMP packet of ${packet.length} bytes is too large for serial framing (max ${SERIAL_MAX_PACKET})`);
  }
  const chars = Math.floor((maxLine - 3) / 4) * 4;
  if (!Number.isFinite(chars) || chars < 4) throw new RangeError(`maxLine ${maxLine} is too small (minimum 7)`);
  const raw = new Uint8Array(packet.length + 4);
  const total = packet.length + 2;
  raw[0] = total >> 8;
  raw[1] = total & 0xff;
  raw.set(packet, 2);
  const crc = crc16(packet);
  raw[raw.length - 2] = crc >> 8;
  raw[raw.length - 1] = crc & 0xff;
  const text = base64Encode(raw);
  const lines = Math.ceil(text.length / chars);
  const out = new Uint8Array(text.length + lines * 3);
  let o = 0;
  for (let i = 0; i < text.length; i += chars) {
    const marker = i === 0 ? SERIAL_MARKER_START : SERIAL_MARKER_CONTINUATION;
    out[o++] = marker[0];
    out[o++] = marker[1];
    const piece = text.subarray(i, Math.min(i + chars, text.length));
    out.set(piece, o);
    o += piece.length;
    out[o++] = 0x0a;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Growable bounded byte buffer

class ByteBuf {
  buf: Uint8Array;
  len = 0;
  constructor(initial = 256) {
    this.buf = new Uint8Array(initial);
  }
  append(src: Uint8Array, start = 0, end = src.length): void {
    const n = end - start;
    if (n <= 0) return;
    if (this.len + n > this.buf.length) {
      let cap = this.buf.length * 2;
      while (cap < this.len + n) cap *= 2;
      const nb = new Uint8Array(cap);
      nb.set(this.buf.subarray(0, this.len));
      this.buf = nb;
    }
    this.buf.set(src.subarray(start, end), this.len);
    this.len += n;
  }
  /** Drops the first n bytes. */
  consume(n: number): void {
    if (n >= this.len) {
      this.len = 0;
    } else {
      this.buf.copyWithin(0, n, this.len);
      this.len -= n;
    }
    this.shrink();
  }
  clear(): void {
    this.len = 0;
    this.shrink();
  }
  private shrink(): void {
    if (this.buf.length > 16384 && this.len < this.buf.length / 4) {
      const nb = new Uint8Array(Math.max(256, this.len * 2));
      nb.set(this.buf.subarray(0, this.len));
      this.buf = nb;
    }
  }
  view(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }
}

// ---------------------------------------------------------------------------
// Framed (base64 line) decoder

export interface SerialFrameDecoderOptions {
  /** Largest SMP packet (header + payload) accepted; larger packets are dropped. Default 65533. */
  maxPacket?: number;
  /** Longest line kept while waiting for '\n'; longer lines are discarded. Default 8192. */
  maxLineLength?: number;
  /**
   * Decode each frame's base64 on its own, as Zephyr's shell transport does (serial_util.c,
   * mcumgr_serial_process_frag): a frame whose text is not whole base64 quads drops the packet. Default false.
   */
  framesDecodedAlone?: boolean;
  /** Called for every dropped frame or packet. Never thrown. */
  onError?: (err: FramingError) => void;
}

/**
 * Streaming decoder for SMP serial framing. Feed it any chunks of the byte stream; it returns
 * completed SMP packets (CRC checked and stripped). Non-SMP lines (console/log text) and '\r' are ignored.
 *
 * Leniency beyond Zephyr (unless `framesDecodedAlone`): base64 text split at a non-multiple of 4 characters
 * across lines is carried over to the next line instead of being rejected. The SMP marker may be preceded on
 * the same line by other text (an unterminated log line).
 */
export class SerialFrameDecoder {
  readonly maxPacket: number;
  readonly maxLineLength: number;
  private readonly onError: ((err: FramingError) => void) | undefined;
  private readonly framesDecodedAlone: boolean;

  private line = new ByteBuf(256);
  private discardingLine = false;

  private inPacket = false;
  private expected = -1; // decoded bytes after the length field (packet + CRC), -1 until known
  private residue = new Uint8Array(4);
  private residueLen = 0;
  private data = new ByteBuf(256); // decoded raw bytes: length field + packet + crc

  constructor(options: SerialFrameDecoderOptions = {}) {
    this.maxPacket = options.maxPacket ?? SERIAL_MAX_PACKET;
    this.maxLineLength = options.maxLineLength ?? 8192;
    this.onError = options.onError;
    this.framesDecodedAlone = options.framesDecodedAlone ?? false;
  }

  /** Bytes currently held (partial line + partial packet); bounded by maxLineLength + maxPacket + 8. */
  get bufferedBytes(): number {
    return this.line.len + this.data.len + this.residueLen;
  }

  /** Forgets any partial line or packet. */
  reset(): void {
    this.line.clear();
    this.discardingLine = false;
    this.resetPacket();
  }

  push(bytes: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    let start = 0;
    while (start < bytes.length) {
      const nl = bytes.indexOf(0x0a, start);
      const end = nl < 0 ? bytes.length : nl;
      if (!this.discardingLine) {
        if (this.line.len + (end - start) > this.maxLineLength) {
          this.line.clear();
          this.discardingLine = true;
          this.report('line-too-long', `line longer than ${this.maxLineLength} bytes discarded`);
        } else {
          this.line.append(bytes, start, end);
        }
      }
      if (nl < 0) break;
      if (this.discardingLine) {
        this.discardingLine = false;
      } else {
        this.handleLine(this.line.view(), out);
      }
      this.line.clear();
      start = nl + 1;
    }
    return out;
  }

  private report(code: FramingErrorCode, message: string): void {
    if (this.onError) {
      try {
        this.onError(new FramingError(code, message));
      } catch {
        /* a listener's failure must not break decoding */
      }
    }
  }

  private resetPacket(): void {
    this.inPacket = false;
    this.expected = -1;
    this.residueLen = 0;
    this.data.clear();
  }

  private dropPacket(code: FramingErrorCode, message: string): void {
    this.resetPacket();
    this.report(code, message);
  }

  private handleLine(line: Uint8Array, out: Uint8Array[]): void {
    // Find the last SMP marker in the line (base64 text never contains 0x06/0x04).
    let m = -1;
    let isStart = false;
    for (let i = line.length - 2; i >= 0; i--) {
      const a = line[i]!;
      const b = line[i + 1]!;
      if (a === 0x06 && b === 0x09) {
        m = i;
        isStart = true;
        break;
      }
      if (a === 0x04 && b === 0x14) {
        m = i;
        break;
      }
    }
    if (m < 0) return; // not SMP
    let s = m + 2;
    let e = line.length;
    while (e > s && (line[e - 1] === 0x0d || line[e - 1] === 0x20)) e--;
    while (s < e && line[s] === 0x0d) s++;

    if (isStart) {
      if (this.inPacket) this.report('truncated', 'incomplete packet superseded by a new start frame');
      this.resetPacket();
      this.inPacket = true;
    } else if (!this.inPacket) {
      this.report('orphan-continuation', 'continuation frame without a packet in progress ignored');
      return;
    }
    this.decodeText(line, s, e, out);
  }

  private decodeText(line: Uint8Array, s: number, e: number, out: Uint8Array[]): void {
    if (this.framesDecodedAlone && (e - s) % 4 !== 0) {
      this.dropPacket('bad-base64', `a frame of ${e - s} base64 characters (not whole quads) cannot be decoded on its own`);
      return;
    }
    // Validate characters; '=' only at the very end.
    let padAt = -1;
    for (let i = s; i < e; i++) {
      const c = line[i]!;
      if (c === PAD) {
        if (padAt < 0) padAt = i;
      } else if (padAt >= 0 || B64_DEC[c]! < 0) {
        this.dropPacket('bad-base64', 'invalid base64 in serial frame');
        return;
      }
    }
    // Combine residue + text, decode whole quads.
    const total = this.residueLen + (e - s);
    const final = padAt >= 0;
    if (final && total % 4 !== 0) {
      this.dropPacket('bad-base64', 'invalid base64 padding in serial frame');
      return;
    }
    const usable = final ? total : total - (total % 4);
    const consumedFromLine = usable - this.residueLen;
    if (consumedFromLine < 0) {
      // Too few characters to complete the carried-over quad (a line of 0-2 characters): carry them over too.
      this.residue.set(line.subarray(s, e), this.residueLen);
      this.residueLen = total;
      return;
    }
    let text: Uint8Array;
    if (this.residueLen === 0) {
      text = line.subarray(s, s + usable);
    } else {
      text = new Uint8Array(usable);
      text.set(this.residue.subarray(0, this.residueLen));
      text.set(line.subarray(s, s + consumedFromLine), this.residueLen);
    }
    const rem = line.subarray(s + consumedFromLine, e);
    this.residue.set(rem);
    this.residueLen = rem.length;
    const decoded = base64Decode(text);
    if (decoded === null) {
      this.dropPacket('bad-base64', 'invalid base64 in serial frame');
      return;
    }
    // Bound: never hold more than length field + maxPacket + CRC.
    const limit = this.maxPacket + 4;
    if (this.data.len + decoded.length > limit && this.expected < 0) {
      this.dropPacket('too-large', 'serial packet exceeds maximum size');
      return;
    }
    if (this.expected >= 0 && this.data.len - 2 + decoded.length > this.expected) {
      this.dropPacket('overrun', 'serial frame carries more data than its length field');
      return;
    }
    this.data.append(decoded);
    if (this.expected < 0 && this.data.len >= 2) {
      const d = this.data.buf;
      const len = (d[0]! << 8) | d[1]!;
      if (len < 2) {
        this.dropPacket('bad-length', `serial length field ${len} is too small`);
        return;
      }
      if (len - 2 > this.maxPacket) {
        this.dropPacket('too-large', `serial packet of ${len - 2} bytes exceeds maximum ${this.maxPacket}`);
        return;
      }
      this.expected = len;
      if (this.data.len - 2 > len) {
        this.dropPacket('overrun', 'serial frame carries more data than its length field');
        return;
      }
    }
    if (this.expected >= 0 && this.data.len - 2 === this.expected) {
      if (this.residueLen !== 0) {
        this.dropPacket('bad-base64', 'trailing base64 characters after packet end');
        return;
      }
      const body = this.data.buf.subarray(2, this.data.len);
      if (crc16(body) !== 0) {
        this.dropPacket('bad-crc', 'serial packet CRC mismatch');
        return;
      }
      out.push(body.slice(0, body.length - 2));
      this.resetPacket();
    } else if (final) {
      this.dropPacket('truncated', 'serial packet ended (base64 padding) before its length was reached');
    }
  }
}

// ---------------------------------------------------------------------------
// Raw (unframed) decoder

export interface RawPacketDecoderOptions {
  /** Largest SMP packet (header + payload) accepted. Default 65535 + 8. */
  maxPacket?: number;
  onError?: (err: FramingError) => void;
}

/**
 * Decoder for the raw UART transport: SMP packets back to back, delimited by the header's
 * big-endian Data Length (bytes 2-3). An impossible header (op > 3, reserved bits set, or a packet
 * larger than maxPacket) makes it drop one byte and try again (resynchronisation).
 */
export class RawPacketDecoder {
  readonly maxPacket: number;
  private readonly onError: ((err: FramingError) => void) | undefined;
  private buf = new ByteBuf(256);
  private resyncing = false;

  constructor(options: RawPacketDecoderOptions = {}) {
    this.maxPacket = Math.max(SMP_HEADER_SIZE, options.maxPacket ?? 0xffff + SMP_HEADER_SIZE);
    this.onError = options.onError;
  }

  get bufferedBytes(): number {
    return this.buf.len;
  }

  reset(): void {
    this.buf.clear();
    this.resyncing = false;
  }

  push(bytes: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    let pos = 0;
    while (pos < bytes.length) {
      // Feed at most what can complete the current packet, so the buffer stays bounded.
      const room = this.maxPacket - this.buf.len;
      const take = Math.min(room, bytes.length - pos);
      this.buf.append(bytes, pos, pos + take);
      pos += take;
      this.drain(out);
    }
    return out;
  }

  private drain(out: Uint8Array[]): void {
    let off = 0;
    const d = this.buf.buf;
    while (this.buf.len - off >= SMP_HEADER_SIZE) {
      const b0 = d[off]!;
      const op = b0 & 0x07;
      const reserved = b0 & 0xe0;
      const total = SMP_HEADER_SIZE + ((d[off + 2]! << 8) | d[off + 3]!);
      if (op > 3 || reserved !== 0 || total > this.maxPacket) {
        if (!this.resyncing) {
          this.resyncing = true;
          this.report(total > this.maxPacket && op <= 3 && reserved === 0 ? 'too-large' : 'bad-header', 'impossible SMP header in raw stream; resynchronising');
        }
        off++;
        continue;
      }
      if (this.buf.len - off < total) break;
      this.resyncing = false;
      out.push(d.slice(off, off + total));
      off += total;
    }
    if (off > 0) this.buf.consume(off);
  }

  private report(code: FramingErrorCode, message: string): void {
    if (this.onError) {
      try {
        this.onError(new FramingError(code, message));
      } catch {
        /* ignore */
      }
    }
  }
}

/** Raw mode needs no framing: the packet is written as is. */
export function encodeRawPacket(packet: Uint8Array): Uint8Array {
  return packet;
}
