import { ImageError, hex } from './errors.js';
import { encodeHeader, parseVersion, IMAGE_FLAGS, IMAGE_HEADER_SIZE, type ImageVersion } from './header.js';
import { encodeTlvArea, TLV_TYPES } from './tlv.js';
import { buildTrailerTail, trailerSize } from './trailer.js';
import { digest, hashAlgFor, loadKey, publicKeyBytes, signImage, type KeyType } from './crypto-node.js';

export interface CustomTlv {
  type: number;
  value: Uint8Array;
  protected?: boolean;
}

export interface CreateImageOptions {
  /** "1.2.3+4" or a version object. Default 0.0.0+0. */
  version?: string | ImageVersion;
  /** ih_hdr_size (imgtool -H). Default 0x20. */
  headerSize?: number;
  /** Prepend `headerSize` bytes of erased value (imgtool --pad-header); otherwise the payload must start with `headerSize` zero bytes. */
  padHeader?: boolean;
  /** Flash write alignment (imgtool --align), 1/2/4/8/16/32. Default 1. */
  align?: number;
  /** BOOT_MAX_ALIGN (imgtool --max-align). Default 8. */
  maxAlign?: number;
  /** Slot size (imgtool -S); required with pad/confirm. */
  slotSize?: number;
  /** Pad to slot size and write the trailer magic (imgtool --pad). */
  pad?: boolean;
  /** Also set image_ok (imgtool --confirm, implies pad). */
  confirm?: boolean;
  /** Security counter -> protected SEC_CNT TLV (imgtool -s). */
  securityCounter?: number;
  /** PEM private key; none = hash-only image. */
  key?: string;
  /** Embed the key hash (default) or the full public key. */
  publicKeyFormat?: 'hash' | 'full';
  /** Load address; sets ih_load_addr and RAM_LOAD (or ROM_FIXED with romFixed). */
  loadAddress?: number;
  romFixed?: boolean;
  /** Extra header flags to OR in. */
  flags?: number;
  /** Erased flash value (imgtool -E). Default 0xff. */
  erasedVal?: number;
  /** Max number of sectors for the trailer size check (imgtool -M). Default 128. */
  maxSectors?: number;
  /** Extra TLVs (imgtool --custom-tlv); protected ones go in the protected area. */
  customTlvs?: CustomTlv[];
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

/** Build a signed (or hash-only) MCUboot image from a raw payload, like `imgtool sign`. */
export function createImage(payload: Uint8Array, opts: CreateImageOptions = {}): Uint8Array {
  const headerSize = opts.headerSize ?? 0x20;
  const erased = opts.erasedVal ?? 0xff;
  const align = opts.align ?? 1;
  const maxAlign = opts.maxAlign ?? 8;
  if (![1, 2, 4, 8, 16, 32].includes(align)) throw new ImageError('bad-option', `align must be 1, 2, 4, 8, 16 or 32, got ${align}`);
  if (!Number.isInteger(headerSize) || headerSize < IMAGE_HEADER_SIZE || headerSize > 0xffff) {
    throw new ImageError('bad-option', `header size ${headerSize} must be between 32 and 65535`);
  }
  const version = typeof opts.version === 'string' ? parseVersion(opts.version) : opts.version ?? { major: 0, minor: 0, revision: 0, build: 0 };

  let body: Uint8Array;
  if (opts.padHeader) {
    body = concat([new Uint8Array(headerSize).fill(erased), payload]);
  } else {
    if (payload.length < headerSize || payload.subarray(0, headerSize).some((b) => b !== 0)) {
      throw new ImageError('bad-option', `payload must start with ${hex(headerSize)} zero bytes of header room; use padHeader`);
    }
    body = payload.slice();
  }
  const imgSize = body.length - headerSize;

  // Protected TLVs, in imgtool's order.
  const prot: { type: number; value: Uint8Array }[] = [];
  if (opts.securityCounter !== undefined) {
    const v = new Uint8Array(4);
    new DataView(v.buffer).setUint32(0, opts.securityCounter >>> 0, true);
    prot.push({ type: TLV_TYPES.SEC_CNT, value: v });
  }
  for (const t of opts.customTlvs ?? []) if (t.protected) prot.push({ type: t.type, value: t.value });
  const protArea = prot.length ? encodeTlvArea(prot, true) : new Uint8Array(0);

  let flags = opts.flags ?? 0;
  if (opts.loadAddress !== undefined) flags |= opts.romFixed ? IMAGE_FLAGS.ROM_FIXED : IMAGE_FLAGS.RAM_LOAD;
  const header = encodeHeader({
    loadAddr: opts.loadAddress ?? 0,
    hdrSize: headerSize,
    protectTlvSize: protArea.length,
    imgSize,
    flags,
    version,
  });
  body.set(header, 0);

  const key = opts.key !== undefined ? loadKey(opts.key) : undefined;
  if (key && !key.privateKey) throw new ImageError('bad-key', 'signing needs a private key, got a public key');
  const alg = hashAlgFor(key?.type);
  const region = concat([body, protArea]);
  const hash = digest(alg, region);

  const unprot: { type: number; value: Uint8Array }[] = [{ type: alg === 'sha384' ? TLV_TYPES.SHA384 : TLV_TYPES.SHA256, value: hash }];
  if (key) {
    const pub = publicKeyBytes(key);
    if (opts.publicKeyFormat === 'full') unprot.push({ type: TLV_TYPES.PUBKEY, value: pub });
    else unprot.push({ type: TLV_TYPES.KEYHASH, value: digest(alg, pub) });
    unprot.push({ type: sigTlvType(key.type), value: signImage(key, region, hash) });
  }
  for (const t of opts.customTlvs ?? []) if (!t.protected) unprot.push({ type: t.type, value: t.value });
  const image = concat([region, encodeTlvArea(unprot, false)]);

  if (opts.pad || opts.confirm) {
    const slot = opts.slotSize;
    if (!slot) throw new ImageError('bad-option', 'pad/confirm need slotSize');
    const tsize = trailerSize(align, opts.maxSectors ?? 128, maxAlign);
    if (image.length + tsize > slot) {
      throw new ImageError('too-large', `image of ${image.length} bytes plus ${tsize}-byte trailer does not fit the ${slot}-byte slot`);
    }
    const tail = buildTrailerTail(slot - image.length, { maxAlign, confirm: opts.confirm, erasedVal: erased });
    return concat([image, tail]);
  }
  if (opts.slotSize !== undefined && image.length > opts.slotSize) {
    throw new ImageError('too-large', `image of ${image.length} bytes does not fit the ${opts.slotSize}-byte slot`);
  }
  return image;
}

function sigTlvType(t: KeyType): number {
  switch (t) {
    case 'rsa-2048':
      return TLV_TYPES.RSA2048_PSS;
    case 'rsa-3072':
      return TLV_TYPES.RSA3072_PSS;
    case 'ecdsa-p256':
    case 'ecdsa-p384':
      return TLV_TYPES.ECDSA_SIG;
    case 'ed25519':
      return TLV_TYPES.ED25519;
  }
}

export { generateKey, publicKeyPem, type KeyType } from './crypto-node.js';
