/** PKCS#11 signing against a real SoftHSM2 token (keys imported from PEM, so the checks do not trust the token). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ImageError, parsePkcs11Uri, pkcs11Signer, signImage, verifyImage, parseImage, TLV_TYPES } from '../../src/image/node.js';
import { createToken, softhsmMissing, SOFTHSM_MODULE, type Token, type TokenKeyType } from '../helpers/softhsm.js';
import { fx } from './fixtures.js';

const missing = softhsmMissing();
if (missing && !process.env.CI) console.warn(`\n*** SKIPPING THE PKCS#11 TESTS ***\n${missing}\n`);
const describeHsm = missing && !process.env.CI ? describe.skip : describe;

describe('PKCS#11 URI (RFC 7512)', () => {
  it('reads path and query attributes, percent-decoded', () => {
    expect(parsePkcs11Uri('pkcs11:token=My%20HSM;object=fw-key;id=%01%a0?pin-value=12%334&module-path=/usr/lib/x.so')).toEqual({
      token: 'My HSM',
      object: 'fw-key',
      id: new Uint8Array([1, 0xa0]),
      pinValue: '1234',
      modulePath: '/usr/lib/x.so',
    });
  });
  it('refuses what it cannot honour, with the attribute named', () => {
    expect(() => parsePkcs11Uri('pkcs11:token=a')).toThrow(/names no key/);
    expect(() => parsePkcs11Uri('pkcs11:object=a;colour=red')).toThrow(/unknown attribute "colour"/);
    expect(() => parsePkcs11Uri('pkcs11:object=a;type=public')).toThrow(/type=private/);
    expect(() => parsePkcs11Uri('pkcs11:object=a%zz')).toThrow(/percent-encoding/);
    expect(() => parsePkcs11Uri('file:key.pem')).toThrow(/must start with "pkcs11:"/);
  });
});

describeHsm('signing with a SoftHSM2 token', () => {
  let token: Token;
  const saved = process.env.SOFTHSM2_CONF;
  beforeAll(() => {
    token = createToken();
    process.env.SOFTHSM2_CONF = token.env.SOFTHSM2_CONF;
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.SOFTHSM2_CONF;
    else process.env.SOFTHSM2_CONF = saved;
  });
  const uri = (type: TokenKeyType, pin = token.pin) => `pkcs11:token=${token.label};object=${type}?pin-value=${pin}`;

  for (const type of ['ecdsa-p256', 'ecdsa-p384', 'rsa-2048', 'ed25519'] as const) {
    it(`${type}: the image verifies with the key's PEM public key`, async () => {
      const signer = pkcs11Signer(uri(type), { module: SOFTHSM_MODULE });
      try {
        expect(signer.keyType).toBe(type);
        const { image } = await signImage(fx('payload.bin'), { signer, padHeader: true, headerSize: 0x200, version: '1.0.0+1' });
        const r = await verifyImage(image, { key: token.keys[type].publicPem });
        expect(r.error).toBeUndefined();
        expect(r.signatureOk && r.keyMatch).toBe(true);
        expect(parseImage(image).tlvs.map((t) => t.type)).toContain(TLV_TYPES.KEYHASH);
      } finally {
        signer.close();
      }
    });
  }

  it('the PIN can come from the options (MCUMGR_PKCS11_PIN) and the key from id=', async () => {
    const signer = pkcs11Signer(`pkcs11:token=${token.label};id=%01`, { module: SOFTHSM_MODULE, pin: token.pin });
    try {
      expect(signer.keyType).toBe('ecdsa-p256');
    } finally {
      signer.close();
    }
  });

  it('a wrong PIN, a missing key or token, a module that is no PKCS#11 module: clear errors', () => {
    const err = (f: () => unknown) => {
      try {
        const s = f() as { close(): void };
        s.close();
      } catch (e) {
        return e as ImageError;
      }
      throw new Error('no error');
    };
    const wrongPin = err(() => pkcs11Signer(uri('ecdsa-p256', '9999'), { module: SOFTHSM_MODULE }));
    expect(wrongPin.code).toBe('signer-failed');
    expect(wrongPin.message).toMatch(/wrong PIN \(CKR_PIN_INCORRECT\)/);
    expect(err(() => pkcs11Signer(`pkcs11:token=${token.label};object=nope`, { module: SOFTHSM_MODULE, pin: token.pin })).message).toMatch(
      /no private key "object=nope"/,
    );
    expect(err(() => pkcs11Signer('pkcs11:token=other;object=k', { module: SOFTHSM_MODULE, pin: token.pin })).message).toMatch(
      /no token "other"; tokens present: "mcumgr-test"/,
    );
    const badModule = err(() => pkcs11Signer(uri('ecdsa-p256'), { module: '/nonexistent/libpkcs11.so' }));
    expect(badModule.code).toBe('signer-failed');
    expect(badModule.message).toMatch(/cannot load the PKCS#11 module \/nonexistent\/libpkcs11\.so/);
    expect(err(() => pkcs11Signer(`pkcs11:token=${token.label};object=ecdsa-p256`, { module: SOFTHSM_MODULE })).message).toMatch(/needs the token PIN/);
    expect(err(() => pkcs11Signer(uri('ecdsa-p256'), {})).message).toMatch(/needs the module/);
  });
});
