/**
 * Signs an unsigned (hash-only) image with any ImageSigner, browser-safe: the signed region and hash stay as they
 * are, the key hash (or public key) and the signature join the unprotected TLVs, as imgtool would have placed them.
 * This is how a page signs with a WebCrypto key that cannot leave the browser.
 */
import { digest } from './crypto-web.js';
import { ImageError } from './errors.js';
import { parseImage } from './image.js';
import { IMAGE_FLAGS } from './header.js';
import { encodeTlvArea, TLV_TYPES } from './tlv.js';
import { signatureTlvTypeFor, type ImageHashAlgorithm, type ImageSigner, type SignatureKeyType } from './signer.js';

const ALLOWED_HASHES: Record<SignatureKeyType, ImageHashAlgorithm[]> = {
  'rsa-2048': ['sha256'],
  'rsa-3072': ['sha256'],
  'ecdsa-p256': ['sha256'],
  'ecdsa-p384': ['sha384'],
  ed25519: ['sha256', 'sha512'],
};
const KEY_TLVS = new Set<number>([
  TLV_TYPES.KEYHASH,
  TLV_TYPES.PUBKEY,
  TLV_TYPES.RSA2048_PSS,
  TLV_TYPES.RSA3072_PSS,
  TLV_TYPES.ECDSA_SIG,
  TLV_TYPES.ED25519,
  TLV_TYPES.SIG_PURE,
]);

export async function addSignature(bytes: Uint8Array, signer: ImageSigner, opts: { publicKeyFormat?: 'hash' | 'full' } = {}): Promise<Uint8Array> {
  const img = parseImage(bytes);
  if (img.paddingSize > 0) throw new ImageError('bad-option', 'the image is padded to its slot: sign it before padding (the TLV area grows)');
  if (img.header.flags & (IMAGE_FLAGS.ENCRYPTED_AES128 | IMAGE_FLAGS.ENCRYPTED_AES256))
    throw new ImageError('bad-option', 'the image is encrypted: sign before encrypting');
  if (img.unprotectedArea.tlvs.some((t) => KEY_TLVS.has(t.type))) throw new ImageError('bad-option', 'the image is already signed');
  const alg = img.hashAlgorithm;
  if (!alg || !img.hash) throw new ImageError('no-hash', 'the image has no hash TLV to sign');
  if (!ALLOWED_HASHES[signer.keyType].includes(alg)) {
    throw new ImageError('bad-option', `a ${signer.keyType} key signs images hashed with ${ALLOWED_HASHES[signer.keyType].join(' or ')}, this one has ${alg}`);
  }
  const payload = bytes.subarray(0, img.signedSize);
  const computed = await digest(alg, payload);
  if (!computed.every((b, i) => b === img.hash![i]))
    throw new ImageError('hash-mismatch', 'the image hash does not match its contents: it was changed after it was made');
  const signature = await signer.sign({ payload, digest: img.hash, hashAlgorithm: alg, pure: false });
  const keyTlv =
    opts.publicKeyFormat === 'full'
      ? { type: TLV_TYPES.PUBKEY, value: signer.publicKey }
      : { type: TLV_TYPES.KEYHASH, value: await digest(alg, signer.publicKey) };
  const tlvs: { type: number; value: Uint8Array }[] = img.unprotectedArea.tlvs.map((t) => ({ type: t.type, value: t.value }));
  // imgtool's order: the hash, then the key and its signature, then the rest (custom unprotected TLVs).
  const afterHash = tlvs.findIndex((t) => t.value === img.hash) + 1;
  tlvs.splice(afterHash, 0, keyTlv, { type: signatureTlvTypeFor(signer.keyType), value: signature });
  const area = encodeTlvArea(tlvs, false, img.byteOrder);
  const out = new Uint8Array(img.signedSize + area.length);
  out.set(payload);
  out.set(area, img.signedSize);
  return out;
}
