/** verifyImage: which checks run, what each failure is called, and a key that does not fit the signature. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { assertImageValid, createImage, generateKey, ImageError, parseImage, TLV_TYPES, verifyImage, type KeyType } from '../../src/image/node.js';
import { encodeTlvArea, type Tlv } from '../../src/image/tlv.js';
import { fxText } from './fixtures.js';

const payload = new Uint8Array(3000).map((_, i) => (i * 7) & 0xff);
const keys = new Map<KeyType, string>();
/** imgtool's keys from the fixtures where there is one (RSA key generation is slow), else a new key. */
const keyOf = (type: KeyType): string => {
  if (!keys.has(type)) keys.set(type, type === 'ecdsa-p384' ? generateKey(type) : fxText(`keys/${type}.pem`));
  return keys.get(type)!;
};
const sign = (type: KeyType, format: 'hash' | 'full' = 'hash'): Uint8Array =>
  createImage(payload, { key: keyOf(type), padHeader: true, publicKeyFormat: format });

/** The image with its unprotected TLVs (outside the hash and the signature) replaced. */
function withTlvs(image: Uint8Array, edit: (tlvs: Tlv[]) => { type: number; value: Uint8Array }[]): Uint8Array {
  const parsed = parseImage(image);
  const area = encodeTlvArea(edit(parsed.unprotectedArea.tlvs), false);
  const out = new Uint8Array(parsed.signedSize + area.length);
  out.set(image.subarray(0, parsed.signedSize));
  out.set(area, parsed.signedSize);
  return out;
}
const without =
  (...types: number[]) =>
  (tlvs: Tlv[]) =>
    tlvs.filter((t) => !types.includes(t.type));
const retyped = (from: number, to: number) => (tlvs: Tlv[]) => tlvs.map((t) => (t.type === from ? { type: to, value: t.value } : t));
const hash = (alg: string, data: Uint8Array): Uint8Array => new Uint8Array(createHash(alg).update(data).digest());

