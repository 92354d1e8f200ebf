/**
 * Signing with a key inside a PKCS#11 token (an HSM, a smart card, SoftHSM), named by an RFC 7512 URI
 * (`pkcs11:token=...;object=...`). The binding, `pkcs11js`, is an optional dependency loaded on demand.
 */
import { createPublicKey } from 'node:crypto';
import { requireOptional } from '../node/optional.js';
import { ImageError } from './errors.js';
import { publicKeyBytes } from './crypto-node.js';
import { checkedSignature } from './signer-key.js';
import { signatureHash, type ImageSigner, type SignRequest, type SignatureKeyType } from './signer.js';

type Handle = Buffer;
interface Attribute {
  type: number;
  value?: number | boolean | string | Buffer;
}
/** The part of pkcs11js's API used here (declared locally: the package is optional, so its types may be absent). */
interface Pkcs11Lib {
  load(path: string): void;
  close(): void;
  C_Initialize(): void;
  C_Finalize(): void;
  C_GetSlotList(tokenPresent: boolean): Handle[];
  C_GetTokenInfo(slot: Handle): { label: string; serialNumber: string };
  C_OpenSession(slot: Handle, flags: number): Handle;
  C_Login(session: Handle, userType: number, pin: string): void;
  C_FindObjectsInit(session: Handle, template: Attribute[]): void;
  C_FindObjects(session: Handle, max: number): Handle[];
  C_FindObjectsFinal(session: Handle): void;
  C_GetAttributeValue(session: Handle, object: Handle, template: Attribute[]): Attribute[];
  C_SignInit(session: Handle, mechanism: { mechanism: number; parameter?: object }, key: Handle): void;
  C_Sign(session: Handle, data: Buffer, out: Buffer): Buffer;
}
type Pkcs11Module = { PKCS11: new () => Pkcs11Lib } & Record<string, number>;

// Not in pkcs11js's constant list (PKCS#11 3.0).
const CKK_EC_EDWARDS = 0x40;
const CKM_EDDSA = 0x1057;

/** The parts of an RFC 7512 PKCS#11 URI that select a token, a key and a PIN. */
export interface Pkcs11Uri {
  token?: string;
  serial?: string;
  slotId?: number;
  object?: string;
  id?: Uint8Array;
  pinValue?: string;
  modulePath?: string;
}

export function isPkcs11Uri(text: string): boolean {
  return text.startsWith('pkcs11:');
}

function pctDecode(value: string, what: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < value.length; i++) {
    if (value[i] === '%') {
      const h = value.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(h)) throw new ImageError('bad-option', `PKCS#11 URI: bad percent-encoding in ${what}`);
      out.push(parseInt(h, 16));
      i += 2;
    } else out.push(...new TextEncoder().encode(value[i]!));
  }
  return new Uint8Array(out);
}

/** Parses `pkcs11:path-attributes[?query-attributes]` (RFC 7512); unknown attributes are refused, not ignored. */
export function parsePkcs11Uri(uri: string): Pkcs11Uri {
  if (!isPkcs11Uri(uri)) throw new ImageError('bad-option', `not a PKCS#11 URI (must start with "pkcs11:"): ${uri}`);
  const [path = '', query = ''] = uri.slice('pkcs11:'.length).split('?', 2);
  const out: Pkcs11Uri = {};
  const text = (v: string, k: string) => new TextDecoder().decode(pctDecode(v, k));
  const attrs = [...path.split(';').map((a) => [a, 'path'] as const), ...query.split('&').map((a) => [a, 'query'] as const)];
  for (const [attr] of attrs) {
    if (attr === '') continue;
    const eq = attr.indexOf('=');
    if (eq <= 0) throw new ImageError('bad-option', `PKCS#11 URI: attribute "${attr}" has no value`);
    const k = attr.slice(0, eq);
    const v = attr.slice(eq + 1);
    switch (k) {
      case 'token':
        out.token = text(v, k);
        break;
      case 'serial':
        out.serial = text(v, k);
        break;
      case 'slot-id': {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 0) throw new ImageError('bad-option', `PKCS#11 URI: slot-id "${v}" is not a number`);
        out.slotId = n;
        break;
      }
      case 'object':
        out.object = text(v, k);
        break;
      case 'id':
        out.id = pctDecode(v, k);
        break;
      case 'pin-value':
        out.pinValue = text(v, k);
        break;
      case 'module-path':
        out.modulePath = text(v, k);
        break;
      case 'type':
        if (v !== 'private') throw new ImageError('bad-option', `PKCS#11 URI: type=${v}; signing needs type=private (or no type)`);
        break;
      case 'manufacturer':
      case 'model':
      case 'library-manufacturer':
      case 'library-description':
      case 'library-version':
      case 'module-name':
      case 'pin-source':
        throw new ImageError(
          'bad-option',
          `PKCS#11 URI: attribute "${k}" is not supported; select the token with token=, serial= or slot-id=, the module with --pkcs11-module`,
        );
      default:
        throw new ImageError('bad-option', `PKCS#11 URI: unknown attribute "${k}"`);
    }
  }
  if (out.object === undefined && out.id === undefined) throw new ImageError('bad-option', 'PKCS#11 URI names no key: add object=LABEL or id=%xx');
  return out;
}

