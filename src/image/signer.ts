/**
 * The one signing interface: a key file, PKCS#11, an external command, a fixed signature (imgtool's --fix-sig) or a
 * WebCrypto key all implement `ImageSigner`. Browser-safe (no Node APIs).
 */
import { ImageError } from './errors.js';
import { TLV_TYPES } from './tlv.js';
import { DER, encodeDer, readDer, readDerElements } from './der.js';

export type SignatureKeyType = 'rsa-2048' | 'rsa-3072' | 'ecdsa-p256' | 'ecdsa-p384' | 'ed25519';
export type ImageHashAlgorithm = 'sha256' | 'sha384' | 'sha512';

/** What there is to sign for one image. */
export interface SignRequest {
  /** The signed region (header, body, protected TLVs): imgtool's "payload". */
  payload: Uint8Array;
  /** The image hash over `payload` (the SHA TLV's value): imgtool's "digest". */
  digest: Uint8Array;
  hashAlgorithm: ImageHashAlgorithm;
  /** Ed25519 signs the payload itself (`--pure`, SIG_PURE TLV) instead of the digest. */
  pure: boolean;
}

export interface ImageSigner {
  readonly keyType: SignatureKeyType;
  /** The public key as imgtool embeds and hashes it: PKCS#1 RSAPublicKey DER for RSA, SubjectPublicKeyInfo DER otherwise. */
  readonly publicKey: Uint8Array;
  /**
   * The signature TLV's value: RSA-PSS (SHA-256, salt 32) or DER ECDSA-Sig-Value over the payload, which is the same as
   * signing `digest` as a prehash (MCUboot's ECDSA and RSA hash matches the image hash); Ed25519 over `digest` (or the
   * payload when `pure`).
   */
  sign(request: SignRequest): Promise<Uint8Array>;
}

/** The hash a signature scheme applies to the payload (imgtool: SHA-384 for P-384, SHA-256 otherwise). */
export function signatureHash(keyType: SignatureKeyType): ImageHashAlgorithm {
  return keyType === 'ecdsa-p384' ? 'sha384' : 'sha256';
}

/** The signature TLV type of a key type. */
export function signatureTlvTypeFor(keyType: SignatureKeyType): number {
  switch (keyType) {
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

/** A non-negative big-endian integer as a minimal DER INTEGER. */
function derInteger(bytes: Uint8Array): Uint8Array {
  let v = bytes;
  while (v.length > 1 && v[0] === 0) v = v.subarray(1);
  return encodeDer(DER.INTEGER, ...(v[0]! & 0x80 ? [new Uint8Array([0]), v] : [v]));
}

/** A raw r||s ECDSA signature (WebCrypto, PKCS#11 CKM_ECDSA) as the DER ECDSA-Sig-Value MCUboot expects. */
export function ecdsaRawToDer(raw: Uint8Array): Uint8Array {
  if (raw.length !== 64 && raw.length !== 96) throw new ImageError('bad-key', `raw ECDSA signature of ${raw.length} bytes, expected 64 or 96`);
  const half = raw.length / 2;
  return encodeDer(DER.SEQUENCE, derInteger(raw.subarray(0, half)), derInteger(raw.subarray(half)));
}

/** True when `sig` is one DER SEQUENCE of two INTEGERs (an ECDSA-Sig-Value) and nothing after it. */
export function isDerEcdsaSignature(sig: Uint8Array): boolean {
  try {
    const outer = readDerElements(sig);
    if (outer.length !== 1 || outer[0]!.tag !== DER.SEQUENCE) return false;
    const parts = readDerElements(outer[0]!.value);
    return parts.length === 2 && parts.every((p) => p.tag === DER.INTEGER && p.value.length > 0);
  } catch {
    return false;
  }
}

const WEB_HASH: Record<ImageHashAlgorithm, string> = { sha256: 'SHA-256', sha384: 'SHA-384', sha512: 'SHA-512' };

/**
 * A signer over a WebCrypto private key, which may be non-extractable (a browser's, or Node's `crypto.subtle`).
 * `publicKey` is imgtool's public key bytes (see ImageSigner); `webCryptoPublicKeyBytes` makes them from a CryptoKey.
 */
export function webCryptoSigner(
  keyType: SignatureKeyType,
  privateKey: CryptoKey,
  publicKey: Uint8Array,
  subtle: SubtleCrypto = globalThis.crypto.subtle,
): ImageSigner {
  return {
    keyType,
    publicKey,
    async sign(req: SignRequest): Promise<Uint8Array> {
      switch (keyType) {
        case 'rsa-2048':
        case 'rsa-3072':
          return new Uint8Array(await subtle.sign({ name: 'RSA-PSS', saltLength: 32 }, privateKey, new Uint8Array(req.payload)));
        case 'ecdsa-p256':
        case 'ecdsa-p384': {
          const raw = await subtle.sign({ name: 'ECDSA', hash: WEB_HASH[signatureHash(keyType)] }, privateKey, new Uint8Array(req.payload));
          return ecdsaRawToDer(new Uint8Array(raw));
        }
        case 'ed25519':
          return new Uint8Array(await subtle.sign({ name: 'Ed25519' }, privateKey, new Uint8Array(req.pure ? req.payload : req.digest)));
      }
    },
  };
}

/** imgtool's public key bytes for a WebCrypto public key: PKCS#1 for RSA (unwrapped from the SPKI), SPKI otherwise. */
export async function webCryptoPublicKeyBytes(
  keyType: SignatureKeyType,
  publicKey: CryptoKey,
  subtle: SubtleCrypto = globalThis.crypto.subtle,
): Promise<Uint8Array> {
  const spki = new Uint8Array(await subtle.exportKey('spki', publicKey));
  return keyType.startsWith('rsa') ? rsaSpkiToPkcs1(spki) : spki;
}

/** The RSAPublicKey inside an RSA SubjectPublicKeyInfo (the BIT STRING's content after its unused-bits byte). */
export function rsaSpkiToPkcs1(spki: Uint8Array): Uint8Array {
  const parts = readDerElements(readDer(spki, DER.SEQUENCE));
  const bits = parts[1];
  if (parts.length !== 2 || bits?.tag !== DER.BIT_STRING) throw new ImageError('bad-key', 'not an RSA SubjectPublicKeyInfo');
  return bits.value.slice(1);
}
