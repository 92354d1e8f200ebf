import { describe, it, expect } from 'vitest';
import {
  createImage,
  verifyImage,
  parseImage,
  generateKey,
  publicKeyPem,
  parseTrailer,
  trailerOffsets,
  bootMagic,
  toHex,
  type ImageError,
  TLV_TYPES,
  type KeyType,
} from '../../src/image/node.js';
import { fx, manifest, fromCommand } from './fixtures.js';

const eqBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

describe('createImage reproduces imgtool', () => {
  for (const m of manifest.images) {
    const { input, output, opts } = fromCommand(m.sign.command);
    const deterministic = m.signer === 'hash-only' || m.signer === 'ed25519';
    it(`${m.file}: ${deterministic ? 'byte-identical' : 'same layout, verifies'}`, async () => {
      expect(output).toBe(m.file);
      const out = createImage(fx(input), opts);
      const ref = fx(m.file);
      if (deterministic) {
        expect(eqBytes(out, ref)).toBe(true);
      } else {
        // RSA-PSS and ECDSA are randomised: compare everything but the signature
        const a = parseImage(out);
        const b = parseImage(ref);
        expect(a.header).toEqual(b.header);
        expect(toHex(a.hash!)).toBe(toHex(b.hash!));
        expect(a.tlvs.map((t) => t.type)).toEqual(b.tlvs.map((t) => t.type));
        expect(toHex(out.subarray(0, a.signedSize))).toBe(toHex(ref.subarray(0, b.signedSize)));
        const r = await verifyImage(out, { key: opts.key });
        expect(r.ok).toBe(true);
        expect(r.signatureOk).toBe(true);
        if (m.signer.startsWith('rsa')) expect(out.length).toBe(ref.length);
        if (m.variant === 'pad' || m.variant === 'confirm') {
          expect(out.length).toBe(ref.length);
          expect(parseTrailer(out)).toEqual(parseTrailer(ref));
          expect(toHex(out.subarray(out.length - 64))).toBe(toHex(ref.subarray(ref.length - 64)));
        }
      }
    });
  }
});

const ALL: KeyType[] = ['rsa-2048', 'rsa-3072', 'ecdsa-p256', 'ecdsa-p384', 'ed25519'];
const SIG: Record<KeyType, string> = {
  'rsa-2048': 'RSA2048_PSS',
  'rsa-3072': 'RSA3072_PSS',
  'ecdsa-p256': 'ECDSA_SIG',
  'ecdsa-p384': 'ECDSA_SIG',
  ed25519: 'ED25519',
};
const payload = fx('payload.bin');

describe('sign then verify with generated keys', () => {
  const keys = Object.fromEntries(ALL.map((t) => [t, generateKey(t)])) as Record<KeyType, string>;
  for (const t of ALL) {
    for (const fmt of ['hash', 'full'] as const) {
      it(`${t} (${fmt} public key)`, async () => {
        const img = createImage(payload, { key: keys[t], version: '2.0.1+9', headerSize: 0x200, padHeader: true, publicKeyFormat: fmt, securityCounter: 3 });
        const p = parseImage(img);
        expect(p.tlvs.map((x) => x.name)).toEqual(['SEC_CNT', t === 'ecdsa-p384' ? 'SHA384' : 'SHA256', fmt === 'hash' ? 'KEYHASH' : 'PUBKEY', SIG[t]]);
        expect(p.hashAlgorithm).toBe(t === 'ecdsa-p384' ? 'sha384' : 'sha256');
        const r = await verifyImage(img, { key: keys[t] });
        expect(r.error).toBeUndefined();
        expect(r.signatureOk && r.keyMatch && r.hashOk).toBe(true);
        expect((await verifyImage(img, { key: publicKeyPem(keys[t]) })).ok).toBe(true);
        if (fmt === 'full') expect((await verifyImage(img)).signatureOk).toBe(true);

        // wrong key of the same type
        const other = ALL.find((x) => x !== t)!;
        expect((await verifyImage(img, { key: keys[other] })).error?.code).toBe('wrong-key');

        // tamper with the body: hash fails
        const t1 = img.slice();
        t1[0x200 + 100]! ^= 1;
        expect((await verifyImage(t1, { key: keys[t] })).error?.code).toBe('hash-mismatch');
        // tamper with the signature: signature fails
        const t2 = img.slice();
        const sig = p.tlvs[p.tlvs.length - 1]!;
        t2[sig.offset + 4 + 10]! ^= 0x40;
        expect((await verifyImage(t2, { key: keys[t] })).error?.code).toBe('signature-mismatch');
        // tamper with the protected TLV (security counter): covered by the hash
        const t3 = img.slice();
        t3[p.protectedArea!.offset + 8]! ^= 1;
        expect((await verifyImage(t3, { key: keys[t] })).error?.code).toBe('hash-mismatch');
      });
    }
  }

  it('a signature not matching the keyhash is wrong-key', async () => {
    const a = generateKey('ecdsa-p256');
    const b = generateKey('ecdsa-p256');
    const img = createImage(payload, { key: a, padHeader: true });
    expect((await verifyImage(img, { key: b })).error?.code).toBe('wrong-key');
  });
});

