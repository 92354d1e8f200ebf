/** Node signers: a PEM key file, a signature made elsewhere (imgtool's --fix-sig), and the check of any signature. */
import { createPublicKey, sign as nodeSign, verify as nodeVerify, constants, type KeyObject } from 'node:crypto';
import { ImageError, type ImageErrorCode } from './errors.js';
import { loadKey, publicKeyBytes, type LoadedKey } from './crypto-node.js';
import { ecdsaRawToDer, isDerEcdsaSignature, signatureHash, type ImageSigner, type SignRequest, type SignatureKeyType } from './signer.js';

/** Early MCUboot (< 1.5) wanted ECDSA signatures zero-padded to their longest DER length (imgtool --pad-sig). */
const PADDED_ECDSA_LENGTH: Partial<Record<SignatureKeyType, number>> = { 'ecdsa-p256': 72, 'ecdsa-p384': 104 };

function pss(key: KeyObject) {
  return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 };
}

/** A signer that also signs synchronously (Node crypto), for the synchronous `createImage`. */
export interface SyncImageSigner extends ImageSigner {
  signSync(request: SignRequest): Uint8Array;
}

/** Signs with a PEM private key, as imgtool does with `-k key.pem`. */
export function keyFileSigner(pem: string, opts: { padSig?: boolean } = {}): SyncImageSigner {
  const key = loadKey(pem);
  const privateKey = key.privateKey;
  if (!privateKey) throw new ImageError('bad-key', 'signing needs a private key, got a public key');
  const signSync = (req: SignRequest): Uint8Array => {
    switch (key.type) {
      case 'rsa-2048':
      case 'rsa-3072':
        return new Uint8Array(nodeSign('sha256', req.payload, pss(privateKey)));
      case 'ecdsa-p256':
      case 'ecdsa-p384':
        return padEcdsa(key.type, new Uint8Array(nodeSign(signatureHash(key.type), req.payload, privateKey)), opts.padSig);
      case 'ed25519':
        return new Uint8Array(nodeSign(null, req.pure ? req.payload : req.digest, privateKey));
    }
  };
  return { keyType: key.type, publicKey: publicKeyBytes(key), signSync, sign: async (req) => signSync(req) };
}

function padEcdsa(type: SignatureKeyType, sig: Uint8Array, pad: boolean | undefined): Uint8Array {
  const len = PADDED_ECDSA_LENGTH[type];
  if (!pad || len === undefined || sig.length >= len) return sig;
  const out = new Uint8Array(len);
  out.set(sig);
  return out;
}

/** The public key of a PEM file (private or public) as a LoadedKey, for signers whose private half is elsewhere. */
export function publicKeyOf(pem: string): LoadedKey {
  const k = loadKey(pem);
  return { type: k.type, publicKey: k.publicKey };
}

function keyObjectFromImgtoolBytes(keyType: SignatureKeyType, bytes: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.from(bytes), format: 'der', type: keyType.startsWith('rsa') ? 'pkcs1' : 'spki' });
}

/**
 * A signature from outside (a command, an HSM, a file) as the TLV value MCUboot expects: raw r||s ECDSA becomes DER,
 * then the signature must verify with the signer's public key, or it is refused with a clear message.
 */
export function checkedSignature(
  keyType: SignatureKeyType,
  publicKey: Uint8Array,
  req: SignRequest,
  sig: Uint8Array,
  source: string,
  code: ImageErrorCode = 'signature-mismatch',
): Uint8Array {
  let value = sig;
  if (keyType.startsWith('ecdsa') && !isDerEcdsaSignature(sig)) {
    const rawLength = keyType === 'ecdsa-p384' ? 96 : 64;
    if (sig.length !== rawLength) {
      throw new ImageError(code, `${source}: ${sig.length} bytes that are not an ECDSA signature (DER, or ${rawLength}-byte r||s)`);
    }
    value = ecdsaRawToDer(sig);
  }
  const key = keyObjectFromImgtoolBytes(keyType, publicKey);
  let ok = false;
  try {
    switch (keyType) {
      case 'rsa-2048':
      case 'rsa-3072':
        ok = nodeVerify('sha256', req.payload, pss(key), value);
        break;
      case 'ecdsa-p256':
      case 'ecdsa-p384':
        ok = nodeVerify(signatureHash(keyType), req.payload, key, value);
        break;
      case 'ed25519':
        ok = nodeVerify(null, req.pure ? req.payload : req.digest, key, value);
        break;
    }
  } catch {
    ok = false;
  }
  if (!ok) throw new ImageError(code, `${source}: the signature does not verify with the ${keyType} public key`);
  return value;
}

/** The key type and imgtool public key bytes of a PEM key, for an image laid out before it is signed elsewhere. */
export function signingKeyInfo(pem: string): { keyType: SignatureKeyType; publicKey: Uint8Array } {
  const key = publicKeyOf(pem);
  return { keyType: key.type, publicKey: publicKeyBytes(key) };
}

/** imgtool's --fix-sig/--fix-sig-pubkey: a signature made offline, checked against the public key before it is used. */
export function fixedSignatureSigner(publicKeyPem: string, signature: Uint8Array): ImageSigner {
  const key = publicKeyOf(publicKeyPem);
  const publicKey = publicKeyBytes(key);
  return {
    keyType: key.type,
    publicKey,
    sign: async (req) => checkedSignature(key.type, publicKey, req, signature, 'the fixed signature (--fix-sig)'),
  };
}
