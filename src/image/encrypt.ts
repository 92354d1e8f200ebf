/**
 * MCUboot image encryption (Node crypto): the random AES key reaches the device in an ENC TLV, wrapped with RSA-OAEP
 * (ENC_RSA2048), ECIES-P256 (ENC_EC256), ECIES-X25519 (ENC_X25519, or ENC_X25519_SHA512 with HMAC-SHA512) or AES key
 * wrap, RFC 3394, under a key both sides share (ENC_KW: imgtool's keys/aeskw.py, a 16- or 32-byte raw key file); the
 * image body is AES-CTR with a zero nonce. Follows imgtool's image.py (ecies_hkdf, create) and MCUboot's
 * boot/bootutil/src/encrypt_misc.c (HKDF info "MCUBoot_ECIES_v1", derived key = AES key then HMAC key) and
 * encrypted.c (TLV layouts: ephemeral public key, MAC tag, wrapped key).
 */
import {
  constants,
  createCipheriv,
  createHmac,
  createDecipheriv,
  createPublicKey,
  createSecretKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
  timingSafeEqual,
  type KeyObject,
} from 'node:crypto';
import { ImageError } from './errors.js';
import { readPemKey } from './crypto-node.js';
import { TLV_TYPES } from './tlv.js';
import { IMAGE_FLAGS } from './header.js';
import { parseImage } from './image.js';

export type KeyExchange = 'rsa-oaep' | 'ecies-p256' | 'ecies-x25519' | 'aes-kw';
export type AesKeyLength = 128 | 256;
export type HmacSha = 256 | 512;

export const ENC_TLV_TYPES: ReadonlySet<number> = new Set([
  TLV_TYPES.ENC_RSA2048,
  TLV_TYPES.ENC_KW,
  TLV_TYPES.ENC_EC256,
  TLV_TYPES.ENC_X25519,
  TLV_TYPES.ENC_X25519_SHA512,
]);

const HKDF_INFO = 'MCUBoot_ECIES_v1';

/** AES key wrap's key-encryption key sizes (imgtool keys/aeskw.py accepts 16 or 32 raw bytes). */
const KW_KEY_LENGTHS: ReadonlySet<number> = new Set([16, 32]);
/** RFC 3394's default initial value. */
const KW_IV = Buffer.from('a6a6a6a6a6a6a6a6', 'hex');

export interface EncryptionKey {
  exchange: KeyExchange;
  /** The key that wraps (for AES-KW the shared secret key, as `privateKey` too). */
  publicKey: KeyObject;
  privateKey?: KeyObject;
}

/**
 * Reads an encryption key (public for signing, private for decrypting): a PEM RSA-2048, EC P-256 or X25519 key, or
 * the raw bytes of an AES key-wrap key (16 or 32 bytes that are not PEM text).
 */
export function loadEncryptionKey(key: string | Uint8Array): EncryptionKey {
  if (typeof key !== 'string') {
    const text = new TextDecoder().decode(key);
    if (!text.trimStart().startsWith('-----')) {
      if (!KW_KEY_LENGTHS.has(key.length)) {
        throw new ImageError('bad-key', `the encryption key is neither PEM nor a raw AES key-wrap key (16 or 32 bytes): it has ${key.length} bytes`);
      }
      const secret = createSecretKey(key);
      return { exchange: 'aes-kw', publicKey: secret, privateKey: secret };
    }
    key = text;
  }
  const { publicKey, privateKey } = readPemKey(key, 'the encryption key');
  const type = publicKey.asymmetricKeyType;
  const d = publicKey.asymmetricKeyDetails ?? {};
  let exchange: KeyExchange;
  if (type === 'rsa') {
    if (d.modulusLength !== 2048)
      throw new ImageError('bad-key', `RSA-OAEP encryption needs an RSA-2048 key (MCUboot's ENC_RSA2048), got RSA-${d.modulusLength}`);
    exchange = 'rsa-oaep';
  } else if (type === 'ec') {
    if (d.namedCurve !== 'prime256v1') throw new ImageError('bad-key', `ECIES encryption needs a P-256 key, got curve ${d.namedCurve}`);
    exchange = 'ecies-p256';
  } else if (type === 'x25519') exchange = 'ecies-x25519';
  else throw new ImageError('bad-key', `a ${type} key cannot encrypt MCUboot images (RSA-2048, EC P-256 or X25519)`);
  return { exchange, publicKey, ...(privateKey ? { privateKey } : {}) };
}