/** The binding is loaded only when a pkcs11: key is used. */
function loadBinding(): Pkcs11Module {
  return requireOptional<Pkcs11Module>('pkcs11js', 'PKCS#11 signing', (message) => new ImageError('package-unavailable', message));
}

export interface Pkcs11SignerOptions {
  /** Path of the PKCS#11 module (.so); the URI's module-path wins when it has one. */
  module?: string;
  /** PIN when the URI has no pin-value. */
  pin?: string;
}

function describe(err: unknown, pk: Pkcs11Module): string {
  const e = err as { message?: string; code?: number };
  if (typeof e.code === 'number') {
    const name = Object.entries(pk).find(([k, v]) => k.startsWith('CKR_') && v === e.code)?.[0];
    return name ?? `CKR 0x${e.code.toString(16)}`;
  }
  return e.message ?? String(err);
}

/**
 * Opens the token, logs in, finds the private key (and its public key, which the image's KEYHASH needs), and returns
 * a signer. Call `close()` when done.
 */
export function pkcs11Signer(uriText: string, opts: Pkcs11SignerOptions): ImageSigner & { close(): void } {
  const uri = parsePkcs11Uri(uriText);
  const modulePath = uri.modulePath ?? opts.module;
  if (!modulePath) throw new ImageError('bad-option', 'a pkcs11: key needs the module: --pkcs11-module PATH, MCUMGR_PKCS11_MODULE, or module-path= in the URI');
  const pin = uri.pinValue ?? opts.pin;
  if (pin === undefined) throw new ImageError('bad-option', 'a pkcs11: key needs the token PIN: pin-value= in the URI or MCUMGR_PKCS11_PIN');
  const pk = loadBinding();
  const lib = new pk.PKCS11();
  try {
    lib.load(modulePath);
  } catch (err) {
    throw new ImageError('signer-failed', `cannot load the PKCS#11 module ${modulePath}: ${describe(err, pk)}`);
  }
  let initialized = false;
  const close = () => {
    try {
      if (initialized) lib.C_Finalize();
      lib.close();
    } catch {
      // Nothing left to release.
    }
  };
  try {
    lib.C_Initialize();
    initialized = true;
    const slot = findSlot(lib, uri);
    const session = lib.C_OpenSession(slot, pk.CKF_SERIAL_SESSION);
    try {
      lib.C_Login(session, pk.CKU_USER, pin);
    } catch (err) {
      if ((err as { code?: number }).code === pk.CKR_PIN_INCORRECT)
        throw new ImageError('signer-failed', `PKCS#11 login to token "${uri.token ?? slot.toString('hex')}" failed: wrong PIN (CKR_PIN_INCORRECT)`);
      if ((err as { code?: number }).code !== pk.CKR_USER_ALREADY_LOGGED_IN)
        throw new ImageError('signer-failed', `PKCS#11 login failed: ${describe(err, pk)}`);
    }
    const privateKey = findKey(lib, pk, session, uri, pk.CKO_PRIVATE_KEY);
    if (!privateKey) throw new ImageError('signer-failed', `PKCS#11 token has no private key ${keyName(uri)}`);
    const publicKeyHandle = findKey(lib, pk, session, uri, pk.CKO_PUBLIC_KEY);
    if (!publicKeyHandle) throw new ImageError('signer-failed', `PKCS#11 token has no public key ${keyName(uri)} (the image needs it for its key hash)`);
    const { keyType, publicKey } = readPublicKey(lib, pk, session, publicKeyHandle);
    return {
      keyType,
      publicKey,
      close,
      async sign(req: SignRequest): Promise<Uint8Array> {
        let sig: Buffer;
        try {
          sig = signOnToken(lib, pk, session, privateKey, keyType, req);
        } catch (err) {
          throw new ImageError('signer-failed', `PKCS#11 signing with ${keyName(uri)} failed: ${describe(err, pk)}`);
        }
        return checkedSignature(keyType, publicKey, req, new Uint8Array(sig), `PKCS#11 key ${keyName(uri)}`, 'signer-failed');
      },
    };
  } catch (err) {
    close();
    if (err instanceof ImageError) throw err;
    throw new ImageError('signer-failed', `PKCS#11 module ${modulePath}: ${describe(err, pk)}`);
  }
}

