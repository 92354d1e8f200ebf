/** Encrypted images: made with a random key, so checked by decrypting with the device's private key. */
import { createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createImage, decryptImage, parseImage, verifyImage, generateKey, IMAGE_FLAGS, TLV_TYPES, type ImageError } from '../../src/image/node.js';
import { loadEncryptionKey, wrapImageKey } from '../../src/image/encrypt.js';
import { fx } from './fixtures.js';

const payload = fx('payload.bin');
const publicPem = (privatePem: string) => createPublicKey(privatePem).export({ type: 'spki', format: 'pem' }).toString();
const pem = (kp: { privateKey: { export(o: object): string | Buffer } }) => kp.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const encKeys = {
  'rsa-oaep': pem(generateKeyPairSync('rsa', { modulusLength: 2048 })),
  'ecies-p256': pem(generateKeyPairSync('ec', { namedCurve: 'P-256' })),
  'ecies-x25519': pem(generateKeyPairSync('x25519')),
};
const signKeys = { ed25519: generateKey('ed25519'), 'ecdsa-p256': generateKey('ecdsa-p256'), 'rsa-2048': generateKey('rsa-2048') };
const SIGNER_FOR = { 'rsa-oaep': 'rsa-2048', 'ecies-p256': 'ecdsa-p256', 'ecies-x25519': 'ed25519' } as const;
const TLV_FOR = { 'rsa-oaep': TLV_TYPES.ENC_RSA2048, 'ecies-p256': TLV_TYPES.ENC_EC256, 'ecies-x25519': TLV_TYPES.ENC_X25519 };
const TLV_LENGTH = { 'rsa-oaep': () => 256, 'ecies-p256': (k: number) => 65 + 32 + k, 'ecies-x25519': (k: number) => 32 + 32 + k };

/** The error an image operation throws, as "code: message". */
const code = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return `${(e as ImageError).code}: ${(e as Error).message}`;
  }
  return 'no error';
};

describe('encrypted images decrypt to the signed plaintext', () => {
  for (const exchange of ['rsa-oaep', 'ecies-p256', 'ecies-x25519'] as const) {
    for (const keyLength of [128, 256] as const) {
      it(`${exchange}, AES-${keyLength}-CTR`, async () => {
        const signKey = signKeys[SIGNER_FOR[exchange]];
        const opts = { key: signKey, version: '1.0.0', headerSize: 0x200, padHeader: true, slotSize: 0x10000, pad: true };
        const plain = createImage(payload, opts);
        const enc = createImage(payload, { ...opts, encryption: { key: publicPem(encKeys[exchange]), keyLength } });
        const img = parseImage(enc);
        expect(img.header.flags).toBe(keyLength === 256 ? IMAGE_FLAGS.ENCRYPTED_AES256 : IMAGE_FLAGS.ENCRYPTED_AES128);
        const encTlv = img.unprotectedArea.tlvs.at(-1)!;
        expect(encTlv.type).toBe(TLV_FOR[exchange]);
        expect(encTlv.value.length).toBe(TLV_LENGTH[exchange](keyLength / 8));
        // The body is not in clear; the hash and signature are those of the plaintext.
        const body = (b: Uint8Array) => Buffer.from(b.subarray(0x200, 0x200 + payload.length));
        expect(body(enc).equals(Buffer.from(payload))).toBe(false);
        expect((await verifyImage(enc, { key: signKey })).error?.code).toBe('hash-mismatch');
        const dec = decryptImage(enc, encKeys[exchange]);
        expect(body(dec).equals(Buffer.from(payload))).toBe(true);
        const r = await verifyImage(dec, { key: signKey });
        expect(r.error).toBeUndefined();
        expect(r.signatureOk).toBe(true);
        expect(body(dec).equals(body(plain))).toBe(true);
        // Two runs differ (random AES key and ephemeral key) but both decrypt.
        const again = createImage(payload, { ...opts, encryption: { key: encKeys[exchange], keyLength } });
        expect(Buffer.from(again).equals(Buffer.from(enc))).toBe(false);
        expect(body(decryptImage(again, encKeys[exchange])).equals(Buffer.from(payload))).toBe(true);
      });
    }
  }

  it('ECIES-X25519 with HMAC-SHA512 (ENC_X25519_SHA512: 32 + 64 + key bytes)', async () => {
    const enc = createImage(payload, { key: signKeys.ed25519, padHeader: true, encryption: { key: encKeys['ecies-x25519'], hmacSha: 512, keyLength: 256 } });
    const tlv = parseImage(enc).unprotectedArea.tlvs.at(-1)!;
    expect(tlv.type).toBe(TLV_TYPES.ENC_X25519_SHA512);
    expect(tlv.value.length).toBe(32 + 64 + 32);
    expect((await verifyImage(decryptImage(enc, encKeys['ecies-x25519']), { key: signKeys.ed25519 })).ok).toBe(true);
  });

  it('the body is padded to 16 bytes before encryption; --clear keeps it readable but flagged', () => {
    const odd = payload.subarray(0, 1001);
    const enc = createImage(odd, { padHeader: true, encryption: { key: encKeys['ecies-p256'] } });
    expect(parseImage(enc).header.imgSize).toBe(1008);
    const clear = createImage(odd, { padHeader: true, encryption: { key: encKeys['ecies-p256'], clear: true } });
    const c = parseImage(clear);
    expect(c.header.flags & IMAGE_FLAGS.ENCRYPTED_AES128).toBeTruthy();
    expect(Buffer.from(clear.subarray(0x20, 0x20 + 1001)).equals(Buffer.from(odd))).toBe(true);
    expect(c.unprotectedArea.tlvs.map((t) => t.name)).toEqual(['SHA256', 'ENC_EC256']);
  });

  it('the trailer reserves room for two image keys', () => {
    const enc = { key: encKeys['ecies-p256'] };
    // 0x2848-byte image (0x2840 + 16-byte padding + TLVs); trailer 128*3*1 + 2*16 + 4*8 + 16 = 0x1d0
    expect(() => createImage(payload, { padHeader: true, slotSize: 0x2c00, encryption: enc })).not.toThrow();
    expect(() => createImage(payload, { padHeader: true, slotSize: 0x2a00, encryption: enc })).toThrow(/exceeds the slot size/);
  });
});