/** The ENC TLV type a key exchange writes. */
export function encTlvType(exchange: KeyExchange, hmac: HmacSha): number {
  if (hmac === 512 && exchange !== 'ecies-x25519')
    throw new ImageError('bad-option', 'HMAC-SHA512 is only defined for ECIES-X25519 (--hmac-sha 512 needs an X25519 encryption key)');
  switch (exchange) {
    case 'rsa-oaep':
      return TLV_TYPES.ENC_RSA2048;
    case 'ecies-p256':
      return TLV_TYPES.ENC_EC256;
    case 'ecies-x25519':
      return hmac === 512 ? TLV_TYPES.ENC_X25519_SHA512 : TLV_TYPES.ENC_X25519;
    case 'aes-kw':
      return TLV_TYPES.ENC_KW;
  }
}

const ECIES_PUBLIC_LENGTH: Record<'ecies-p256' | 'ecies-x25519', number> = { 'ecies-p256': 65, 'ecies-x25519': 32 };

/** AES-CTR with MCUboot's all-zero initial counter (the same operation encrypts and decrypts). */
export function aesCtr(key: Uint8Array, data: Uint8Array): Uint8Array {
  const cipher = createCipheriv(key.length === 32 ? 'aes-256-ctr' : 'aes-128-ctr', key, Buffer.alloc(16));
  return new Uint8Array(Buffer.concat([cipher.update(data), cipher.final()]));
}

/** HKDF over the shared secret: the key that wraps the image key, then the MAC key (hash-sized). */
function eciesKeys(hmac: HmacSha, keyLength: number, shared: Buffer) {
  const hash = hmac === 512 ? 'sha512' : 'sha256';
  const derived = Buffer.from(hkdfSync(hash, shared, Buffer.alloc(0), HKDF_INFO, keyLength + hmac / 8));
  return { aesKey: derived.subarray(0, keyLength), macKey: derived.subarray(keyLength), hash };
}

function rawPublic(exchange: 'ecies-p256' | 'ecies-x25519', key: KeyObject): Buffer {
  const jwk = key.export({ format: 'jwk' });
  const x = Buffer.from(jwk.x!, 'base64url');
  return exchange === 'ecies-p256' ? Buffer.concat([Buffer.from([4]), x, Buffer.from(jwk.y!, 'base64url')]) : x;
}

function kwCipherName(kek: KeyObject): string {
  return `id-aes${(kek.symmetricKeySize ?? 16) * 8}-wrap`;
}