describe('verifyImage', () => {
  it('checks the hash of a hash-only image, and reports no signature', async () => {
    const image = createImage(payload, { padHeader: true });
    const r = await verifyImage(image);
    expect(r).toMatchObject({ ok: true, hashOk: true, signatureChecked: false, signatureOk: false });
    expect(r.error).toBeUndefined();
    expect(r.signatureType).toBeUndefined();
    expect(r.keyMatch).toBeUndefined();
    expect(r.computedHash).toEqual(parseImage(image).hash);
    expect(r.computedHash).toEqual(hash('sha256', image.subarray(0, r.image!.signedSize)));
    expect((await assertImageValid(image)).ok).toBe(true);
  });

  it('names a missing hash, a bad hash and a file that is no image, without throwing', async () => {
    const image = createImage(payload, { padHeader: true });
    const noHash = await verifyImage(withTlvs(image, without(TLV_TYPES.SHA256)));
    expect(noHash).toMatchObject({ ok: false, hashOk: false, error: { code: 'no-hash' } });
    expect(noHash.image).toBeDefined();
    expect(noHash.computedHash).toBeUndefined();

    const tampered = image.slice();
    tampered[0x20 + 10]! ^= 1;
    const bad = await verifyImage(tampered);
    expect(bad).toMatchObject({ ok: false, hashOk: false, error: { code: 'hash-mismatch' } });
    expect(bad.computedHash).toHaveLength(32);

    const junk = await verifyImage(payload);
    expect(junk).toMatchObject({ ok: false, hashOk: false, error: { code: 'bad-magic' } });
    expect(junk.image).toBeUndefined();
    await expect(assertImageValid(payload)).rejects.toThrow(ImageError);
  });

  it('checks the signature with the embedded public key when no key is given', async () => {
    const image = sign('ed25519', 'full');
    const r = await verifyImage(image);
    expect(r).toMatchObject({ ok: true, signatureChecked: true, signatureOk: true, keyMatch: true, signatureType: 'ED25519' });

    const parsed = parseImage(image);
    const sig = parsed.unprotectedArea.tlvs.find((t) => t.type === TLV_TYPES.ED25519)!;
    const forged = image.slice();
    forged[sig.offset + 4]! ^= 1;
    const f = await verifyImage(forged);
    expect(f).toMatchObject({ ok: false, signatureChecked: true, signatureOk: false, error: { code: 'signature-mismatch' } });
  });

  it('a signed image verified without a key is checked by its hash only (a key hash alone names no key)', async () => {
    const r = await verifyImage(sign('ecdsa-p256'));
    expect(r).toMatchObject({ ok: true, hashOk: true, signatureChecked: false, signatureType: 'ECDSA_SIG' });
    expect(r.keyMatch).toBeUndefined();
  });

  it('verifies the signature with a key when the image names no key (no KEYHASH, no PUBKEY)', async () => {
    const bare = withTlvs(sign('ecdsa-p256'), without(TLV_TYPES.KEYHASH));
    const r = await verifyImage(bare, { key: keyOf('ecdsa-p256') });
    expect(r).toMatchObject({ ok: true, signatureChecked: true, signatureOk: true });
    expect(r.keyMatch).toBeUndefined();
  });

  it('a key whose type does not match the signature TLV type is the wrong key, even when the signature bytes would verify', async () => {
    // An Ed25519 signature relabelled as ECDSA: the bytes verify with the Ed25519 key, but MCUboot built for
    // Ed25519 looks for an ED25519 TLV only.
    const relabelled = withTlvs(sign('ed25519'), (tlvs) => retyped(TLV_TYPES.ED25519, TLV_TYPES.ECDSA_SIG)(without(TLV_TYPES.KEYHASH)(tlvs)));
    const r = await verifyImage(relabelled, { key: keyOf('ed25519') });
    expect(r).toMatchObject({ ok: false, keyMatch: false, signatureChecked: false, signatureOk: false, error: { code: 'wrong-key' } });
    expect(r.error!.message).toBe('no signature found for the given ed25519 key (image has ECDSA_SIG signature)');

    // The same the other way round, and between RSA sizes.
    const asEd = withTlvs(sign('ecdsa-p256'), (tlvs) => retyped(TLV_TYPES.ECDSA_SIG, TLV_TYPES.ED25519)(without(TLV_TYPES.KEYHASH)(tlvs)));
    expect((await verifyImage(asEd, { key: keyOf('ecdsa-p256') })).error?.code).toBe('wrong-key');
    const rsa = withTlvs(sign('rsa-2048'), without(TLV_TYPES.KEYHASH));
    expect((await verifyImage(rsa, { key: keyOf('rsa-2048') })).ok).toBe(true);
    const rsa3072 = withTlvs(rsa, retyped(TLV_TYPES.RSA2048_PSS, TLV_TYPES.RSA3072_PSS));
    expect(await verifyImage(rsa3072, { key: keyOf('rsa-2048') })).toMatchObject({ keyMatch: false, error: { code: 'wrong-key' } });
  });

  it('an ECDSA224 signature is named but no key verifies it', async () => {
    const image = withTlvs(sign('ecdsa-p256'), (tlvs) => retyped(TLV_TYPES.ECDSA_SIG, TLV_TYPES.ECDSA224)(without(TLV_TYPES.KEYHASH)(tlvs)));
    expect(await verifyImage(image)).toMatchObject({ ok: true, signatureType: 'ECDSA224' });
    expect((await verifyImage(image, { key: keyOf('ecdsa-p256') })).error?.code).toBe('wrong-key');
  });

  it('a key hash made with SHA-256 (imgtool) or with the image hash (MCUboot) names the key; another does not', async () => {
    const full = sign('ecdsa-p384', 'full');
    const pub = parseImage(full).unprotectedArea.tlvs.find((t) => t.type === TLV_TYPES.PUBKEY)!.value;
    const withKeyHash = (value: Uint8Array): Uint8Array =>
      withTlvs(full, (tlvs) => tlvs.map((t) => (t.type === TLV_TYPES.PUBKEY ? { type: TLV_TYPES.KEYHASH, value } : t)));
    const key = keyOf('ecdsa-p384');
    expect(await verifyImage(withKeyHash(hash('sha256', pub)), { key })).toMatchObject({ ok: true, keyMatch: true });
    expect(await verifyImage(withKeyHash(hash('sha384', pub)), { key })).toMatchObject({ ok: true, keyMatch: true });
    expect(await verifyImage(withKeyHash(hash('sha512', pub)), { key })).toMatchObject({ ok: false, keyMatch: false, error: { code: 'wrong-key' } });
    expect(await verifyImage(withKeyHash(hash('sha256', pub).subarray(1)), { key })).toMatchObject({ keyMatch: false });
  });

  it('a given key is compared with the embedded one, never replaced by it', async () => {
    const image = sign('ed25519', 'full');
    const other = generateKey('ed25519');
    const r = await verifyImage(image, { key: other });
    expect(r).toMatchObject({ ok: false, keyMatch: false, signatureChecked: false, error: { code: 'wrong-key' } });
    await expect(assertImageValid(image, { key: other })).rejects.toThrow(/no signature found for the given ed25519 key/);
  });
});