function keyName(uri: Pkcs11Uri): string {
  const parts = [uri.object !== undefined ? `object=${uri.object}` : '', uri.id ? `id=${Buffer.from(uri.id).toString('hex')}` : ''].filter(Boolean);
  return `"${parts.join(', ')}"`;
}

function findSlot(lib: Pkcs11Lib, uri: Pkcs11Uri): Handle {
  const slots = lib.C_GetSlotList(true);
  const labels: string[] = [];
  for (const slot of slots) {
    const info = lib.C_GetTokenInfo(slot);
    const label = info.label.trim();
    labels.push(label);
    if (uri.token !== undefined && label !== uri.token) continue;
    if (uri.serial !== undefined && info.serialNumber.trim() !== uri.serial) continue;
    if (uri.slotId !== undefined && ulong(slot) !== uri.slotId) continue;
    return slot;
  }
  const what = uri.token !== undefined ? `token "${uri.token}"` : 'a token matching the URI';
  throw new ImageError('signer-failed', `PKCS#11: no ${what}; tokens present: ${labels.length ? labels.map((l) => `"${l}"`).join(', ') : 'none'}`);
}

function findKey(lib: Pkcs11Lib, pk: Pkcs11Module, session: Handle, uri: Pkcs11Uri, cls: number): Handle | undefined {
  const template: Attribute[] = [{ type: pk.CKA_CLASS, value: cls }];
  if (uri.object !== undefined) template.push({ type: pk.CKA_LABEL, value: uri.object });
  if (uri.id) template.push({ type: pk.CKA_ID, value: Buffer.from(uri.id) });
  lib.C_FindObjectsInit(session, template);
  const found = lib.C_FindObjects(session, 2);
  lib.C_FindObjectsFinal(session);
  if (found.length > 1) throw new ImageError('signer-failed', `PKCS#11 URI matches more than one key ${keyName(uri)}: add id= to choose`);
  return found[0];
}

const CURVE_OIDS: Record<string, { keyType: SignatureKeyType; crv: string }> = {
  '06082a8648ce3d030107': { keyType: 'ecdsa-p256', crv: 'P-256' },
  '06052b81040022': { keyType: 'ecdsa-p384', crv: 'P-384' },
};
const ED25519_PARAMS = new Set(['06032b6570', '130c656477617264733235353139']); // OID 1.3.101.112, PrintableString "edwards25519"

/** CKA_EC_POINT is the point in a DER OCTET STRING (some modules leave out the wrapper). */
function unwrapOctetString(b: Buffer): Buffer {
  if (b[0] !== 0x04) return b;
  let len = b[1]!;
  let start = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = b.readUIntBE(2, n);
    start = 2 + n;
  }
  return start + len === b.length ? b.subarray(start) : b;
}

/** A CK_ULONG attribute (host order, 4 or 8 bytes). */
function ulong(b: Buffer): number {
  return b.length === 8 ? Number(b.readBigUInt64LE()) : b.readUInt32LE(0);
}