/** The ENC TLV value carrying `plainKey` to the holder of the private half of `enc`. */
export function wrapImageKey(enc: EncryptionKey, plainKey: Uint8Array, hmac: HmacSha): Uint8Array {
  if (enc.exchange === 'aes-kw') {
    const cipher = createCipheriv(kwCipherName(enc.publicKey), enc.publicKey, KW_IV);
    return new Uint8Array(Buffer.concat([cipher.update(plainKey), cipher.final()]));
  }
  if (enc.exchange === 'rsa-oaep') {
    return new Uint8Array(publicEncrypt({ key: enc.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, plainKey));
  }
  const ephemeral = enc.exchange === 'ecies-p256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('x25519');
  const shared = diffieHellman({ privateKey: ephemeral.privateKey, publicKey: enc.publicKey });
  const k = eciesKeys(hmac, plainKey.length, shared);
  const cipherKey = aesCtr(k.aesKey, plainKey);
  const tag = createHmac(k.hash, k.macKey).update(cipherKey).digest();
  return new Uint8Array(Buffer.concat([rawPublic(enc.exchange, ephemeral.publicKey), tag, cipherKey]));
}

/** Recovers the image's AES key from its ENC TLV with the device's private key, as MCUboot's boot_decrypt_key does. */
export function unwrapImageKey(enc: EncryptionKey, tlvType: number, value: Uint8Array, keyLength: number): Uint8Array {
  const privateKey = enc.privateKey;
  if (!privateKey) throw new ImageError('bad-key', 'decrypting needs the private encryption key, got a public key');
  const expected = (() => {
    switch (tlvType) {
      case TLV_TYPES.ENC_RSA2048:
        return 'rsa-oaep';
      case TLV_TYPES.ENC_EC256:
        return 'ecies-p256';
      case TLV_TYPES.ENC_X25519:
      case TLV_TYPES.ENC_X25519_SHA512:
        return 'ecies-x25519';
      case TLV_TYPES.ENC_KW:
        return 'aes-kw';
      default:
        throw new ImageError('bad-key', `ENC TLV 0x${tlvType.toString(16)} is not a known key exchange`);
    }
  })();
  if (expected !== enc.exchange) {
    throw new ImageError('wrong-key', `the image's key is wrapped for ${expected} but the decryption key is for ${enc.exchange}`);
  }
  if (enc.exchange === 'aes-kw') {
    if (value.length !== keyLength + 8) {
      throw new ImageError('tlv-overrun', `ENC_KW TLV has ${value.length} bytes, expected ${keyLength + 8} for AES-${keyLength * 8}`);
    }
    try {
      const decipher = createDecipheriv(kwCipherName(privateKey), privateKey, KW_IV);
      return new Uint8Array(Buffer.concat([decipher.update(value), decipher.final()]));
    } catch {
      throw new ImageError('wrong-key', 'the AES key-wrapped image key does not unwrap with this key: the image was encrypted for another key');
    }
  }
  if (enc.exchange === 'rsa-oaep') {
    try {
      return new Uint8Array(privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, value));
    } catch {
      throw new ImageError('wrong-key', 'the RSA-OAEP wrapped image key does not decrypt with this key: the image was encrypted for another key');
    }
  }
  const hmac: HmacSha = tlvType === TLV_TYPES.ENC_X25519_SHA512 ? 512 : 256;
  const pubLength = ECIES_PUBLIC_LENGTH[enc.exchange];
  const macLength = hmac / 8;
  if (value.length !== pubLength + macLength + keyLength) {
    throw new ImageError(
      'tlv-overrun',
      `ENC TLV has ${value.length} bytes, expected ${pubLength + macLength + keyLength} for ${enc.exchange} with AES-${keyLength * 8}`,
    );
  }
  const ephemeralRaw = value.subarray(0, pubLength);
  const tag = value.subarray(pubLength, pubLength + macLength);
  const cipherKey = value.subarray(pubLength + macLength);
  let ephemeral: KeyObject;
  try {
    ephemeral =
      enc.exchange === 'ecies-p256'
        ? createPublicKey({
            key: {
              kty: 'EC',
              crv: 'P-256',
              x: Buffer.from(ephemeralRaw.subarray(1, 33)).toString('base64url'),
              y: Buffer.from(ephemeralRaw.subarray(33)).toString('base64url'),
            },
            format: 'jwk',
          })
        : createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(ephemeralRaw).toString('base64url') }, format: 'jwk' });
  } catch {
    throw new ImageError('bad-key', 'the ENC TLV does not hold a valid ephemeral public key');
  }
  const shared = diffieHellman({ privateKey, publicKey: ephemeral });
  const k = eciesKeys(hmac, keyLength, shared);
  const expectedTag = createHmac(k.hash, k.macKey).update(cipherKey).digest();
  if (!timingSafeEqual(expectedTag, tag)) {
    throw new ImageError('wrong-key', `the ENC TLV's MAC does not match: the image was encrypted for another ${enc.exchange} key`);
  }
  return aesCtr(k.aesKey, cipherKey);
}

/** A fresh random AES key. */
export function randomImageKey(length: AesKeyLength): Uint8Array {
  return new Uint8Array(randomBytes(length / 8));
}

/** True when the header says the body is encrypted (IMAGE_F_ENCRYPTED_AES128 or _AES256). */
export function isEncryptedImage(flags: number): boolean {
  return (flags & (IMAGE_FLAGS.ENCRYPTED_AES128 | IMAGE_FLAGS.ENCRYPTED_AES256)) !== 0;
}

/**
 * The image with its body decrypted, as MCUboot reads it when it validates and copies an encrypted secondary image
 * (loader.c, bootutil_img_hash with MUST_DECRYPT): the header, TLVs and anything after them are unchanged.
 */
export function decryptImage(bytes: Uint8Array, privateKey: string | Uint8Array): Uint8Array {
  const img = parseImage(bytes);
  const { flags, hdrSize, imgSize } = img.header;
  if (!isEncryptedImage(flags)) throw new ImageError('bad-option', 'the image is not encrypted (no ENCRYPTED_AES128/256 flag)');
  const encTlv = img.unprotectedArea.tlvs.find((t) => ENC_TLV_TYPES.has(t.type));
  if (!encTlv) throw new ImageError('bad-key', 'the image is flagged encrypted but has no ENC TLV carrying its key');
  const keyLength = flags & IMAGE_FLAGS.ENCRYPTED_AES256 ? 32 : 16;
  const plainKey = unwrapImageKey(loadEncryptionKey(privateKey), encTlv.type, encTlv.value, keyLength);
  const out = bytes.slice();
  out.set(aesCtr(plainKey, bytes.subarray(hdrSize, hdrSize + imgSize)), hdrSize);
  return out;
}
