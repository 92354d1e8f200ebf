/**
 * LZMA2-compressed MCUboot images.
 *
 * Making one follows imgtool's `sign --compression` (scripts/imgtool/main.py): the image is first made and signed
 * uncompressed; the raw input is compressed; the compressed image carries the uncompressed image's body size, hash
 * and signature in protected DECOMP_SIZE, DECOMP_SHA and DECOMP_SIGNATURE TLVs, the COMPRESSED_LZMA2 (and
 * COMPRESSED_ARM_THUMB_FLT) flags, and is signed itself. When compression saves nothing, the uncompressed image is
 * the output.
 *
 * Reading one back follows MCUboot's decompressor (nrfconnect/sdk-mcuboot boot/zephyr/decompression.c:
 * bootutil_img_hash_decompress, boot_copy_region_decompress): the header loses the compression flags and takes the
 * decompressed size, the protected TLVs lose the DECOMP_* entries, and the hash and signature TLVs take the
 * DECOMP_SHA and DECOMP_SIGNATURE values; the result must hash to DECOMP_SHA.
 */
import { createHash } from 'node:crypto';
import { ImageError } from './errors.js';
import { COMPRESSION_FLAGS, encodeHeader, IMAGE_FLAGS } from './header.js';
import { parseImage, type McubootImage } from './image.js';
import { IMGTOOL_LZMA2, lzma2Compress, lzma2Decompress, lzma2Header, parseLzma2Header } from './lzma.js';
import { encodeTlvArea, TLV_TYPES, type Tlv } from './tlv.js';

export type ImageCompression = 'lzma2' | 'lzma2armthumb';

/** What decompression.c `boot_size_protected_tlvs` leaves out of a decompressed image's protected TLVs. */
const DECOMP_TLVS = new Set<number>([TLV_TYPES.DECOMP_SIZE, TLV_TYPES.DECOMP_SHA, TLV_TYPES.DECOMP_SIGNATURE, TLV_TYPES.COMP_DEC_SIZE]);
const HASH_TLV_BY_LENGTH = new Map<number, [number, string]>([
  [32, [TLV_TYPES.SHA256, 'sha256']],
  [48, [TLV_TYPES.SHA384, 'sha384']],
  [64, [TLV_TYPES.SHA512, 'sha512']],
]);
const HASH_TLVS = new Set<number>([TLV_TYPES.SHA256, TLV_TYPES.SHA384, TLV_TYPES.SHA512]);
const SIGNATURE_TLVS = new Set<number>([TLV_TYPES.RSA2048_PSS, TLV_TYPES.ECDSA224, TLV_TYPES.ECDSA_SIG, TLV_TYPES.RSA3072_PSS, TLV_TYPES.ED25519]);

/** The compressed body imgtool writes: its two-byte LZMA2 header, then the raw LZMA2 stream. */
export async function compressedBody(input: Uint8Array, compression: ImageCompression): Promise<Uint8Array> {
  const stream = await lzma2Compress(input, compression === 'lzma2armthumb');
  const header = lzma2Header(IMGTOOL_LZMA2);
  const body = new Uint8Array(header.length + stream.length);
  body.set(header, 0);
  body.set(stream, header.length);
  return body;
}

/** Header flags for a compressed body. */
export function compressionFlags(compression: ImageCompression): number {
  return IMAGE_FLAGS.COMPRESSED_LZMA2 | (compression === 'lzma2armthumb' ? IMAGE_FLAGS.COMPRESSED_ARM_THUMB_FLT : 0);
}

/** What a compressed image carries of its uncompressed self, and the protected TLVs its decompressed image keeps. */
export interface DecompressionTlvs {
  /** DECOMP_SIZE, when it is 4 bytes. */
  size?: number;
  sha?: Uint8Array;
  signature?: Uint8Array;
  keptProtected: Tlv[];
}

