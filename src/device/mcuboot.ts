/** Minimal MCUboot image reading/writing for the virtual device (header §4.2, TLVs §4.3, hash §4.4). */
import { createHash } from 'node:crypto';

export const IMAGE_MAGIC = 0x96f3b83d;
export const IMAGE_HEADER_SIZE = 32;
export const TLV_INFO_MAGIC = 0x6907;
export const TLV_PROT_INFO_MAGIC = 0x6908;
export const TLV_SHA256 = 0x10;
export const IMAGE_F_NON_BOOTABLE = 0x10;

export interface ImageVersion {
  major: number;
  minor: number;
  revision: number;
  build: number;
}

export interface ImageInfo {
  loadAddr: number;
  hdrSize: number;
  protTlvSize: number;
  imgSize: number;
  flags: number;
  version: ImageVersion;
  /** SHA-256 TLV value, when exactly one is present. */
  hash?: Uint8Array;
  /** Total size: header + body + protected and unprotected TLV areas. */
  totalSize: number;
  tlvs: { type: number; value: Uint8Array }[];
}

const dv = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);

/** Zephyr's version string: build appended as a fourth field only when non-zero. */
export function versionString(v: ImageVersion): string {
  const base = `${v.major}.${v.minor}.${v.revision}`;
  return v.build ? `${base}.${v.build}` : base;
}

/** Parses a `1.2.3`, `1.2.3+4` or `1.2.3.4` version. */
export function parseVersion(text: string): ImageVersion {
  const m = /^(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:[+.](\d+))?$/.exec(text.trim());
  if (!m) throw new Error(`invalid image version ${JSON.stringify(text)}`);
  return { major: +m[1]!, minor: +(m[2] ?? 0), revision: +(m[3] ?? 0), build: +(m[4] ?? 0) };
}

export function compareVersions(a: ImageVersion, b: ImageVersion): number {
  return a.major - b.major || a.minor - b.minor || a.revision - b.revision || a.build - b.build;
}

/** Reads an image at the start of `bytes` (a slot); undefined when there is no readable image. */
export function readImage(bytes: Uint8Array): ImageInfo | undefined {
  if (bytes.length < IMAGE_HEADER_SIZE) return undefined;
  const v = dv(bytes);
  if (v.getUint32(0, true) !== IMAGE_MAGIC) return undefined;
  const loadAddr = v.getUint32(4, true);
  const hdrSize = v.getUint16(8, true);
  const protTlvSize = v.getUint16(10, true);
  const imgSize = v.getUint32(12, true);
  const flags = v.getUint32(16, true);
  const version = { major: v.getUint8(20), minor: v.getUint8(21), revision: v.getUint16(22, true), build: v.getUint32(24, true) };
  if (hdrSize < IMAGE_HEADER_SIZE) return undefined;
  let off = hdrSize + imgSize;
  const tlvs: { type: number; value: Uint8Array }[] = [];
  const readArea = (magic: number): number | undefined => {
    if (off + 4 > bytes.length) return undefined;
    if (v.getUint16(off, true) !== magic) return undefined;
    const total = v.getUint16(off + 2, true);
    if (total < 4 || off + total > bytes.length) return undefined;
    let p = off + 4;
    const end = off + total;
    while (p + 4 <= end) {
      const type = v.getUint16(p, true);
      const len = v.getUint16(p + 2, true);
      if (p + 4 + len > end) return undefined;
      tlvs.push({ type, value: bytes.slice(p + 4, p + 4 + len) });
      p += 4 + len;
    }
    return total;
  };
  if (protTlvSize > 0) {
    const t = readArea(TLV_PROT_INFO_MAGIC);
    if (t === undefined || t !== protTlvSize) return undefined;
    off += t;
  }
  const unprot = readArea(TLV_INFO_MAGIC);
  if (unprot === undefined) return undefined;
  off += unprot;
  const hashes = tlvs.filter((t) => t.type === TLV_SHA256);
  const hash = hashes.length === 1 && hashes[0]!.value.length === 32 ? hashes[0]!.value : undefined;
  if (!hash) return undefined;
  return { loadAddr, hdrSize, protTlvSize, imgSize, flags, version, hash, totalSize: off, tlvs };
}

/** SHA-256 over header + body + protected TLVs: what the hash TLV must hold. */
export function computeImageHash(bytes: Uint8Array, info: ImageInfo): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes.subarray(0, info.hdrSize + info.imgSize + info.protTlvSize)).digest());
}

/** True when the image's SHA-256 TLV matches its content (what MCUboot checks before swapping). */
export function verifyImageHash(bytes: Uint8Array): boolean {
  const info = readImage(bytes);
  if (!info?.hash) return false;
  return Buffer.from(computeImageHash(bytes, info)).equals(Buffer.from(info.hash));
}

export interface BuildImageOptions {
  version: string | ImageVersion;
  body?: Uint8Array;
  loadAddr?: number;
  flags?: number;
  hdrSize?: number;
  /** Corrupts the hash TLV (for tests of MCUboot's validation). */
  badHash?: boolean;
}

/** Builds an unsigned MCUboot image with a SHA-256 TLV (what `imgtool sign` without a key produces). */
export function buildImage(opts: BuildImageOptions): Uint8Array {
  const version = typeof opts.version === 'string' ? parseVersion(opts.version) : opts.version;
  const hdrSize = opts.hdrSize ?? 0x200;
  const body = opts.body ?? defaultBody(versionString(version));
  const hashTlvTotal = 4 + 4 + 32;
  const out = new Uint8Array(hdrSize + body.length + hashTlvTotal);
  const v = dv(out);
  v.setUint32(0, IMAGE_MAGIC, true);
  v.setUint32(4, opts.loadAddr ?? 0, true);
  v.setUint16(8, hdrSize, true);
  v.setUint16(10, 0, true);
  v.setUint32(12, body.length, true);
  v.setUint32(16, opts.flags ?? 0, true);
  v.setUint8(20, version.major);
  v.setUint8(21, version.minor);
  v.setUint16(22, version.revision, true);
  v.setUint32(24, version.build, true);
  out.set(body, hdrSize);
  const t = hdrSize + body.length;
  v.setUint16(t, TLV_INFO_MAGIC, true);
  v.setUint16(t + 2, hashTlvTotal, true);
  v.setUint16(t + 4, TLV_SHA256, true);
  v.setUint16(t + 6, 32, true);
  const hash = createHash('sha256').update(out.subarray(0, t)).digest();
  if (opts.badHash) hash[0]! ^= 0xff;
  out.set(hash, t + 8);
  return out;
}

function defaultBody(label: string): Uint8Array {
  const body = new Uint8Array(4096);
  const text = new TextEncoder().encode(`mcumgr-sim application ${label}\0`);
  body.set(text, 0);
  for (let i = text.length; i < body.length; i++) body[i] = (i * 31 + label.length) & 0xff;
  return body;
}
