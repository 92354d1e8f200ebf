/**
 * Builds MCUboot images as imgtool 2.x's `sign` does (scripts/imgtool/image.py: Image.create, _trailer_size, pad_to):
 * header, protected TLVs, hash, key hash or public key, signature, ENC TLV, encryption, trailer. Signing goes through
 * an ImageSigner: `prepareImage` yields what to sign, `completeImage` puts the signature in.
 */
import { encode as cborEncode } from 'cborg';
import { createHash } from 'node:crypto';
import { ImageError, hex } from './errors.js';
import { encodeHeader, parseVersion, IMAGE_FLAGS, IMAGE_HEADER_SIZE, type ByteOrder, type ImageVersion } from './header.js';
import { encodeTlvArea, TLV_TYPES } from './tlv.js';
import { bootMagic } from './trailer.js';
import { compressedBody, compressionFlags, type ImageCompression } from './compressed.js';
import { digest } from './crypto-node.js';
import { keyFileSigner } from './signer-key.js';
import { signatureTlvTypeFor, type ImageHashAlgorithm, type ImageSigner, type SignatureKeyType } from './signer.js';
import {
  aesCtr,
  encTlvType,
  loadEncryptionKey,
  randomImageKey,
  wrapImageKey,
  type AesKeyLength,
  type EncryptionKey,
  type HmacSha,
  type KeyExchange,
} from './encrypt.js';

export interface CustomTlv {
  type: number;
  value: Uint8Array;
  protected?: boolean;
}

export interface ImageDependency {
  image: number;
  version: string | ImageVersion;
}

export interface EncryptionOptions {
  /**
   * The device's key: PEM (public, or private) RSA-2048 (RSA-OAEP), EC P-256 (ECIES-P256) or X25519 (ECIES-X25519),
   * or the bytes of a raw 16- or 32-byte AES key-wrap key (ENC_KW).
   */
  key: string | Uint8Array;
  /** AES key length (imgtool --encrypt-keylen). Default 128. */
  keyLength?: AesKeyLength;
  /** MAC and HKDF hash for ECIES (imgtool --hmac-sha); 512 only with X25519. Default 256. */
  hmacSha?: HmacSha;
  /** Write the ENC TLV and flags but leave the body in clear (imgtool -c/--clear). */
  clear?: boolean;
  /** Size the trailer for the ENC TLV a bootloader saves instead of the plain keys (imgtool --save-enctlv). */
  saveEncTlv?: boolean;
}

export interface CreateImageOptions {
  /** Byte order of header, TLV info and TLV fields (imgtool -e). Default little. */
  endian?: ByteOrder;
  /** "1.2.3+4" or a version object. Default 0.0.0+0. */
  version?: string | ImageVersion;
  /** ih_hdr_size (imgtool -H). Default 0x20. */
  headerSize?: number;
  /** Prepend `headerSize` bytes of erased value (imgtool --pad-header); otherwise the payload must start with `headerSize` zero bytes. */
  padHeader?: boolean;
  /** Flash write alignment (imgtool --align), 1/2/4/8/16/32. Default 1. */
  align?: number;
  /** BOOT_MAX_ALIGN (imgtool --max-align). Default max(8, align). */
  maxAlign?: number;
  /** Slot size (imgtool -S): the image plus its trailer must fit; required with pad/confirm. */
  slotSize?: number;
  /** Pad to slot size and write the trailer magic (imgtool --pad). */
  pad?: boolean;
  /** Also set image_ok (imgtool --confirm, implies pad). */
  confirm?: boolean;
  /** Security counter -> protected SEC_CNT TLV (imgtool -s); 'auto' derives it from the version. */
  securityCounter?: number | 'auto';
  /** PEM private key; none = hash-only image (unless `signImage` gets a signer). */
  key?: string;
  /** Embed the key hash (default) or the full public key. */
  publicKeyFormat?: 'hash' | 'full';
  /** Load address; sets ih_load_addr and RAM_LOAD (imgtool -L), or ROM_FIXED with romFixed (imgtool -F). */
  loadAddress?: number;
  romFixed?: boolean;
  /** Extra header flags to OR in. */
  flags?: number;
  /** Erased flash value (imgtool -R). Default 0xff. */
  erasedVal?: number;
  /** Max number of sectors for the trailer size (imgtool -M). Default 128. */
  maxSectors?: number;
  /** Trailer of an overwrite-only bootloader (imgtool --overwrite-only). */
  overwriteOnly?: boolean;
  /** Image hash (imgtool --sha): 'auto' is the key's (SHA-384 for P-384, else SHA-256). */
  sha?: 'auto' | 256 | 384 | 512;
  /** Ed25519 over the whole payload, SIG_PURE TLV (imgtool --pure). */
  pure?: boolean;
  /** Protected DEPENDENCY TLVs (imgtool -d). */
  dependencies?: ImageDependency[];
  /** Software type for a protected BOOT_RECORD TLV (imgtool --boot-record), at most 12 characters. */
  bootRecord?: string;
  /** IMAGE_F_NON_BOOTABLE (imgtool --non-bootable). */
  nonBootable?: boolean;
  /** Vendor and image class UUIDs (imgtool --vid/--cid): a UUID, or a name hashed into one (UUIDv5). */
  vid?: string;
  cid?: string;
  /** Zero-pad ECDSA signatures to their longest DER length (imgtool --pad-sig, for MCUboot < 1.5). */
  padSig?: boolean;
  /** Encrypt the image (imgtool -E and its options). */
  encryption?: EncryptionOptions;
  /** Extra TLVs (imgtool --custom-tlv puts them in the protected area). */
  customTlvs?: CustomTlv[];
  /**
   * Compress the body with LZMA2 (imgtool --compression; signImage only, needs the optional package lzma-native and
   * padHeader). The uncompressed image is the output when compression saves nothing.
   */
  compression?: ImageCompression;
}