describe('createImage options', () => {
  it('pad/confirm write the trailer for other max-align values', async () => {
    const img = createImage(payload, { padHeader: true, slotSize: 0x10000, confirm: true, align: 16, maxAlign: 16 });
    expect(img.length).toBe(0x10000);
    const magic = bootMagic(16);
    expect(magic[0]).toBe(16);
    expect(toHex(img.subarray(0x10000 - 16))).toBe(toHex(magic));
    const tr = parseTrailer(img, 16);
    expect(tr.magic).toBe('good');
    expect(tr.imageOk).toBe('set');
    expect(trailerOffsets(0x10000, 16).imageOk).toBe(0x10000 - 32);
    expect(trailerOffsets(0x8000).imageOk).toBe(0x8000 - 24);
  });
  it('load address sets RAM_LOAD (or ROM_FIXED)', async () => {
    const a = parseImage(createImage(payload, { padHeader: true, loadAddress: 0x20000000 })).header;
    expect(a.loadAddr).toBe(0x20000000);
    expect(a.flags).toBe(0x20);
    expect(parseImage(createImage(payload, { padHeader: true, loadAddress: 0x1000, romFixed: true })).header.flags).toBe(0x100);
  });
  it('custom TLVs land in the right area', async () => {
    const img = createImage(payload, {
      padHeader: true,
      customTlvs: [
        { type: 0xa0, value: new Uint8Array([1, 2]) },
        { type: 0x1a1, value: new Uint8Array([3]), protected: true },
      ],
    });
    const p = parseImage(img);
    expect(p.protectedArea!.tlvs.map((t) => t.name)).toEqual(['VENDOR_0x01a1']);
    expect(p.unprotectedArea.tlvs.map((t) => t.name)).toEqual(['SHA256', 'VENDOR_0x00a0']);
    expect((await verifyImage(img)).ok).toBe(true);
  });
  it('rejects bad options', async () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as ImageError).code;
      }
      return 'none';
    };
    expect(code(() => createImage(payload, { headerSize: 0x20 }))).toBe('bad-option'); // no header room
    expect(code(() => createImage(payload, { padHeader: true, pad: true }))).toBe('bad-option'); // no slot size
    // 0x2848 bytes of image + imgtool's 0x1b0-byte trailer (align 1, 128 sectors) > 0x29f0
    expect(code(() => createImage(payload, { padHeader: true, pad: true, slotSize: 0x29f0 }))).toBe('too-large');
    expect(code(() => createImage(payload, { padHeader: true, slotSize: 0x1000 }))).toBe('too-large');
    expect(code(() => createImage(payload, { padHeader: true, align: 3 }))).toBe('bad-option');
    expect(code(() => createImage(payload, { padHeader: true, version: '1.x' }))).toBe('bad-version');
    expect(code(() => createImage(payload, { padHeader: true, key: 'nope' }))).toBe('bad-key');
    expect(code(() => createImage(payload, { padHeader: true, key: publicKeyPem(generateKey('ed25519')) }))).toBe('bad-key');
    expect((await verifyImage(payload, { key: 'garbage' })).error?.code).toBe('bad-key');
  });
  it('hash-only image with a key given: no-signature', async () => {
    const img = createImage(payload, { padHeader: true });
    expect((await verifyImage(img, { key: generateKey('ed25519') })).error?.code).toBe('no-signature');
    expect(TLV_TYPES.SHA256).toBe(0x10);
  });
});
