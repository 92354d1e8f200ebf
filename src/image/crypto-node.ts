// Keys with node:crypto: reading, imgtool's public key bytes, generation (Node only; verification is in crypto-web.ts).
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { HashAlg, KeyType } from './crypto-web.js';
import { ImageError } from './errors.js';

export type { HashAlg, KeyType };

export function digest(alg: HashAlg, data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash(alg).update(data).digest());
}

export interface LoadedKey {
  type: KeyType;
  publicKey: KeyObject;
  privateKey?: KeyObject;
}

export function keyTypeOf(pub: KeyObject): KeyType {
  const t = pub.asymmetricKeyType;
  const d = pub.asymmetricKeyDetails ?? {};
  if (t === 'rsa') {
    if (d.modulusLength === 2048) return 'rsa-2048';
    if (d.modulusLength === 3072) return 'rsa-3072';
    throw new ImageError('bad-key', `unsupported RSA key size ${d.modulusLength}; MCUboot supports 2048 and 3072`);
  }
  if (t === 'ec') {
    if (d.namedCurve === 'prime256v1' || d.namedCurve === 'P-256') return 'ecdsa-p256';
    if (d.namedCurve === 'secp384r1' || d.namedCurve === 'P-384') return 'ecdsa-p384';
    throw new ImageError('bad-key', `unsupported EC curve ${d.namedCurve}; MCUboot supports P-256 and P-384`);
  }
  if (t === 'ed25519') return 'ed25519';
  throw new ImageError('bad-key', `unsupported key type ${t}`);
}

/** The key pair of a private key PEM, or the public key of a public one; `what` names the key in errors. */
export function readPemKey(pem: string, what = 'key'): { publicKey: KeyObject; privateKey?: KeyObject } {
  try {
    if (/PRIVATE KEY-----/.test(pem)) {
      const privateKey = createPrivateKey(pem);
      return { privateKey, publicKey: createPublicKey(privateKey) };
    }
    return { publicKey: createPublicKey(pem) };
  } catch (e) {
    throw new ImageError('bad-key', `cannot read ${what}: ${(e as Error).message}`);
  }
}

/** Load a PEM (private or public) key. */
export function loadKey(pem: string): LoadedKey {
  const { publicKey, privateKey } = readPemKey(pem);
  return { type: keyTypeOf(publicKey), publicKey, privateKey };
}

/** The public key bytes imgtool embeds/hashes: PKCS#1 RSAPublicKey DER for RSA, SubjectPublicKeyInfo DER otherwise. */
export function publicKeyBytes(k: LoadedKey): Uint8Array {
  const der = k.type.startsWith('rsa') ? k.publicKey.export({ type: 'pkcs1', format: 'der' }) : k.publicKey.export({ type: 'spki', format: 'der' });
  return new Uint8Array(der);
}

/** Key types `image keygen` makes: the signing types, and X25519 for ECIES-X25519 encryption. */
export type KeygenType = KeyType | 'x25519';

/** Generate a signing (or X25519 encryption) key; returns the PKCS#8 PEM private key. */
export function generateKey(type: KeygenType): string {
  let kp: { privateKey: KeyObject };
  switch (type) {
    case 'rsa-2048':
      kp = generateKeyPairSync('rsa', { modulusLength: 2048 });
      break;
    case 'rsa-3072':
      kp = generateKeyPairSync('rsa', { modulusLength: 3072 });
      break;
    case 'ecdsa-p256':
      kp = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      break;
    case 'ecdsa-p384':
      kp = generateKeyPairSync('ec', { namedCurve: 'P-384' });
      break;
    case 'ed25519':
      kp = generateKeyPairSync('ed25519');
      break;
    case 'x25519':
      kp = generateKeyPairSync('x25519');
      break;
    default:
      throw new ImageError('bad-key', `unknown key type ${String(type)}`);
  }
  return kp.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** Public key PEM (SubjectPublicKeyInfo) from a private or public PEM. */
export function publicKeyPem(pem: string): string {
  return loadKey(pem).publicKey.export({ type: 'spki', format: 'pem' }).toString();
}
