// Verification through the browser-safe path: src/image/index.ts (WebCrypto only), with images signed by
// imgtool (fixtures) or by node:crypto (createImage, for the key types imgtool's fixtures lack).
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { build } from 'esbuild';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { importPemKey, parseImage, TLV_TYPES, verifyImage, type KeyType } from '../../src/image/index.js';
import { createImage, generateKey, publicKeyPem } from '../../src/image/node.js';
import { fx, fxText } from './fixtures.js';

const ALL: KeyType[] = ['rsa-2048', 'rsa-3072', 'ecdsa-p256', 'ecdsa-p384', 'ed25519'];
const payload = fx('payload.bin');
const keys = Object.fromEntries(ALL.map((t) => [t, generateKey(t)])) as Record<KeyType, string>;
const signed = Object.fromEntries(ALL.map((t) => [t, createImage(payload, { key: keys[t], padHeader: true })])) as Record<KeyType, Uint8Array>;

async function sha(bits: 256 | 384, b: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest(`SHA-${bits}`, b as Uint8Array<ArrayBuffer>));
}

describe('browser-safe verification, every key type', () => {
  for (const t of ALL) {
    it(`${t}: accepts the good image, rejects a flipped byte, a bad signature and a wrong key`, async () => {
      const img = signed[t];
      const good = await verifyImage(img, { key: publicKeyPem(keys[t]) });
      expect(good.error).toBeUndefined();
      expect([good.ok, good.hashOk, good.signatureChecked, good.signatureOk, good.keyMatch]).toEqual([true, true, true, true, true]);

      const body = img.slice();
      body[0x20 + 7]! ^= 0x01;
      expect((await verifyImage(body, { key: keys[t] })).error?.code).toBe('hash-mismatch');

      const sig = parseImage(img).unprotectedArea.tlvs.at(-1)!;
      const badSig = img.slice();
      badSig[sig.offset + 4 + 20]! ^= 0x10;
      const r = await verifyImage(badSig, { key: keys[t] });
      expect(r.error?.code).toBe('signature-mismatch');
      expect(r.signatureChecked && !r.signatureOk).toBe(true);

      const sameType = generateKey(t);
      const wrong = await verifyImage(img, { key: publicKeyPem(sameType) });
      expect(wrong.error?.code).toBe('wrong-key');
      expect(wrong.keyMatch).toBe(false);
    });
  }

  it('a key whose type does not match the signature TLV is refused, even when the KEYHASH names it', async () => {
    // An ECDSA-signed image whose (unprotected) KEYHASH is rewritten to the Ed25519 key's hash.
    const img = signed['ecdsa-p256'].slice();
    const edKey = await importPemKey(keys.ed25519);
    const keyHash = parseImage(img).unprotectedArea.tlvs.find((x) => x.type === TLV_TYPES.KEYHASH)!;
    img.set(await sha(256, edKey.publicKeyBytes), keyHash.offset + 4);
    const r = await verifyImage(img, { key: keys.ed25519 });
    expect(r.error?.code).toBe('wrong-key');
    expect(r.error?.message).toMatch(/ed25519 key \(image has ECDSA_SIG signature\)/);
    expect(r.signatureChecked).toBe(false);
  });

  it('a P-256 key on a P-384 signature (same TLV type, KEYHASH rewritten) is a signature mismatch, not a crash', async () => {
    const img = signed['ecdsa-p384'].slice();
    const p256 = await importPemKey(keys['ecdsa-p256']);
    const keyHash = parseImage(img).unprotectedArea.tlvs.find((x) => x.type === TLV_TYPES.KEYHASH)!;
    img.set(await sha(384, p256.publicKeyBytes), keyHash.offset + 4); // a P-384 image hashes its key with SHA-384
    expect(keyHash.value.length).toBe(48);
    expect((await verifyImage(img, { key: keys['ecdsa-p256'] })).error?.code).toBe('signature-mismatch');
  });

  it('imgtool-made images verify with every PEM form OpenSSL writes', async () => {
    for (const t of ['rsa-2048', 'ecdsa-p256', 'ed25519'] as const) {
      const pem = fxText(`keys/${t}.pem`);
      const priv = createPrivateKey(pem);
      const forms = [pem, fxText(`keys/${t}.pub.pem`)];
      if (t === 'rsa-2048') {
        forms.push(String(priv.export({ type: 'pkcs1', format: 'pem' })), String(createPublicKey(priv).export({ type: 'pkcs1', format: 'pem' })));
      }
      if (t === 'ecdsa-p256') forms.push(String(priv.export({ type: 'sec1', format: 'pem' })));
      for (const key of forms) {
        const r = await verifyImage(fx(`${t}/base.bin`), { key });
        expect(r.error, `${t} ${key.split('\n')[0]}`).toBeUndefined();
        expect(r.signatureOk).toBe(true);
      }
    }
  });

  it('the embedded PUBKEY (PKCS#1 for RSA, SubjectPublicKeyInfo otherwise) verifies without a key', async () => {
    for (const t of ALL) {
      const img = createImage(payload, { key: keys[t], padHeader: true, publicKeyFormat: 'full' });
      const r = await verifyImage(img);
      expect(r.error, t).toBeUndefined();
      expect(r.signatureOk && r.keyMatch).toBe(true);
    }
  });

  it('hash-only images: the hash is checked, a flipped byte fails, a key finds no signature', async () => {
    const img = fx('hash-only/base.bin');
    expect((await verifyImage(img)).ok).toBe(true);
    expect((await verifyImage(fx('broken/flipped_payload_byte.bin'))).error?.code).toBe('hash-mismatch');
    expect((await verifyImage(img, { key: keys.ed25519 })).error?.code).toBe('no-signature');
  });

  it('bad keys are one-line ImageErrors', async () => {
    const pem = (type: 'ec' | 'rsa', opts: object) =>
      String(
        (generateKeyPairSync as (t: string, o: object) => { publicKey: { export(o: object): string | Buffer } })(type, opts).publicKey.export({
          type: 'spki',
          format: 'pem',
        }),
      );
    const secp256k1 = pem('ec', { namedCurve: 'secp256k1' });
    const rsa1024 = pem('rsa', { modulusLength: 1024 });
    for (const key of [
      'garbage',
      '-----BEGIN PUBLIC KEY-----\n!!!\n-----END PUBLIC KEY-----',
      '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----',
      secp256k1,
      rsa1024,
    ]) {
      const r = await verifyImage(signed.ed25519, { key });
      expect(r.error?.code, key.slice(0, 40)).toBe('bad-key');
      expect(r.error?.message).not.toMatch(/\n/);
    }
  });

  it('arbitrary PUBKEY TLVs, keys and signatures give an ImageError code, never a rejection', async () => {
    const withPubkey = (value: Uint8Array) => createImage(payload, { padHeader: true, customTlvs: [{ type: TLV_TYPES.PUBKEY, value }] });
    const ecdsa = createImage(payload, { key: keys['ecdsa-p256'], padHeader: true, publicKeyFormat: 'full' });
    const sig = parseImage(ecdsa).unprotectedArea.tlvs.at(-1)!;
    // DER-looking bytes reach deeper than noise: a SEQUENCE header in front of random content.
    const derish = fc.uint8Array({ maxLength: 120 }).map((b) => Uint8Array.from([0x30, b.length, ...b]));
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.uint8Array({ maxLength: 120 }), derish), fc.string({ maxLength: 80 }), async (bytes, text) => {
        expect((await verifyImage(withPubkey(bytes))).error?.code).toBe('bad-key');
        const pem = `-----BEGIN PUBLIC KEY-----\n${btoa(String.fromCharCode(...bytes))}\n-----END PUBLIC KEY-----`;
        expect((await verifyImage(signed.ed25519, { key: pem })).error?.code).toBe('bad-key');
        expect((await verifyImage(signed.ed25519, { key: text })).error?.code).toBe('bad-key');
        const forged = ecdsa.slice();
        forged.set(bytes.subarray(0, sig.value.length), sig.offset + 4);
        const r = await verifyImage(forged);
        // Bytes equal to the signature's own (e.g. [0x30], its DER tag) leave the image as it was.
        const changed = forged.some((b, i) => b !== ecdsa[i]);
        expect(r.ok && changed).toBe(false);
      }),
      { numRuns: 150 },
    );
  });

  it('the module set has no Node import: esbuild bundles it for the browser platform', async () => {
    const out = await build({
      stdin: { contents: "export { verifyImage, parseImage } from './src/image/index.ts';", resolveDir: process.cwd(), loader: 'ts' },
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      logLevel: 'silent',
    });
    expect(out.errors).toEqual([]);
    expect(out.outputFiles[0]!.text).not.toMatch(/from ["']node:/);
  });
});