function readPublicKey(lib: Pkcs11Lib, pk: Pkcs11Module, session: Handle, handle: Handle): { keyType: SignatureKeyType; publicKey: Uint8Array } {
  const [kt] = lib.C_GetAttributeValue(session, handle, [{ type: pk.CKA_KEY_TYPE }]);
  const keyTypeValue = ulong(kt!.value as Buffer);
  const b64u = (b: Buffer) => b.toString('base64url');
  if (keyTypeValue === pk.CKK_RSA) {
    const [n, e] = lib.C_GetAttributeValue(session, handle, [{ type: pk.CKA_MODULUS }, { type: pk.CKA_PUBLIC_EXPONENT }]);
    const key = createPublicKey({ key: { kty: 'RSA', n: b64u(n!.value as Buffer), e: b64u(e!.value as Buffer) }, format: 'jwk' });
    const bits = key.asymmetricKeyDetails?.modulusLength;
    if (bits !== 2048 && bits !== 3072) throw new ImageError('signer-failed', `PKCS#11 key is RSA-${bits}; MCUboot signs with RSA-2048 or RSA-3072`);
    const keyType: SignatureKeyType = bits === 2048 ? 'rsa-2048' : 'rsa-3072';
    return { keyType, publicKey: publicKeyBytes({ type: keyType, publicKey: key }) };
  }
  const [params, point] = lib.C_GetAttributeValue(session, handle, [{ type: pk.CKA_EC_PARAMS }, { type: pk.CKA_EC_POINT }]);
  const paramsHex = (params!.value as Buffer).toString('hex');
  const q = unwrapOctetString(point!.value as Buffer);
  if (keyTypeValue === pk.CKK_EC) {
    const curve = CURVE_OIDS[paramsHex];
    if (!curve) throw new ImageError('signer-failed', 'PKCS#11 EC key is not on P-256 or P-384, the curves MCUboot verifies');
    const size = (q.length - 1) / 2;
    const key = createPublicKey({ key: { kty: 'EC', crv: curve.crv, x: b64u(q.subarray(1, 1 + size)), y: b64u(q.subarray(1 + size)) }, format: 'jwk' });
    return { keyType: curve.keyType, publicKey: publicKeyBytes({ type: curve.keyType, publicKey: key }) };
  }
  if (keyTypeValue === CKK_EC_EDWARDS && ED25519_PARAMS.has(paramsHex)) {
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64u(q) }, format: 'jwk' });
    return { keyType: 'ed25519', publicKey: publicKeyBytes({ type: 'ed25519', publicKey: key }) };
  }
  throw new ImageError('signer-failed', `PKCS#11 key type 0x${keyTypeValue.toString(16)} cannot sign MCUboot images (RSA, EC P-256/P-384 or Ed25519)`);
}

function signOnToken(lib: Pkcs11Lib, pk: Pkcs11Module, session: Handle, key: Handle, keyType: SignatureKeyType, req: SignRequest): Buffer {
  const out = Buffer.alloc(512);
  switch (keyType) {
    case 'rsa-2048':
    case 'rsa-3072': {
      const params = { type: pk.CK_PARAMS_RSA_PSS, hashAlg: pk.CKM_SHA256, mgf: pk.CKG_MGF1_SHA256, saltLen: 32 };
      lib.C_SignInit(session, { mechanism: pk.CKM_RSA_PKCS_PSS, parameter: params }, key);
      return lib.C_Sign(session, Buffer.from(req.digest), out);
    }
    case 'ecdsa-p256':
    case 'ecdsa-p384':
      // CKM_ECDSA signs a prehash; the image hash is the signature's hash (see signatureHash).
      if (req.hashAlgorithm !== signatureHash(keyType))
        throw new ImageError('signer-failed', `${keyType} signs with ${signatureHash(keyType)}, not ${req.hashAlgorithm}`);
      lib.C_SignInit(session, { mechanism: pk.CKM_ECDSA }, key);
      return lib.C_Sign(session, Buffer.from(req.digest), out);
    case 'ed25519':
      lib.C_SignInit(session, { mechanism: CKM_EDDSA }, key);
      return lib.C_Sign(session, Buffer.from(req.pure ? req.payload : req.digest), out);
  }
}
