import { ImageError, hex } from './errors.js';
import type { ByteOrder } from './header.js';

export const TLV_INFO_MAGIC = 0x6907;
export const TLV_PROT_INFO_MAGIC = 0x6908;

/** `IMAGE_TLV_*` types. */
export const TLV_TYPES = {
  KEYHASH: 0x01,
  PUBKEY: 0x02,
  SHA256: 0x10,
  SHA384: 0x11,
  SHA512: 0x12,
  RSA2048_PSS: 0x20,
  ECDSA224: 0x21,
  ECDSA_SIG: 0x22,
  RSA3072_PSS: 0x23,
  ED25519: 0x24,
  SIG_PURE: 0x25,
  ENC_RSA2048: 0x30,
  ENC_KW: 0x31,
  ENC_EC256: 0x32,
  ENC_X25519: 0x33,
  ENC_X25519_SHA512: 0x34,
  DEPENDENCY: 0x40,
  SEC_CNT: 0x50,
  BOOT_RECORD: 0x60,
  DECOMP_SIZE: 0x70,
  DECOMP_SHA: 0x71,
  DECOMP_SIGNATURE: 0x72,
  COMP_DEC_SIZE: 0x73,
  UUID_VID: 0x74,
  UUID_CID: 0x75,
} as const;

export type TlvTypeName = keyof typeof TLV_TYPES;

const NAMES = new Map<number, TlvTypeName>((Object.entries(TLV_TYPES) as [TlvTypeName, number][]).map(([k, v]) => [v, k]));

/** True for the vendor-reserved range (low byte 0xA0..0xFF). */
export function isVendorTlv(type: number): boolean {
  return (type & 0xff) >= 0xa0;
}

/** Name of a TLV type: "SHA256", "VENDOR_0x01a0", or "UNKNOWN_0x0099". */
export function tlvTypeName(type: number): string {
  const n = NAMES.get(type);
  if (n) return n;
  const h = hex(type, 4);
  return isVendorTlv(type) ? `VENDOR_${h}` : `UNKNOWN_${h}`;
}

export interface Tlv {
  type: number;
  name: string;
  /** Offset of the TLV's 4-byte header in the image. */
  offset: number;
  value: Uint8Array;
}

export interface TlvArea {
  magic: number;
  protected: boolean;
  offset: number;
  /** it_tlv_tot: total size including the 4-byte info header. */
  size: number;
  tlvs: Tlv[];
}

/** Parse one TLV area starting at `offset`. */
export function parseTlvArea(bytes: Uint8Array, offset: number, expectProtected: boolean, order: ByteOrder = 'little'): TlvArea {
  const le = order === 'little';
  const want = expectProtected ? TLV_PROT_INFO_MAGIC : TLV_INFO_MAGIC;
  const label = expectProtected ? 'protected TLV area' : 'TLV area';
  if (offset + 4 > bytes.length) {
    throw new ImageError('truncated', `${label} info at ${hex(offset)} is beyond the end of the data (${bytes.length} bytes)`);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = dv.getUint16(offset, le);
  if (magic !== want && dv.getUint16(offset, !le) === want) {
    throw new ImageError('bad-tlv-magic', `${label} at ${hex(offset)} is ${le ? 'big' : 'little'}-endian but the header is ${order}-endian: mixed byte order`);
  }
  if (magic !== want) {
    throw new ImageError('bad-tlv-magic', `${label} at ${hex(offset)} has magic ${hex(magic, 4)}, expected ${hex(want, 4)}`);
  }
  const size = dv.getUint16(offset + 2, le);
  if (size < 4) throw new ImageError('tlv-overrun', `${label} at ${hex(offset)} has size ${size}, less than its 4-byte info header`);
  const end = offset + size;
  if (end > bytes.length) {
    throw new ImageError('tlv-overrun', `${label} at ${hex(offset)} claims ${size} bytes but only ${bytes.length - offset} remain`);
  }
  const tlvs: Tlv[] = [];
  let p = offset + 4;
  while (p < end) {
    if (p + 4 > end) throw new ImageError('tlv-overrun', `TLV header at ${hex(p)} runs past the end of the ${label}`);
    const type = le || !isImgtoolNamedType(bytes[p]!, bytes[p + 1]!) ? dv.getUint16(p, le) : bytes[p]!;
    const len = dv.getUint16(p + 2, le);
    if (p + 4 + len > end) {
      throw new ImageError('tlv-overrun', `TLV ${tlvTypeName(type)} at ${hex(p)} (length ${len}) runs past the end of the ${label}`);
    }
    tlvs.push({ type, name: tlvTypeName(type), offset: p, value: bytes.slice(p + 4, p + 4 + len) });
    p += 4 + len;
  }
  return { magic, protected: expectProtected, offset, size, tlvs };
}

/**
 * imgtool packs the TLV types it names (all below the vendor range 0xa0) as a type byte and a zero byte ('BBH'),
 * and custom TLVs as a 16-bit type ('HH'): the same bytes little-endian, different ones big-endian.
 */
const FIRST_CUSTOM_TYPE = 0xa0;

function isImgtoolNamedType(first: number, second: number): boolean {
  return second === 0 && first < FIRST_CUSTOM_TYPE;
}

/** Encode a TLV area (info header + entries) in the image's byte order. */
export function encodeTlvArea(entries: { type: number; value: Uint8Array }[], isProtected: boolean, order: ByteOrder = 'little'): Uint8Array {
  const le = order === 'little';
  const size = 4 + entries.reduce((n, e) => n + 4 + e.value.length, 0);
  if (size > 0xffff) throw new ImageError('too-large', `TLV area of ${size} bytes exceeds 65535`);
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setUint16(0, isProtected ? TLV_PROT_INFO_MAGIC : TLV_INFO_MAGIC, le);
  dv.setUint16(2, size, le);
  let p = 4;
  for (const e of entries) {
    if (e.type < 0 || e.type > 0xffff || e.value.length > 0xffff) {
      throw new ImageError('bad-option', `invalid TLV type ${e.type} or length ${e.value.length}`);
    }
    if (le || e.type >= FIRST_CUSTOM_TYPE) dv.setUint16(p, e.type, le);
    else out[p] = e.type;
    dv.setUint16(p + 2, e.value.length, le);
    out.set(e.value, p + 4);
    p += 4 + e.value.length;
  }
  return out;
}
