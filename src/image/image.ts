import { ImageError, hex } from './errors.js';
import { imageByteOrder, isCompressedImage, parseHeader, type ByteOrder, type ImageHeader } from './header.js';
import { parseTlvArea, TLV_TYPES, type Tlv, type TlvArea } from './tlv.js';

export { toHex } from '../protocol/hex.js';

export interface McubootImage {
  header: ImageHeader;
  /** Byte order of the header and TLVs (big for imgtool -e big). */
  byteOrder: ByteOrder;
  /** Protected TLV area, if `protectTlvSize != 0`. */
  protectedArea?: TlvArea;
  /** Unprotected TLV area. */
  unprotectedArea: TlvArea;
  /** All TLVs, protected first. */
  tlvs: Tlv[];
  /** Hash from the SHA256/384/512 TLV (undefined when there is none). */
  hash?: Uint8Array;
  hashAlgorithm?: 'sha256' | 'sha384' | 'sha512';
  /** Length of the region the hash covers: hdr + img + protected TLVs. */
  signedSize: number;
  /** Image size: header + body + both TLV areas (what a device would receive unpadded). */
  size: number;
  /** Bytes after the image (slot padding / trailer), 0 if none. */
  paddingSize: number;
}

const HASH_TLVS = [
  [TLV_TYPES.SHA256, 'sha256', 32],
  [TLV_TYPES.SHA384, 'sha384', 48],
  [TLV_TYPES.SHA512, 'sha512', 64],
] as const;

/** Parse a signed MCUboot image. Throws ImageError on malformed data. */
export function parseImage(bytes: Uint8Array): McubootImage {
  const header = parseHeader(bytes);
  const byteOrder = imageByteOrder(bytes)!;
  const bodyEnd = header.hdrSize + header.imgSize;
  if (bodyEnd > bytes.length) {
    throw new ImageError('truncated', `image truncated: header says body ends at ${hex(bodyEnd)}, file has ${bytes.length} bytes`);
  }
  let protectedArea: TlvArea | undefined;
  if (header.protectTlvSize !== 0) {
    protectedArea = parseTlvArea(bytes, bodyEnd, true, byteOrder);
    if (protectedArea.size !== header.protectTlvSize) {
      throw new ImageError('tlv-overrun', `protected TLV area size ${protectedArea.size} differs from header's protect_tlv_size ${header.protectTlvSize}`);
    }
  }
  const signedSize = bodyEnd + header.protectTlvSize;
  const unprotectedArea = parseTlvArea(bytes, signedSize, false, byteOrder);
  const tlvs = [...(protectedArea?.tlvs ?? []), ...unprotectedArea.tlvs];
  const img: McubootImage = {
    header,
    byteOrder,
    protectedArea,
    unprotectedArea,
    tlvs,
    signedSize,
    size: signedSize + unprotectedArea.size,
    paddingSize: bytes.length - (signedSize + unprotectedArea.size),
  };
  for (const [type, alg, len] of HASH_TLVS) {
    const t = unprotectedArea.tlvs.find((x) => x.type === type);
    if (t) {
      if (t.value.length !== len) {
        throw new ImageError('tlv-overrun', `${t.name} TLV has length ${t.value.length}, expected ${len}`);
      }
      img.hash = t.value;
      img.hashAlgorithm = alg;
      break;
    }
  }
  return img;
}

/** Cheap check: does this start with a valid MCUboot header and parse? */
export function isMcubootImage(bytes: Uint8Array): boolean {
  if (imageByteOrder(bytes) === undefined) return false;
  try {
    parseImage(bytes);
    return true;
  } catch {
    return false;
  }
}

/** First TLV of a type, or undefined. */
export function findTlv(img: McubootImage, type: number): Tlv | undefined {
  return img.tlvs.find((t) => t.type === type);
}

/**
 * The hash `image list` shows once MCUboot has installed the image: for a compressed image the uncompressed image's
 * (DECOMP_SHA; MCUboot writes it decompressed), otherwise the image's own.
 */
export function installedImageHash(img: McubootImage): Uint8Array | undefined {
  return isCompressedImage(img.header.flags) ? img.protectedArea?.tlvs.find((t) => t.type === TLV_TYPES.DECOMP_SHA)?.value : img.hash;
}
