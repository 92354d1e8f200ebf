import { ImageError } from './errors.js';
import { parseImage, type McubootImage } from './image.js';
import { TLV_TYPES, type Tlv } from './tlv.js';
import { digest, importPemKey, importPublicKeyDer, verifySignature, type HashAlg, type KeyType, type VerifyKey } from './crypto-web.js';

export interface VerifyOptions {
  /** PEM key (private or public). Without it, only the hash is checked (and an embedded PUBKEY is used if present). */
  key?: string;
}

export interface VerifyResult {
  /** True when every check that ran passed. */
  ok: boolean;
  /** Parsed image (absent if parsing failed). */
  image?: McubootImage;
  computedHash?: Uint8Array;
  hashOk: boolean;
  signatureChecked: boolean;
  signatureOk: boolean;
  /** Type of the signature TLV present, if any. */
  signatureType?: string;
  /** KEYHASH or PUBKEY compared with the given key: true/false, undefined if not compared. */
  keyMatch?: boolean;
  /** The first failure. */
  error?: ImageError;
}

const SIG_TLV: Record<KeyType, number> = {
  'rsa-2048': TLV_TYPES.RSA2048_PSS,
  'rsa-3072': TLV_TYPES.RSA3072_PSS,
  'ecdsa-p256': TLV_TYPES.ECDSA_SIG,
  'ecdsa-p384': TLV_TYPES.ECDSA_SIG,
  ed25519: TLV_TYPES.ED25519,
};
const SIG_TYPES = new Set<number>([TLV_TYPES.RSA2048_PSS, TLV_TYPES.RSA3072_PSS, TLV_TYPES.ECDSA_SIG, TLV_TYPES.ED25519, TLV_TYPES.ECDSA224]);

function eq(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * Verify hash, and signature when a key is given (or a PUBKEY TLV is embedded). Never rejects for image problems.
 * Runs in browsers too (WebCrypto).
 */
export async function verifyImage(bytes: Uint8Array, opts: VerifyOptions = {}): Promise<VerifyResult> {
  const r: VerifyResult = { ok: false, hashOk: false, signatureChecked: false, signatureOk: false };
  let key: VerifyKey | undefined;
  try {
    if (opts.key !== undefined) key = await importPemKey(opts.key);
    const img = parseImage(bytes);
    r.image = img;
    const region = bytes.subarray(0, img.signedSize);
    const sigTlv = img.unprotectedArea.tlvs.find((t) => SIG_TYPES.has(t.type));
    r.signatureType = sigTlv?.name;
    if (!img.hash || !img.hashAlgorithm) {
      throw new ImageError('no-hash', 'image has no SHA256/SHA384/SHA512 TLV');
    }
    const computed = await digest(img.hashAlgorithm, region);
    r.computedHash = computed;
    r.hashOk = eq(computed, img.hash);
    if (!r.hashOk) throw new ImageError('hash-mismatch', 'image has an invalid hash: computed digest differs from the hash TLV');

    const keyHashTlv = img.unprotectedArea.tlvs.find((t) => t.type === TLV_TYPES.KEYHASH);
    const pubKeyTlv = img.unprotectedArea.tlvs.find((t) => t.type === TLV_TYPES.PUBKEY);
    if (!key && pubKeyTlv) key = await importPublicKeyDer(pubKeyTlv.value);
    if (key) {
      if (!sigTlv) throw new ImageError('no-signature', 'no signature found: the image is not signed');
      r.keyMatch = await matchKey(key, img.hashAlgorithm, keyHashTlv, pubKeyTlv);
      if (r.keyMatch === false || sigTlv.type !== SIG_TLV[key.type]) {
        r.keyMatch = false;
        throw new ImageError('wrong-key', `no signature found for the given ${key.type} key (image has ${sigTlv.name} signature)`);
      }
      r.signatureChecked = true;
      r.signatureOk = await verifySignature(key, region, computed, sigTlv.value);
      if (!r.signatureOk) throw new ImageError('signature-mismatch', `${sigTlv.name} signature does not verify with the ${key.type} key`);
    }
    r.ok = true;
  } catch (e) {
    if (!(e instanceof ImageError)) throw e;
    r.error = e;
  }
  return r;
}

async function matchKey(key: VerifyKey, alg: HashAlg, keyHash?: Tlv, pubKey?: Tlv): Promise<boolean | undefined> {
  const pub = key.publicKeyBytes;
  if (pubKey) return eq(pubKey.value, pub);
  if (keyHash) {
    // imgtool hashes the key with SHA-256; MCUboot with the image hash algorithm. Accept either.
    return eq(keyHash.value, await digest('sha256', pub)) || eq(keyHash.value, await digest(alg, pub));
  }
  return undefined;
}

/** Like verifyImage but rejects with the ImageError on failure. */
export async function assertImageValid(bytes: Uint8Array, opts: VerifyOptions = {}): Promise<VerifyResult> {
  const r = await verifyImage(bytes, opts);
  if (r.error) throw r.error;
  return r;
}
