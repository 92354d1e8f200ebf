import { ImageError, hex } from './errors.js';

export const IMAGE_MAGIC = 0x96f3b83d;
export const IMAGE_MAGIC_V1 = 0x96f3b83c;
export const IMAGE_HEADER_SIZE = 32;

/** `IMAGE_F_*` header flags. */
export const IMAGE_FLAGS = {
  PIC: 0x01,
  ENCRYPTED_AES128: 0x04,
  ENCRYPTED_AES256: 0x08,
  NON_BOOTABLE: 0x10,
  RAM_LOAD: 0x20,
  ROM_FIXED: 0x100,
  COMPRESSED_LZMA1: 0x200,
  COMPRESSED_LZMA2: 0x400,
  COMPRESSED_ARM_THUMB_FLT: 0x800,
} as const;

/** The `IMAGE_F_*` flags of a compressed body (MCUboot's COMPRESSIONFLAGS). */
export const COMPRESSION_FLAGS = IMAGE_FLAGS.COMPRESSED_LZMA1 | IMAGE_FLAGS.COMPRESSED_LZMA2 | IMAGE_FLAGS.COMPRESSED_ARM_THUMB_FLT;

/** True when the header flags say the body is compressed. */
export function isCompressedImage(flags: number): boolean {
  return (flags & COMPRESSION_FLAGS) !== 0;
}

/** The names of the `IMAGE_F_*` flags set in `flags`, and `0x...` for bits MCUboot does not name. */
export function imageFlagNames(flags: number): string[] {
  const names = Object.entries(IMAGE_FLAGS)
    .filter(([, bit]) => (flags & bit) !== 0)
    .map(([name]) => name);
  const unknown = Object.values(IMAGE_FLAGS).reduce((rest, bit) => rest & ~bit, flags >>> 0);
  return unknown ? [...names, hex(unknown)] : names;
}

/**
 * Byte order of an image's header, TLV info and TLV fields: little-endian, or big-endian as imgtool -e big writes
 * for MCUboot's big-endian builds.
 */
export type ByteOrder = 'little' | 'big';

/** The byte order the header magic is written in, or undefined when it is no MCUboot header. */
export function imageByteOrder(bytes: Uint8Array): ByteOrder | undefined {
  if (bytes.length < 4) return undefined;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, 4);
  if (dv.getUint32(0, true) === IMAGE_MAGIC) return 'little';
  if (dv.getUint32(0, false) === IMAGE_MAGIC) return 'big';
  return undefined;
}

export interface ImageVersion {
  major: number;
  minor: number;
  revision: number;
  build: number;
}

export interface ImageHeader {
  magic: number;
  loadAddr: number;
  hdrSize: number;
  protectTlvSize: number;
  imgSize: number;
  flags: number;
  version: ImageVersion;
}

