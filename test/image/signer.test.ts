/** The signer interface: WebCrypto keys that cannot be exported sign images that verify; DER conversion. */
import { describe, expect, it } from 'vitest';
import { webcrypto } from 'node:crypto';
import { signImage, verifyImage, webCryptoSigner, webCryptoPublicKeyBytes, ecdsaRawToDer, publicKeyPem, type SignatureKeyType } from '../../src/image/node.js';
import { isDerEcdsaSignature, rsaSpkiToPkcs1 } from '../../src/image/signer.js';
import { fx } from './fixtures.js';

const subtle = webcrypto.subtle as unknown as SubtleCrypto;

const ALGS: Record<Exclude<SignatureKeyType, 'rsa-3072'>, RsaHashedKeyGenParams | EcKeyGenParams | Algorithm> = {
  'ecdsa-p256': { name: 'ECDSA', namedCurve: 'P-256' } as EcKeyGenParams,
  'ecdsa-p384': { name: 'ECDSA', namedCurve: 'P-384' } as EcKeyGenParams,
  'rsa-2048': { name: 'RSA-PSS', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' } as RsaHashedKeyGenParams,
  ed25519: { name: 'Ed25519' },
};

function spkiPem(spki: Uint8Array): string {
  return `-----BEGIN PUBLIC KEY-----\n${Buffer.from(spki).toString('base64').replace(/.{64}/g, '$&\n')}\n-----END PUBLIC KEY-----\n`;
}

describe('webCryptoSigner', () => {
  for (const [type, alg] of Object.entries(ALGS) as [keyof typeof ALGS, Algorithm][]) {
    it(`${type}: a non-extractable private key signs an image that verifies`, async () => {
      const pair = (await subtle.generateKey(alg, false, ['sign', 'verify'])) as CryptoKeyPair;
      expect(pair.privateKey.extractable).toBe(false);
      await expect(subtle.exportKey('pkcs8', pair.privateKey)).rejects.toThrow();
      const signer = webCryptoSigner(type, pair.privateKey, await webCryptoPublicKeyBytes(type, pair.publicKey, subtle), subtle);
      const { image } = await signImage(fx('payload.bin'), { signer, padHeader: true, version: '3.1.4' });
      const pem = spkiPem(new Uint8Array(await subtle.exportKey('spki', pair.publicKey)));
      const r = await verifyImage(image, { key: pem });
      expect(r.error).toBeUndefined();
      expect(r.signatureOk && r.keyMatch).toBe(true);
    });
  }
});

describe('signature encodings', () => {
  it('raw r||s becomes a minimal DER ECDSA-Sig-Value', () => {
    const raw = new Uint8Array(64);
    raw[0] = 0x80; // r needs a leading zero
    raw[63] = 1; // s is 1
    const der = ecdsaRawToDer(raw);
    expect(isDerEcdsaSignature(der)).toBe(true);
    expect(Buffer.from(der).toString('hex')).toBe(`3026022100${'80'.padEnd(64, '0')}020101`);
    expect(() => ecdsaRawToDer(new Uint8Array(10))).toThrow(/expected 64 or 96/);
    expect(isDerEcdsaSignature(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]))).toBe(false);
  });
  it('the RSAPublicKey inside an SPKI is what imgtool embeds for RSA', () => {
    const pem = publicKeyPem(new TextDecoder().decode(fx('keys/rsa-2048.pem')));
    const spki = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    const pkcs1 = rsaSpkiToPkcs1(new Uint8Array(spki));
    expect(pkcs1[0]).toBe(0x30);
    expect(Buffer.from(spki).includes(Buffer.from(pkcs1))).toBe(true);
    expect(spki.length - pkcs1.length).toBe(24);
  });
});