describe("imgtool's rules and wrong keys", () => {
  it('HMAC-SHA512 only with X25519; RSA-OAEP only with RSA-2048; the key types must go together', () => {
    expect(code(() => createImage(payload, { padHeader: true, encryption: { key: encKeys['ecies-p256'], hmacSha: 512 } }))).toMatch(
      /bad-option: HMAC-SHA512 is only defined for ECIES-X25519/,
    );
    const rsa3072 = pem(generateKeyPairSync('rsa', { modulusLength: 3072 }));
    expect(code(() => createImage(payload, { padHeader: true, encryption: { key: rsa3072 } }))).toMatch(/RSA-OAEP encryption needs an RSA-2048 key/);
    expect(code(() => createImage(payload, { key: signKeys['ecdsa-p256'], padHeader: true, encryption: { key: encKeys['rsa-oaep'] } }))).toMatch(
      /same type of key: a ecdsa-p256 signing key goes with ecies-p256, not rsa-oaep/,
    );
    expect(code(() => createImage(payload, { key: signKeys['rsa-2048'], padHeader: true, encryption: { key: encKeys['ecies-x25519'] } }))).toMatch(
      /same type of key/,
    );
    expect(code(() => createImage(payload, { key: generateKey('ecdsa-p384'), padHeader: true, encryption: { key: encKeys['ecies-p256'] } }))).toMatch(
      /P-384 signed image cannot be encrypted/,
    );
    expect(code(() => createImage(payload, { padHeader: true, encryption: { key: signKeys.ed25519 } }))).toMatch(/cannot encrypt MCUboot images/);
  });
  it('decrypting with another key says so', () => {
    for (const exchange of ['rsa-oaep', 'ecies-p256', 'ecies-x25519'] as const) {
      const enc = createImage(payload, { padHeader: true, encryption: { key: encKeys[exchange] } });
      const other =
        exchange === 'rsa-oaep'
          ? pem(generateKeyPairSync('rsa', { modulusLength: 2048 }))
          : exchange === 'ecies-p256'
            ? pem(generateKeyPairSync('ec', { namedCurve: 'P-256' }))
            : pem(generateKeyPairSync('x25519'));
      expect(code(() => decryptImage(enc, other))).toMatch(/^wrong-key: .*(encrypted for another|does not decrypt)/);
      expect(code(() => decryptImage(enc, encKeys[exchange === 'rsa-oaep' ? 'ecies-p256' : 'rsa-oaep']))).toMatch(/^wrong-key: the image's key is wrapped for/);
    }
    expect(code(() => decryptImage(createImage(payload, { padHeader: true }), encKeys['ecies-p256']))).toMatch(/not encrypted/);
  });
});

describe('AES key wrap (ENC_KW) with a raw 16- or 32-byte key file', () => {
  it("wraps as RFC 3394 does (the RFC's 4.1 and 4.6 vectors)", () => {
    const hex = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));
    const keyData = hex('00112233445566778899aabbccddeeff');
    expect(Buffer.from(wrapImageKey(loadEncryptionKey(hex('000102030405060708090a0b0c0d0e0f')), keyData, 256)).toString('hex')).toBe(
      '1fa68b0a8112b447aef34bd8fb5a7b829d3e862371d2cfe5',
    );
    const kek256 = hex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');
    expect(
      Buffer.from(wrapImageKey(loadEncryptionKey(kek256), hex('00112233445566778899aabbccddeeff000102030405060708090a0b0c0d0e0f'), 256)).toString('hex'),
    ).toBe('28c9f404c4b810f4cbccb35cfb87f8263f5786e2d80ed326cbc7f0e71a99f43bfb988b9b7a02dd21');
  });

  for (const kekLength of [16, 32]) {
    for (const keyLength of [128, 256] as const) {
      it(`a ${kekLength}-byte key wraps an AES-${keyLength} image key; the image decrypts to the signed plaintext`, async () => {
        const kek = new Uint8Array(randomBytes(kekLength));
        const signKey = signKeys['ecdsa-p256'];
        const enc = createImage(payload, { key: signKey, padHeader: true, headerSize: 0x200, encryption: { key: kek, keyLength } });
        const tlv = parseImage(enc).unprotectedArea.tlvs.at(-1)!;
        expect(tlv.type).toBe(TLV_TYPES.ENC_KW);
        expect(tlv.value.length).toBe(keyLength / 8 + 8);
        expect((await verifyImage(enc, { key: signKey })).error?.code).toBe('hash-mismatch');
        const dec = decryptImage(enc, kek);
        expect(Buffer.from(dec.subarray(0x200, 0x200 + payload.length)).equals(Buffer.from(payload))).toBe(true);
        expect((await verifyImage(dec, { key: signKey })).signatureOk).toBe(true);
      });
    }
  }

  it('another AES key, a PEM key, a key of the wrong size, HMAC-SHA512: each refused with the reason', () => {
    const kek = new Uint8Array(randomBytes(16));
    const enc = createImage(payload, { padHeader: true, encryption: { key: kek } });
    expect(code(() => decryptImage(enc, new Uint8Array(randomBytes(16))))).toMatch(/^wrong-key: .*does not unwrap with this key/);
    expect(code(() => decryptImage(enc, encKeys['ecies-x25519']))).toMatch(
      /^wrong-key: the image's key is wrapped for aes-kw but the decryption key is for ecies-x25519/,
    );
    expect(code(() => decryptImage(createImage(payload, { padHeader: true, encryption: { key: encKeys['ecies-p256'] } }), kek))).toMatch(
      /^wrong-key: the image's key is wrapped for ecies-p256 but the decryption key is for aes-kw/,
    );
    expect(code(() => createImage(payload, { padHeader: true, encryption: { key: new Uint8Array(24) } }))).toMatch(/^bad-key: .*16 or 32 bytes.*24 bytes/);
    expect(code(() => createImage(payload, { padHeader: true, encryption: { key: kek, hmacSha: 512 } }))).toMatch(
      /HMAC-SHA512 is only defined for ECIES-X25519/,
    );
    // PEM text given as bytes is still a PEM key.
    const fromBytes = createImage(payload, { padHeader: true, encryption: { key: new TextEncoder().encode(publicPem(encKeys['ecies-p256'])) } });
    expect(parseImage(fromBytes).unprotectedArea.tlvs.at(-1)!.type).toBe(TLV_TYPES.ENC_EC256);
  });
});
