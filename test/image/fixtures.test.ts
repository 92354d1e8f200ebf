import { describe, it, expect } from 'vitest';
import {
  parseImage,
  verifyImage,
  isMcubootImage,
  formatVersionImgtool,
  toHex,
  tlvTypeName,
  parseTrailer,
  assertImageValid,
  ImageError,
} from '../../src/image/node.js';
import { fx, fxText, manifest, dumpinfoFacts, sha256hex } from './fixtures.js';

describe('imgtool fixtures: parse matches dumpinfo / verify', () => {
  for (const m of manifest.images) {
    it(m.file, async () => {
      const bytes = fx(m.file);
      expect(bytes.length).toBe(m.size);
      expect(sha256hex(bytes)).toBe(m.sha256);
      expect(isMcubootImage(bytes)).toBe(true);
      const img = parseImage(bytes);
      const d = dumpinfoFacts(m.dumpinfo.stdout);
      expect(img.header.magic).toBe(d.magic);
      expect(img.header.loadAddr).toBe(d.loadAddr);
      expect(img.header.hdrSize).toBe(d.hdrSize);
      expect(img.header.protectTlvSize).toBe(d.protectedTlvSize);
      expect(img.header.imgSize).toBe(d.imgSize);
      expect(img.header.flags).toBe(d.flags);
      expect(formatVersionImgtool(img.header.version)).toBe(d.version);
      // TLVs in order; imgtool 1.10 names 0x22 "ECDSASIG" and 0x20 "RSA2048"
      const imgtoolName: Record<string, string> = { ECDSA_SIG: 'ECDSASIG', RSA2048_PSS: 'RSA2048' };
      expect(img.tlvs.map((t) => ({ name: imgtoolName[t.name] ?? t.name, type: t.type, len: t.value.length }))).toEqual(d.tlvs);
      expect([img.protectedArea?.size, img.unprotectedArea.size].filter((x) => x !== undefined)).toEqual(d.areaSizes);
      // hash = verify's "Image digest"
      const digest = /Image digest: ([0-9a-f]+)/.exec(m.verify.stdout)![1];
      expect(toHex(img.hash!)).toBe(digest);
      expect(/Image version: (\S+)/.exec(m.verify.stdout)![1]).toBe(formatVersionImgtool(img.header.version));
      // padding / trailer
      expect(img.paddingSize > 0).toBe(d.padded);
      if (d.padded) {
        const tr = parseTrailer(bytes);
        expect(tr.magic).toBe('good');
        expect(tr.imageOk).toBe(d.imageOk === '0x1' ? 'set' : 'unset');
        expect(tr.imageOk).toBe(m.variant === 'confirm' ? 'set' : 'unset');
      }
      // verify like `imgtool verify [-k key]`
      expect(m.verify.exit_status).toBe(0);
      const r = await verifyImage(bytes, m.key ? { key: fxText(m.key) } : {});
      expect(r.error).toBeUndefined();
      expect(r.ok).toBe(true);
      expect(toHex(r.computedHash!)).toBe(digest);
      expect(r.hashOk).toBe(true);
      if (m.key) {
        expect(r.signatureChecked).toBe(true);
        expect(r.signatureOk).toBe(true);
        expect(r.keyMatch).toBe(true);
      } else {
        expect(r.signatureChecked).toBe(false);
      }
    });
  }

  it('verifies with the public key PEM too', async () => {
    for (const t of ['rsa-2048', 'ecdsa-p256', 'ed25519']) {
      const r = await verifyImage(fx(`${t}/base.bin`), { key: fxText(`keys/${t}.pub.pem`) });
      expect(r.ok, t).toBe(true);
    }
  });

  it('pubkey_full images verify from the embedded PUBKEY without a key', async () => {
    for (const t of ['rsa-2048', 'ecdsa-p256', 'ed25519']) {
      const r = await verifyImage(fx(`${t}/pubkey_full.bin`));
      expect(r.ok, t).toBe(true);
      expect(r.signatureChecked).toBe(true);
      expect(r.keyMatch).toBe(true);
    }
  });

  it('images with a keyhash need the key for a signature check', async () => {
    const r = await verifyImage(fx('ecdsa-p256/base.bin'));
    expect(r.ok).toBe(true);
    expect(r.signatureChecked).toBe(false);
    expect(r.signatureType).toBe('ECDSA_SIG');
  });
});

describe('wrong keys', () => {
  for (const w of manifest.wrong_key) {
    it(`${w.file} with ${w.key} (imgtool: ${w.verify.stdout.trim()})`, async () => {
      const r = await verifyImage(fx(w.file), { key: fxText(w.key) });
      expect(r.ok).toBe(false);
      expect(w.verify.exit_status).toBe(1);
      expect(r.error?.code).toBe(w.file.startsWith('hash-only') ? 'no-signature' : 'wrong-key');
    });
  }
  const types = ['rsa-2048', 'ecdsa-p256', 'ed25519'];
  for (const signer of types) {
    for (const other of types.filter((t) => t !== signer)) {
      it(`${signer}/base.bin rejects ${other} key`, async () => {
        const r = await verifyImage(fx(`${signer}/base.bin`), { key: fxText(`keys/${other}.pem`) });
        expect(r.error?.code).toBe('wrong-key');
        expect(r.keyMatch).toBe(false);
        await expect(assertImageValid(fx(`${signer}/base.bin`), { key: fxText(`keys/${other}.pem`) })).rejects.toThrow(ImageError);
      });
    }
  }
});

describe('broken images', () => {
  const expected: Record<string, string> = {
    'broken/flipped_payload_byte.bin': 'hash-mismatch',
    'broken/truncated_tlv_area.bin': 'tlv-overrun',
    'broken/wrong_magic.bin': 'bad-magic',
  };
  for (const b of manifest.broken) {
    it(`${b.file} -> ${expected[b.file]} (imgtool: ${b.verify.stdout.trim()})`, async () => {
      const bytes = fx(b.file);
      expect(bytes.length).toBe(b.size);
      expect(sha256hex(bytes)).toBe(b.sha256);
      expect(b.verify.exit_status).toBe(1);
      const r = await verifyImage(bytes, { key: fxText('keys/ecdsa-p256.pem') });
      expect(r.ok).toBe(false);
      expect(r.error).toBeInstanceOf(ImageError);
      expect(r.error?.code).toBe(expected[b.file]);
      expect(r.error?.message).not.toMatch(/\n/);
      await expect(assertImageValid(bytes, { key: fxText('keys/ecdsa-p256.pem') })).rejects.toThrow(r.error!.message);
    });
  }
  it('flipped payload still parses (header and TLVs intact) but hash fails without a key too', async () => {
    const bytes = fx('broken/flipped_payload_byte.bin');
    expect(parseImage(bytes).tlvs.map((t) => tlvTypeName(t.type))).toEqual(['SHA256', 'KEYHASH', 'ECDSA_SIG']);
    const r = await verifyImage(bytes);
    expect(r.hashOk).toBe(false);
    expect(r.error?.code).toBe('hash-mismatch');
  });
  it('wrong magic and truncated images are not MCUboot images', async () => {
    expect(isMcubootImage(fx('broken/wrong_magic.bin'))).toBe(false);
    expect(isMcubootImage(fx('broken/truncated_tlv_area.bin'))).toBe(false);
    expect(() => parseImage(fx('broken/wrong_magic.bin'))).toThrow(/invalid image magic/i);
  });
});