/** What a compressed image carries of the uncompressed one (DECOMP_SIZE, DECOMP_SHA, DECOMP_SIGNATURE). */
interface DecompressedImage {
  size: number;
  hash: Uint8Array;
  signature?: Uint8Array;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const alignUp = (n: number, a: number) => Math.ceil(n / a) * a;

const SHA_TLV: Record<ImageHashAlgorithm, number> = { sha256: TLV_TYPES.SHA256, sha384: TLV_TYPES.SHA384, sha512: TLV_TYPES.SHA512 };
const SHA_NAME: Record<ImageHashAlgorithm, string> = { sha256: 'SHA256', sha384: 'SHA384', sha512: 'SHA512' };
const ALLOWED_SHA: Record<SignatureKeyType, (256 | 384 | 512)[]> = {
  'rsa-2048': [256],
  'rsa-3072': [256],
  'ecdsa-p256': [256],
  'ecdsa-p384': [384],
  ed25519: [256, 512],
};

/** imgtool's key_and_user_sha_to_alg_and_tlv: the image hash a key allows, or a usage error. */
export function imageHashAlgorithm(keyType: SignatureKeyType | undefined, sha: CreateImageOptions['sha'] = 'auto', pure = false): ImageHashAlgorithm {
  const alg = (n: 256 | 384 | 512) => `sha${n}` as ImageHashAlgorithm;
  if (pure && keyType !== 'ed25519') throw new ImageError('bad-option', `--pure needs an Ed25519 key${keyType ? `, not ${keyType}` : ''}`);
  if (!keyType) return sha === 'auto' ? 'sha256' : alg(sha);
  if (pure) return 'sha512';
  const allowed = ALLOWED_SHA[keyType];
  if (sha === 'auto') return alg(allowed[0]!);
  if (!allowed.includes(sha)) throw new ImageError('bad-option', `a ${keyType} key cannot be used with --sha ${sha}; allowed: ${allowed.join(', ')}`);
  return alg(sha);
}

/** imgtool's _trailer_size: the room MCUboot's trailer needs at the end of the slot. */
export function imgtoolTrailerSize(o: {
  align: number;
  maxAlign: number;
  maxSectors: number;
  overwriteOnly: boolean;
  encrypted: boolean;
  encTlvLength?: number;
}): number {
  const magicAligned = alignUp(16, o.maxAlign);
  if (o.overwriteOnly) return o.maxAlign * 2 + magicAligned;
  let size = o.maxSectors * 3 * o.align;
  if (o.encrypted) size += 2 * alignUp(o.encTlvLength ?? 16, o.maxAlign);
  return size + o.maxAlign * 4 + magicAligned;
}

const UUID_NAMESPACE_DNS = '6ba7b810-9dad-11d1-80b4-00c04fd430c8';

function uuidBytes(text: string): Uint8Array | undefined {
  const m = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.exec(text.trim());
  return m ? new Uint8Array(Buffer.from(text.trim().replace(/-/g, ''), 'hex')) : undefined;
}

/** RFC 4122 version-5 UUID of `name` in `namespace`. */
function uuid5(namespace: Uint8Array, name: string): Uint8Array {
  const h = createHash('sha1').update(namespace).update(name, 'utf8').digest().subarray(0, 16);
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  return new Uint8Array(h);
}

function u32(n: number, order: ByteOrder): Uint8Array {
  const v = new Uint8Array(4);
  new DataView(v.buffer).setUint32(0, n >>> 0, order === 'little');
  return v;
}

function dependencyTlv(dep: ImageDependency, order: ByteOrder): Uint8Array {
  const v = typeof dep.version === 'string' ? parseVersion(dep.version) : dep.version;
  if (!Number.isInteger(dep.image) || dep.image < 0 || dep.image > 0xff)
    throw new ImageError('bad-option', `dependency image number ${dep.image} is not 0..255`);
  const out = new Uint8Array(12);
  const dv = new DataView(out.buffer);
  dv.setUint8(0, dep.image);
  dv.setUint8(4, v.major);
  dv.setUint8(5, v.minor);
  dv.setUint16(6, v.revision, order === 'little');
  dv.setUint32(8, v.build, order === 'little');
  return out;
}

/** imgtool's boot_record.create_sw_component_data: a CBOR map in this key order (the measurement last, for the bootloader to fill). */
function bootRecordTlv(swType: string, version: ImageVersion, hashAlg: ImageHashAlgorithm, signerId: Uint8Array): Uint8Array {
  if (swType.length > 12) throw new ImageError('bad-option', `boot record software type "${swType}" is ${swType.length} characters; at most 12`);
  const properties = new Map<number, unknown>([
    [1, swType],
    [4, `${version.major}.${version.minor}.${version.revision}`],
    [5, signerId],
    [6, SHA_NAME[hashAlg]],
    [2, new Uint8Array(digest(hashAlg, new Uint8Array(0)).length)],
  ]);
  return cborEncode(properties, { mapSorter: () => 0 });
}

/** The key exchange a signing key type goes with, as imgtool's sign checks ("Signing and encryption must use the same type of key"). */
const EXCHANGE_FOR_SIGNER: Partial<Record<SignatureKeyType, KeyExchange | 'none'>> = {
  'rsa-2048': 'rsa-oaep',
  'rsa-3072': 'rsa-oaep',
  'ecdsa-p256': 'ecies-p256',
  'ecdsa-p384': 'none',
};

function checkedEncryption(enc: EncryptionOptions, signer: SignatureKeyType | undefined): EncryptionOptions & { wrapKey: EncryptionKey; tlvType: number } {
  const wrapKey = loadEncryptionKey(enc.key);
  const tlvType = encTlvType(wrapKey.exchange, enc.hmacSha ?? 256);
  // A shared AES key-wrap key is independent of the signature scheme (MCUboot's ENC_KW pairs with any of them).
  const wanted = signer && wrapKey.exchange !== 'aes-kw' ? EXCHANGE_FOR_SIGNER[signer] : undefined;
  if (wanted === 'none') throw new ImageError('bad-option', 'an ECDSA P-384 signed image cannot be encrypted: MCUboot has no P-384 key exchange');
  if (wanted !== undefined && wanted !== wrapKey.exchange) {
    throw new ImageError(
      'bad-option',
      `signing and encryption must use the same type of key: a ${signer} signing key goes with ${wanted}, not ${wrapKey.exchange}`,
    );
  }
  return { ...enc, wrapKey, tlvType };
}

/** Public key facts the image needs before it is signed. */
export interface SigningKeyInfo {
  keyType: SignatureKeyType;
  publicKey: Uint8Array;
}

/** An image laid out and hashed, waiting for its signature. */
export interface PreparedImage {
  /** Header, body and protected TLVs, in clear: what is hashed and signed (imgtool's payload). */
  payload: Uint8Array;
  /** The image hash (imgtool's digest). */
  digest: Uint8Array;
  hashAlgorithm: ImageHashAlgorithm;
  pure: boolean;
  signer?: SigningKeyInfo;
  readonly layout: Layout;
}

interface Layout {
  headerSize: number;
  /** Where the protected TLV area starts in `payload`. */
  bodyEnd: number;
  erased: number;
  align: number;
  maxAlign: number;
  publicKeyFormat: 'hash' | 'full';
  encryption?: EncryptionOptions & { wrapKey: EncryptionKey; tlvType: number };
  slotSize?: number;
  pad: boolean;
  confirm: boolean;
  maxSectors: number;
  overwriteOnly: boolean;
  unprotectedTlvs: CustomTlv[];
  byteOrder: ByteOrder;
}

/** Lays out and hashes the image (imgtool's create, up to the signature). */
export function prepareImage(payload: Uint8Array, opts: CreateImageOptions = {}, signer?: SigningKeyInfo, decompressed?: DecompressedImage): PreparedImage {
  const headerSize = opts.headerSize ?? 0x20;
  const byteOrder = opts.endian ?? 'little';
  const erased = opts.erasedVal ?? 0xff;
  const align = opts.align ?? 1;
  const maxAlign = opts.maxAlign ?? Math.max(8, align);
  if (![1, 2, 4, 8, 16, 32].includes(align)) throw new ImageError('bad-option', `align must be 1, 2, 4, 8, 16 or 32, got ${align}`);
  if (![8, 16, 32].includes(maxAlign)) throw new ImageError('bad-option', `max-align must be 8, 16 or 32, got ${maxAlign}`);
  if (!Number.isInteger(headerSize) || headerSize < IMAGE_HEADER_SIZE || headerSize > 0xffff) {
    throw new ImageError('bad-option', `header size ${headerSize} must be between 32 and 65535`);
  }
  if (!Number.isInteger(erased) || erased < 0 || erased > 0xff) throw new ImageError('bad-option', `erased value ${erased} is not a byte`);
  const version = typeof opts.version === 'string' ? parseVersion(opts.version) : (opts.version ?? { major: 0, minor: 0, revision: 0, build: 0 });
  const pure = Boolean(opts.pure);
  const hashAlgorithm = imageHashAlgorithm(signer?.keyType, opts.sha, pure);
  const encryption = opts.encryption ? checkedEncryption(opts.encryption, signer?.keyType) : undefined;

  let body: Uint8Array;
  if (opts.padHeader) {
    body = concat([new Uint8Array(headerSize).fill(erased), payload]);
  } else {
    if (payload.length < headerSize || payload.subarray(0, headerSize).some((b) => b !== 0)) {
      throw new ImageError('bad-option', `payload must start with ${hex(headerSize)} zero bytes of header room; use padHeader`);
    }
    body = payload.slice();
  }
  if (opts.encryption && body.length % 16 !== 0) body = concat([body, new Uint8Array(16 - (body.length % 16))]);
  const imgSize = body.length - headerSize;

  // Protected TLVs, in imgtool's order.
  const prot: { type: number; value: Uint8Array }[] = [];
  const counter = opts.securityCounter === 'auto' ? ((version.major << 24) + (version.minor << 16) + version.revision) >>> 0 : opts.securityCounter;
  if (counter !== undefined) prot.push({ type: TLV_TYPES.SEC_CNT, value: u32(counter, byteOrder) });
  if (opts.bootRecord !== undefined) {
    const signerId = signer ? digest(hashAlgorithm, signer.publicKey) : new Uint8Array(32);
    prot.push({ type: TLV_TYPES.BOOT_RECORD, value: bootRecordTlv(opts.bootRecord, version, hashAlgorithm, signerId) });
  }
  for (const dep of opts.dependencies ?? []) prot.push({ type: TLV_TYPES.DEPENDENCY, value: dependencyTlv(dep, byteOrder) });
  if (decompressed) {
    prot.push({ type: TLV_TYPES.DECOMP_SIZE, value: u32(decompressed.size, byteOrder) }, { type: TLV_TYPES.DECOMP_SHA, value: decompressed.hash });
    if (decompressed.signature) prot.push({ type: TLV_TYPES.DECOMP_SIGNATURE, value: decompressed.signature });
  }
  if (opts.vid !== undefined || opts.cid !== undefined) {
    if (opts.vid === undefined) throw new ImageError('bad-option', "--cid needs --vid (the class UUID is derived within the vendor's)");
    const vid = uuidBytes(opts.vid) ?? uuid5(uuidBytes(UUID_NAMESPACE_DNS)!, opts.vid);
    prot.push({ type: TLV_TYPES.UUID_VID, value: vid });
    if (opts.cid !== undefined) prot.push({ type: TLV_TYPES.UUID_CID, value: uuidBytes(opts.cid) ?? uuid5(vid, opts.cid) });
  }
  for (const t of opts.customTlvs ?? []) if (t.protected) prot.push({ type: t.type, value: t.value });
  const protArea = prot.length ? encodeTlvArea(prot, true, byteOrder) : new Uint8Array(0);

  let flags = opts.flags ?? 0;
  if (opts.encryption) flags |= opts.encryption.keyLength === 256 ? IMAGE_FLAGS.ENCRYPTED_AES256 : IMAGE_FLAGS.ENCRYPTED_AES128;
  if (opts.loadAddress !== undefined && (opts.romFixed || opts.loadAddress !== 0)) flags |= opts.romFixed ? IMAGE_FLAGS.ROM_FIXED : IMAGE_FLAGS.RAM_LOAD;
  if (opts.nonBootable) flags |= IMAGE_FLAGS.NON_BOOTABLE;
  body.set(encodeHeader({ loadAddr: opts.loadAddress ?? 0, hdrSize: headerSize, protectTlvSize: protArea.length, imgSize, flags, version }, byteOrder), 0);

  const region = concat([body, protArea]);
  return {
    payload: region,
    digest: digest(hashAlgorithm, region),
    hashAlgorithm,
    pure,
    ...(signer ? { signer } : {}),
    layout: {
      headerSize,
      bodyEnd: body.length,
      erased,
      align,
      maxAlign,
      publicKeyFormat: opts.publicKeyFormat ?? 'hash',
      ...(encryption ? { encryption } : {}),
      ...(opts.slotSize !== undefined ? { slotSize: opts.slotSize } : {}),
      pad: Boolean(opts.pad || opts.confirm),
      confirm: Boolean(opts.confirm),
      maxSectors: opts.maxSectors ?? 128,
      overwriteOnly: Boolean(opts.overwriteOnly),
      unprotectedTlvs: (opts.customTlvs ?? []).filter((t) => !t.protected),
      byteOrder,
    },
  };
}

/** Adds the unprotected TLVs (hash, key, signature, ENC), encrypts, checks the slot and pads (imgtool's create and save). */
export function completeImage(prep: PreparedImage, signature?: Uint8Array): Uint8Array {
  const l = prep.layout;
  if (prep.signer && !signature) throw new ImageError('bad-option', 'the image has a signing key but no signature');
  const unprot: { type: number; value: Uint8Array }[] = [{ type: SHA_TLV[prep.hashAlgorithm], value: prep.digest }];
  if (prep.pure) unprot.push({ type: TLV_TYPES.SIG_PURE, value: new Uint8Array([1]) });
  if (prep.signer && signature) {
    if (l.publicKeyFormat === 'full') unprot.push({ type: TLV_TYPES.PUBKEY, value: prep.signer.publicKey });
    else unprot.push({ type: TLV_TYPES.KEYHASH, value: digest(prep.hashAlgorithm, prep.signer.publicKey) });
    unprot.push({ type: signatureTlvTypeFor(prep.signer.keyType), value: signature });
  }
  for (const t of l.unprotectedTlvs) unprot.push({ type: t.type, value: t.value });
  let body = prep.payload.subarray(0, l.bodyEnd);
  let encTlvLength: number | undefined;
  if (l.encryption) {
    const plainKey = randomImageKey(l.encryption.keyLength ?? 128);
    const value = wrapImageKey(l.encryption.wrapKey, plainKey, l.encryption.hmacSha ?? 256);
    encTlvLength = value.length;
    unprot.push({ type: l.encryption.tlvType, value });
    if (!l.encryption.clear) body = concat([body.subarray(0, l.headerSize), aesCtr(plainKey, body.subarray(l.headerSize))]);
  }
  const image = concat([body, prep.payload.subarray(l.bodyEnd), encodeTlvArea(unprot, false, l.byteOrder)]);

  if (l.pad && l.slotSize === undefined) throw new ImageError('bad-option', 'pad/confirm need slotSize');
  if (l.slotSize === undefined || l.slotSize === 0) return image;
  const tsize = imgtoolTrailerSize({
    align: l.align,
    maxAlign: l.maxAlign,
    maxSectors: l.maxSectors,
    overwriteOnly: l.overwriteOnly,
    encrypted: Boolean(l.encryption),
    ...(l.encryption?.saveEncTlv && encTlvLength !== undefined ? { encTlvLength } : {}),
  });
  if (image.length + tsize > l.slotSize) {
    throw new ImageError('too-large', `image size (${hex(image.length)}) + trailer (${hex(tsize)}) exceeds the slot size ${hex(l.slotSize)}`);
  }
  if (!l.pad) return image;
  const tail = new Uint8Array(l.slotSize - image.length).fill(l.erased);
  const magic = bootMagic(l.maxAlign);
  tail.set(magic, tail.length - magic.length);
  if (l.confirm && !l.overwriteOnly) tail[tail.length - alignUp(16, l.maxAlign) - l.maxAlign] = 0x01;
  return concat([image, tail]);
}

/** Build a signed (or hash-only) MCUboot image from a raw payload with a PEM key file, like `imgtool sign`. */
export function createImage(payload: Uint8Array, opts: CreateImageOptions = {}): Uint8Array {
  if (opts.compression) throw new ImageError('bad-option', 'compression runs asynchronously: use signImage');
  const signer = opts.key !== undefined ? keyFileSigner(opts.key, { padSig: Boolean(opts.padSig) }) : undefined;
  const prep = prepareImage(payload, opts, signer);
  return completeImage(prep, signer?.signSync({ payload: prep.payload, digest: prep.digest, hashAlgorithm: prep.hashAlgorithm, pure: prep.pure }));
}

/** What signImage made: the image, its signature, and for a compressed image the sizes imgtool prints. */
export interface SignedImage {
  image: Uint8Array;
  signature?: Uint8Array;
  compression?: { originalSize: number; compressedSize: number; used: boolean };
}

/** Like createImage, with any signer: a key file, PKCS#11, an external command, a WebCrypto key, a fixed signature. */
export async function signImage(payload: Uint8Array, opts: CreateImageOptions & { signer?: ImageSigner } = {}): Promise<SignedImage> {
  const signer = opts.signer ?? (opts.key !== undefined ? keyFileSigner(opts.key, { padSig: Boolean(opts.padSig) }) : undefined);
  const sign = (prep: PreparedImage) =>
    signer ? signer.sign({ payload: prep.payload, digest: prep.digest, hashAlgorithm: prep.hashAlgorithm, pure: prep.pure }) : Promise.resolve(undefined);
  if (opts.compression && !opts.padHeader) {
    throw new ImageError('bad-option', '--compression needs --pad-header: MCUboot hashes the header room of the decompressed image as erased flash');
  }
  if (opts.compression && opts.encryption) {
    throw new ImageError('bad-option', 'an image cannot be both compressed and encrypted: MCUboot decompresses only images in clear');
  }
  const prep = prepareImage(payload, opts, signer);
  const signature = await sign(prep);
  if (!opts.compression) return { image: completeImage(prep, signature), ...(signature ? { signature } : {}) };

  const body = await compressedBody(payload, opts.compression);
  const decompressed: DecompressedImage = { size: payload.length, hash: prep.digest, ...(signature ? { signature } : {}) };
  const tlvBytes = 4 + prep.digest.length + (signature?.length ?? 0);
  const report = { originalSize: payload.length, compressedSize: body.length - 2 };
  // imgtool keeps the uncompressed image when compressing does not pay for the DECOMP_* values (the slot check is
  // then the uncompressed image's).
  if (report.compressedSize + tlvBytes >= payload.length) {
    return { image: completeImage(prep, signature), ...(signature ? { signature } : {}), compression: { ...report, used: false } };
  }
  const flags = (opts.flags ?? 0) | compressionFlags(opts.compression);
  const cprep = prepareImage(body, { ...opts, flags }, signer, decompressed);
  const csignature = await sign(cprep);
  return { image: completeImage(cprep, csignature), ...(csignature ? { signature: csignature } : {}), compression: { ...report, used: true } };
}