/** Parse the 32-byte image header at the start of `bytes`. */
export function parseHeader(bytes: Uint8Array): ImageHeader {
  if (bytes.length < IMAGE_HEADER_SIZE) {
    throw new ImageError('truncated', `image header truncated: ${bytes.length} bytes, need ${IMAGE_HEADER_SIZE}`);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = imageByteOrder(bytes) !== 'big';
  const magic = dv.getUint32(0, le);
  if (magic !== IMAGE_MAGIC) {
    const what = magic === IMAGE_MAGIC_V1 ? ' (old v1 magic)' : magic === 0xffffffff ? ' (erased flash)' : '';
    throw new ImageError('bad-magic', `invalid image magic ${hex(magic, 8)}${what}, expected ${hex(IMAGE_MAGIC, 8)}; is this an MCUboot image?`);
  }
  const hdr: ImageHeader = {
    magic,
    loadAddr: dv.getUint32(4, le),
    hdrSize: dv.getUint16(8, le),
    protectTlvSize: dv.getUint16(10, le),
    imgSize: dv.getUint32(12, le),
    flags: dv.getUint32(16, le),
    version: {
      major: dv.getUint8(20),
      minor: dv.getUint8(21),
      revision: dv.getUint16(22, le),
      build: dv.getUint32(24, le),
    },
  };
  if (hdr.hdrSize < IMAGE_HEADER_SIZE) {
    throw new ImageError('truncated', `header size ${hex(hdr.hdrSize)} is smaller than the 32-byte header`);
  }
  return hdr;
}

/** Encode a header as 32 bytes (the caller pads it to `hdrSize`). */
export function encodeHeader(h: Omit<ImageHeader, 'magic'> & { magic?: number }, order: ByteOrder = 'little'): Uint8Array {
  const le = order === 'little';
  const out = new Uint8Array(IMAGE_HEADER_SIZE);
  const dv = new DataView(out.buffer);
  checkVersion(h.version);
  dv.setUint32(0, h.magic ?? IMAGE_MAGIC, le);
  dv.setUint32(4, h.loadAddr >>> 0, le);
  dv.setUint16(8, h.hdrSize, le);
  dv.setUint16(10, h.protectTlvSize, le);
  dv.setUint32(12, h.imgSize >>> 0, le);
  dv.setUint32(16, h.flags >>> 0, le);
  dv.setUint8(20, h.version.major);
  dv.setUint8(21, h.version.minor);
  dv.setUint16(22, h.version.revision, le);
  dv.setUint32(24, h.version.build >>> 0, le);
  return out;
}

function checkVersion(v: ImageVersion): void {
  const ok =
    Number.isInteger(v.major) &&
    v.major >= 0 &&
    v.major <= 0xff &&
    Number.isInteger(v.minor) &&
    v.minor >= 0 &&
    v.minor <= 0xff &&
    Number.isInteger(v.revision) &&
    v.revision >= 0 &&
    v.revision <= 0xffff &&
    Number.isInteger(v.build) &&
    v.build >= 0 &&
    v.build <= 0xffffffff;
  if (!ok) throw new ImageError('bad-version', `version out of range: ${v.major}.${v.minor}.${v.revision}+${v.build}`);
}

/**
 * Parse an imgtool-style version "maj[.min[.rev[+build]]]". Also accepts the
 * Zephyr/SMP four-field form "maj.min.rev.build".
 */
export function parseVersion(text: string): ImageVersion {
  const m = /^(\d+)(?:\.(\d+)(?:\.(\d+)(?:[+.](\d+))?)?)?$/.exec(text.trim());
  if (!m) throw new ImageError('bad-version', `invalid version "${text}", expected maj.min.rev+build`);
  const v: ImageVersion = {
    major: Number(m[1]),
    minor: Number(m[2] ?? 0),
    revision: Number(m[3] ?? 0),
    build: Number(m[4] ?? 0),
  };
  checkVersion(v);
  return v;
}

/** Zephyr style: "1.2.3", or "1.2.3.4" when the build number is nonzero. */
export function formatVersion(v: ImageVersion): string {
  const base = `${v.major}.${v.minor}.${v.revision}`;
  return v.build !== 0 ? `${base}.${v.build}` : base;
}

/** imgtool style: "1.2.3+4" (build always shown). */
export function formatVersionImgtool(v: ImageVersion): string {
  return `${v.major}.${v.minor}.${v.revision}+${v.build}`;
}

/** Compare versions (major, minor, revision, then build unless `ignoreBuild`). Returns -1, 0 or 1. */
export function compareVersions(a: ImageVersion, b: ImageVersion, ignoreBuild = false): -1 | 0 | 1 {
  const fields: (keyof ImageVersion)[] = ignoreBuild ? ['major', 'minor', 'revision'] : ['major', 'minor', 'revision', 'build'];
  for (const f of fields) {
    if (a[f] < b[f]) return -1;
    if (a[f] > b[f]) return 1;
  }
  return 0;
}