export function decompressionTlvs(img: McubootImage): DecompressionTlvs {
  const tlvs = img.protectedArea?.tlvs ?? [];
  const find = (type: number) => tlvs.find((t) => t.type === type)?.value;
  const sizeTlv = find(TLV_TYPES.DECOMP_SIZE);
  const sha = find(TLV_TYPES.DECOMP_SHA);
  const signature = find(TLV_TYPES.DECOMP_SIGNATURE);
  return {
    ...(sizeTlv?.length === 4 ? { size: new DataView(sizeTlv.buffer, sizeTlv.byteOffset, 4).getUint32(0, img.byteOrder === 'little') } : {}),
    ...(sha ? { sha } : {}),
    ...(signature ? { signature } : {}),
    keptProtected: tlvs.filter((t) => !DECOMP_TLVS.has(t.type)),
  };
}

/** Beyond any MCUboot slot: the default bound of a decompressed body, so a hostile file cannot claim gigabytes. */
export const MAX_DECOMPRESSED_SIZE = 64 * 1024 * 1024;

/**
 * The image MCUboot writes to the primary slot for a compressed image: decompressed and rebuilt with the DECOMP_*
 * values. `maxSize` bounds the decompressed body (a slot's size); the DECOMP_SIZE TLV bounds it too.
 */
export async function decompressImage(bytes: Uint8Array, maxSize = MAX_DECOMPRESSED_SIZE): Promise<Uint8Array> {
  const img = parseImage(bytes);
  const { header, byteOrder } = img;
  if (!(header.flags & IMAGE_FLAGS.COMPRESSED_LZMA2)) {
    throw new ImageError(
      'bad-option',
      (header.flags & IMAGE_FLAGS.COMPRESSED_LZMA1) !== 0 ? 'LZMA1-compressed images are not supported (imgtool makes LZMA2)' : 'the image is not compressed',
    );
  }
  const { size, sha, signature, keptProtected } = decompressionTlvs(img);
  if (size === undefined) throw new ImageError('bad-option', 'compressed image without a 4-byte DECOMP_SIZE TLV');
  const hashTlv = sha && HASH_TLV_BY_LENGTH.get(sha.length);
  if (!sha || !hashTlv) throw new ImageError('bad-option', 'compressed image without a DECOMP_SHA TLV of 32, 48 or 64 bytes');
  if (size > maxSize) throw new ImageError('too-large', `the image decompresses to ${size} bytes (DECOMP_SIZE), more than the ${maxSize} it may take`);

  const compressed = bytes.subarray(header.hdrSize, header.hdrSize + header.imgSize);
  const props = parseLzma2Header(compressed);
  if (!props) throw new ImageError('bad-option', 'the compressed body does not start with a valid LZMA2 header');
  const armThumb = (header.flags & IMAGE_FLAGS.COMPRESSED_ARM_THUMB_FLT) !== 0;
  const body = await lzma2Decompress(compressed.subarray(2), props, armThumb, size);
  if (body.length !== size) throw new ImageError('bad-option', `the image decompresses to ${body.length} bytes, DECOMP_SIZE says ${size}`);

  const protArea = keptProtected.length ? encodeTlvArea(keptProtected, true, byteOrder) : new Uint8Array(0);
  const unprotected = img.unprotectedArea.tlvs.map((t) => {
    if (HASH_TLVS.has(t.type)) return { type: hashTlv[0], value: sha };
    if (SIGNATURE_TLVS.has(t.type)) {
      if (!signature) throw new ImageError('bad-option', `compressed image has a ${t.name} signature but no DECOMP_SIGNATURE TLV`);
      return { type: t.type, value: signature };
    }
    return t;
  });
  const headerBytes = encodeHeader({ ...header, flags: header.flags & ~COMPRESSION_FLAGS, imgSize: size, protectTlvSize: protArea.length }, byteOrder);
  const signed = new Uint8Array(header.hdrSize + size + protArea.length);
  signed.set(bytes.subarray(0, header.hdrSize), 0);
  signed.set(headerBytes, 0);
  signed.set(body, header.hdrSize);
  signed.set(protArea, header.hdrSize + size);
  const computed = createHash(hashTlv[1]).update(signed).digest();
  if (!computed.equals(sha)) throw new ImageError('hash-mismatch', 'the decompressed image does not match DECOMP_SHA');
  const unprotArea = encodeTlvArea(unprotected, false, byteOrder);
  const out = new Uint8Array(signed.length + unprotArea.length);
  out.set(signed, 0);
  out.set(unprotArea, signed.length);
  return out;
}
