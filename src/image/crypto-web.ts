// All cryptography of image verification, through WebCrypto (globalThis.crypto.subtle: browsers and Node 20).
import { DER, encodeDer, readDer, readDerElements } from './der.js';
import { ImageError } from './errors.js';
import { toHex } from '../protocol/hex.js';

export type HashAlg = 'sha256' | 'sha384' | 'sha512';
export type KeyType = 'rsa-2048' | 'rsa-3072' | 'ecdsa-p256' | 'ecdsa-p384' | 'ed25519';

/** A public key ready to check an image signature. */
export interface VerifyKey {
  type: KeyType;
  key: CryptoKey;
  /** The bytes imgtool embeds (PUBKEY) or hashes (KEYHASH): PKCS#1 RSAPublicKey for RSA, SubjectPublicKeyInfo otherwise. */
  publicKeyBytes: Uint8Array;
}

const subtle = (): SubtleCrypto => {
  const s = globalThis.crypto?.subtle;
  if (!s) throw new ImageError('bad-key', 'WebCrypto (crypto.subtle) is not available here; browsers offer it only on secure (https) pages');
  return s;
};

const source = (b: Uint8Array): Uint8Array<ArrayBuffer> => b as Uint8Array<ArrayBuffer>;

const HASH_NAME: Record<HashAlg, string> = { sha256: 'SHA-256', sha384: 'SHA-384', sha512: 'SHA-512' };

export async function digest(alg: HashAlg, data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await subtle().digest(HASH_NAME[alg], source(data)));
}

// Object identifiers, as the hex of their DER content.
const OID = {
  rsaEncryption: '2a864886f70d010101',
  ecPublicKey: '2a8648ce3d0201',
  p256: '2a8648ce3d030107',
  p384: '2b81040022',
  ed25519: '2b6570',
} as const;
const RSA_ALGORITHM_ID = encodeDer(DER.SEQUENCE, encodeDer(DER.OID, hexBytes(OID.rsaEncryption)), encodeDer(DER.NULL));

function hexBytes(h: string): Uint8Array {
  return new Uint8Array(h.match(/../g)!.map((x) => parseInt(x, 16)));
}

type KeyAlgorithm = RsaHashedImportParams | EcKeyImportParams | Algorithm;

/** The WebCrypto algorithm for an AlgorithmIdentifier (SEQUENCE content: OID and parameters). */
function algorithmOf(algorithmId: Uint8Array): KeyAlgorithm {
  const [oid, params] = readDerElements(algorithmId);
  const id = oid?.tag === DER.OID ? toHex(oid.value) : '';
  if (id === OID.rsaEncryption) return { name: 'RSA-PSS', hash: 'SHA-256' };
  if (id === OID.ed25519) return { name: 'Ed25519' };
  if (id === OID.ecPublicKey) {
    const curve = params?.tag === DER.OID ? toHex(params.value) : '';
    if (curve === OID.p256) return { name: 'ECDSA', namedCurve: 'P-256' };
    if (curve === OID.p384) return { name: 'ECDSA', namedCurve: 'P-384' };
    throw new ImageError('bad-key', 'unsupported EC curve; MCUboot supports P-256 and P-384');
  }
  throw new ImageError('bad-key', `unsupported key algorithm (OID ${id || 'missing'}); MCUboot uses RSA, ECDSA P-256/P-384 and Ed25519`);
}

function pemBody(pem: string): { label: string; der: Uint8Array } {
  const m = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/.exec(pem);
  if (!m) throw new ImageError('bad-key', 'cannot read key: not a PEM key');
  try {
    return { label: m[1]!, der: Uint8Array.from(atob(m[2]!.replace(/\s+/g, '')), (c) => c.charCodeAt(0)) };
  } catch {
    throw new ImageError('bad-key', 'cannot read key: the PEM body is not base64');
  }
}

/** SubjectPublicKeyInfo for a PKCS#1 RSAPublicKey (the form imgtool embeds RSA keys in). */
function spkiFromPkcs1(rsaPublicKey: Uint8Array): Uint8Array {
  return encodeDer(DER.SEQUENCE, RSA_ALGORITHM_ID, encodeDer(DER.BIT_STRING, new Uint8Array([0]), rsaPublicKey));
}

/** PKCS#8 for the older one-algorithm private key forms (OpenSSL's "RSA PRIVATE KEY" and "EC PRIVATE KEY"). */
function pkcs8From(label: string, der: Uint8Array): Uint8Array {
  const version = encodeDer(DER.INTEGER, new Uint8Array([0]));
  if (label === 'RSA PRIVATE KEY') return encodeDer(DER.SEQUENCE, version, RSA_ALGORITHM_ID, encodeDer(DER.OCTET_STRING, der));
  // ECPrivateKey: version, privateKey, [0] parameters (the curve), [1] publicKey.
  const curve = readDerElements(readDer(der, DER.SEQUENCE)).find((e) => e.tag === 0xa0);
  if (!curve) throw new ImageError('bad-key', 'cannot read key: EC private key names no curve');
  const algorithmId = encodeDer(DER.SEQUENCE, encodeDer(DER.OID, hexBytes(OID.ecPublicKey)), curve.value);
  return encodeDer(DER.SEQUENCE, version, algorithmId, encodeDer(DER.OCTET_STRING, der));
}

