import { SmpFrameError } from './errors.js';

export const SMP_HEADER_SIZE = 8;

export const Op = { Read: 0, ReadRsp: 1, Write: 2, WriteRsp: 3 } as const;
export type OpCode = (typeof Op)[keyof typeof Op];

/** Wire value of the version bits: 0 = SMP v1 (legacy), 1 = SMP v2. */
export const SmpVersion = { V1: 0, V2: 1 } as const;

export interface SmpHeader {
  op: number;
  version: number;
  flags: number;
  /** Length of the CBOR payload, header excluded. */
  length: number;
  group: number;
  seq: number;
  id: number;
}

export interface SmpPacket {
  header: SmpHeader;
  payload: Uint8Array;
}

function checkField(name: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new SmpFrameError(`SMP header field ${name}=${value} is out of range 0..${max}`);
  }
}

export function encodeHeader(h: SmpHeader): Uint8Array {
  checkField('op', h.op, 7);
  checkField('version', h.version, 3);
  checkField('flags', h.flags, 0xff);
  checkField('length', h.length, 0xffff);
  checkField('group', h.group, 0xffff);
  checkField('seq', h.seq, 0xff);
  checkField('id', h.id, 0xff);
  const out = new Uint8Array(SMP_HEADER_SIZE);
  out[0] = (h.version << 3) | h.op;
  out[1] = h.flags;
  out[2] = h.length >> 8;
  out[3] = h.length & 0xff;
  out[4] = h.group >> 8;
  out[5] = h.group & 0xff;
  out[6] = h.seq;
  out[7] = h.id;
  return out;
}

export function decodeHeader(bytes: Uint8Array, offset = 0): SmpHeader {
  if (bytes.length - offset < SMP_HEADER_SIZE) {
    throw new SmpFrameError(`SMP packet too short: ${bytes.length - offset} bytes, a header needs ${SMP_HEADER_SIZE}`);
  }
  const b0 = bytes[offset]!;
  return {
    op: b0 & 0x07,
    version: (b0 >> 3) & 0x03,
    flags: bytes[offset + 1]!,
    length: (bytes[offset + 2]! << 8) | bytes[offset + 3]!,
    group: (bytes[offset + 4]! << 8) | bytes[offset + 5]!,
    seq: bytes[offset + 6]!,
    id: bytes[offset + 7]!,
  };
}

export function encodePacket(h: Omit<SmpHeader, 'length'>, payload: Uint8Array): Uint8Array {
  const header = encodeHeader({ ...h, length: payload.length });
  const out = new Uint8Array(SMP_HEADER_SIZE + payload.length);
  out.set(header, 0);
  out.set(payload, SMP_HEADER_SIZE);
  return out;
}

/** Decodes one whole SMP packet; the header's length must match the bytes that follow it exactly. */
export function decodePacket(bytes: Uint8Array): SmpPacket {
  const header = decodeHeader(bytes);
  const available = bytes.length - SMP_HEADER_SIZE;
  if (header.length !== available) {
    throw new SmpFrameError(`SMP header says ${header.length} payload bytes but ${available} were received`);
  }
  return { header, payload: bytes.subarray(SMP_HEADER_SIZE) };
}

export function responseOp(requestOp: number): number {
  return requestOp === Op.Read ? Op.ReadRsp : Op.WriteRsp;
}