async function fromSpki(spki: Uint8Array): Promise<VerifyKey> {
  const [algorithmId, bits] = readDerElements(readDer(spki, DER.SEQUENCE));
  if (algorithmId?.tag !== DER.SEQUENCE || bits?.tag !== DER.BIT_STRING) throw new ImageError('bad-key', 'cannot read key: not a SubjectPublicKeyInfo');
  const algorithm = algorithmOf(algorithmId.value);
  let key: CryptoKey;
  try {
    key = await subtle().importKey('spki', source(spki), algorithm, true, ['verify']);
  } catch (e) {
    throw new ImageError('bad-key', `cannot read key: ${(e as Error).message}`);
  }
  return { type: keyType(key), key, publicKeyBytes: algorithm.name === 'RSA-PSS' ? bits.value.subarray(1) : spki };
}

function keyType(key: CryptoKey): KeyType {
  const a = key.algorithm as Partial<RsaHashedKeyAlgorithm & EcKeyAlgorithm>;
  if (a.name === 'Ed25519') return 'ed25519';
  if (a.namedCurve === 'P-256') return 'ecdsa-p256';
  if (a.namedCurve === 'P-384') return 'ecdsa-p384';
  if (a.modulusLength === 2048) return 'rsa-2048';
  if (a.modulusLength === 3072) return 'rsa-3072';
  throw new ImageError('bad-key', `unsupported RSA key size ${a.modulusLength}; MCUboot supports 2048 and 3072`);
}

/** The public half of a PKCS#8 private key: WebCrypto derives it (JWK export), and the private part is dropped. */
async function publicFromPkcs8(pkcs8: Uint8Array): Promise<VerifyKey> {
  const [, algorithmId] = readDerElements(readDer(pkcs8, DER.SEQUENCE));
  if (algorithmId?.tag !== DER.SEQUENCE) throw new ImageError('bad-key', 'cannot read key: not a PKCS#8 private key');
  const algorithm = algorithmOf(algorithmId.value);
  let spki: ArrayBuffer;
  try {
    const privateKey = await subtle().importKey('pkcs8', source(pkcs8), algorithm, true, ['sign']);
    const { kty, crv, x, y, n, e } = await subtle().exportKey('jwk', privateKey);
    const publicKey = await subtle().importKey('jwk', { kty, crv, x, y, n, e }, algorithm, true, ['verify']);
    spki = await subtle().exportKey('spki', publicKey);
  } catch (e) {
    throw new ImageError('bad-key', `cannot read key: ${(e as Error).message}`);
  }
  return fromSpki(new Uint8Array(spki));
}

/** A verification key from a PEM key, public or private (PKCS#8, SubjectPublicKeyInfo, or OpenSSL's RSA/EC forms). */
export async function importPemKey(pem: string): Promise<VerifyKey> {
  const { label, der } = pemBody(pem);
  switch (label) {
    case 'PUBLIC KEY':
      return fromSpki(der);
    case 'RSA PUBLIC KEY':
      return fromSpki(spkiFromPkcs1(der));
    case 'PRIVATE KEY':
      return publicFromPkcs8(der);
    case 'RSA PRIVATE KEY':
    case 'EC PRIVATE KEY':
      return publicFromPkcs8(pkcs8From(label, der));
    default:
      throw new ImageError('bad-key', `cannot read key: unsupported PEM type "${label}"`);
  }
}

/** A verification key from a PUBKEY TLV: SubjectPublicKeyInfo, or PKCS#1 RSAPublicKey as imgtool embeds RSA keys. */
export async function importPublicKeyDer(der: Uint8Array): Promise<VerifyKey> {
  let rsa = false;
  try {
    const [first] = readDerElements(readDer(der, DER.SEQUENCE));
    rsa = first?.tag === DER.INTEGER;
  } catch {
    throw new ImageError('bad-key', 'cannot read PUBKEY TLV: not DER');
  }
  return fromSpki(rsa ? spkiFromPkcs1(der) : der);
}

/** ECDSA-Sig-Value (DER, as in MCUboot's ECDSA_SIG TLV) to the fixed-size r||s WebCrypto checks; undefined if malformed. */
function ecdsaRaw(sig: Uint8Array, size: number): Uint8Array | undefined {
  try {
    const parts = readDerElements(readDer(sig, DER.SEQUENCE));
    if (parts.length !== 2 || parts.some((p) => p.tag !== DER.INTEGER)) return undefined;
    const out = new Uint8Array(2 * size);
    for (const [i, p] of parts.entries()) {
      let v = p.value;
      while (v.length > 1 && v[0] === 0) v = v.subarray(1);
      if (v.length > size) return undefined;
      out.set(v, (i + 1) * size - v.length);
    }
    return out;
  } catch {
    return undefined;
  }
}

/** Checks an image signature as MCUboot does: RSA-PSS / ECDSA over the signed region, Ed25519 over the image digest. */
export async function verifySignature(k: VerifyKey, region: Uint8Array, imageDigest: Uint8Array, sig: Uint8Array): Promise<boolean> {
  try {
    switch (k.type) {
      case 'rsa-2048':
      case 'rsa-3072':
        return await subtle().verify({ name: 'RSA-PSS', saltLength: 32 }, k.key, source(sig), source(region));
      case 'ecdsa-p256':
      case 'ecdsa-p384': {
        const p384 = k.type === 'ecdsa-p384';
        const raw = ecdsaRaw(sig, p384 ? 48 : 32);
        return raw !== undefined && (await subtle().verify({ name: 'ECDSA', hash: p384 ? 'SHA-384' : 'SHA-256' }, k.key, source(raw), source(region)));
      }
      case 'ed25519':
        return await subtle().verify({ name: 'Ed25519' }, k.key, source(sig), source(imageDigest));
    }
  } catch {
    return false;
  }
}
