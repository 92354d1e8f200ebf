import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  parseHeader,
  encodeHeader,
  parseVersion,
  formatVersion,
  formatVersionImgtool,
  compareVersions,
  parseImage,
  isMcubootImage,
  TLV_TYPES,
  tlvTypeName,
  isVendorTlv,
  parseTlvArea,
  encodeTlvArea,
  createImage,
  verifyImage,
  ImageError,
  IMAGE_MAGIC,
} from '../../src/image/node.js';
import { fx } from './fixtures.js';

const codeOf = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ImageError);
    expect((e as Error).message).not.toMatch(/\n/);
    return (e as ImageError).code;
  }
  return 'none';
};

describe('versions', () => {
  it('parses imgtool and Zephyr forms', () => {
    expect(parseVersion('1.2.3+4')).toEqual({ major: 1, minor: 2, revision: 3, build: 4 });
    expect(parseVersion('1.2.3.4')).toEqual({ major: 1, minor: 2, revision: 3, build: 4 });
    expect(parseVersion('1.2.3')).toEqual({ major: 1, minor: 2, revision: 3, build: 0 });
    expect(parseVersion('1.2')).toEqual({ major: 1, minor: 2, revision: 0, build: 0 });
    expect(parseVersion('7')).toEqual({ major: 7, minor: 0, revision: 0, build: 0 });
    expect(parseVersion('255.255.65535+4294967295').build).toBe(4294967295);
    for (const bad of ['', '1.2.3+', 'a.b', '256.0.0', '1.256.0', '1.2.65536', '1.2.3+4294967296', '1.2.3.4.5', '-1.0.0']) {
      expect(
        codeOf(() => parseVersion(bad)),
        bad,
      ).toBe('bad-version');
    }
  });
  it('formats Zephyr style (build only when nonzero) and imgtool style', () => {
    expect(formatVersion(parseVersion('1.2.3'))).toBe('1.2.3');
    expect(formatVersion(parseVersion('1.3.0+7'))).toBe('1.3.0.7');
    expect(formatVersionImgtool(parseVersion('1.2.3'))).toBe('1.2.3+0');
  });
  it('compares', () => {
    const v = parseVersion;
    expect(compareVersions(v('1.2.3'), v('1.2.3'))).toBe(0);
    expect(compareVersions(v('1.2.3'), v('1.2.4'))).toBe(-1);
    expect(compareVersions(v('2.0.0'), v('1.9.9'))).toBe(1);
    expect(compareVersions(v('1.2.3+5'), v('1.2.3+4'))).toBe(1);
    expect(compareVersions(v('1.2.3+5'), v('1.2.3+4'), true)).toBe(0);
    expect(compareVersions(v('1.10.0'), v('1.9.0'))).toBe(1);
  });
  it('round-trips (property)', () => {
    fc.assert(
      fc.property(fc.nat(255), fc.nat(255), fc.nat(65535), fc.nat(0xffffffff), (major, minor, revision, build) => {
        const ver = { major, minor, revision, build };
        expect(parseVersion(formatVersion(ver))).toEqual(ver);
        expect(parseVersion(formatVersionImgtool(ver))).toEqual(ver);
      }),
    );
  });
});

describe('header', () => {
  it('encodes and parses (property)', () => {
    fc.assert(
      fc.property(
        fc.record({
          loadAddr: fc.nat(0xffffffff),
          hdrSize: fc.integer({ min: 32, max: 0xffff }),
          protectTlvSize: fc.nat(0xffff),
          imgSize: fc.nat(0xffffffff),
          flags: fc.nat(0xffffffff),
          version: fc.record({ major: fc.nat(255), minor: fc.nat(255), revision: fc.nat(65535), build: fc.nat(0xffffffff) }),
        }),
        (h) => {
          const b = encodeHeader(h);
          expect(b.length).toBe(32);
          expect(parseHeader(b)).toEqual({ magic: IMAGE_MAGIC, ...h });
        },
      ),
    );
  });
  it('matches the fixture bytes', () => {
    const b = fx('hash-only/version_build.bin');
    const h = parseHeader(b);
    expect(h.version).toEqual({ major: 1, minor: 2, revision: 3, build: 456 });
    expect([...encodeHeader(h)]).toEqual([...b.subarray(0, 32)]);
  });
});

describe('TLV types and areas', () => {
  const expected: [string, number][] = [
    ['KEYHASH', 0x01],
    ['PUBKEY', 0x02],
    ['SHA256', 0x10],
    ['SHA384', 0x11],
    ['SHA512', 0x12],
    ['RSA2048_PSS', 0x20],
    ['ECDSA224', 0x21],
    ['ECDSA_SIG', 0x22],
    ['RSA3072_PSS', 0x23],
    ['ED25519', 0x24],
    ['SIG_PURE', 0x25],
    ['ENC_RSA2048', 0x30],
    ['ENC_KW', 0x31],
    ['ENC_EC256', 0x32],
    ['ENC_X25519', 0x33],
    ['ENC_X25519_SHA512', 0x34],
    ['DEPENDENCY', 0x40],
    ['SEC_CNT', 0x50],
    ['BOOT_RECORD', 0x60],
    ['DECOMP_SIZE', 0x70],
    ['DECOMP_SHA', 0x71],
    ['DECOMP_SIGNATURE', 0x72],
    ['COMP_DEC_SIZE', 0x73],
    ['UUID_VID', 0x74],
    ['UUID_CID', 0x75],
  ];
  for (const [name, type] of expected) {
    it(`${name} = 0x${type.toString(16)}`, () => {
      expect((TLV_TYPES as Record<string, number>)[name]).toBe(type);
      expect(tlvTypeName(type)).toBe(name);
      expect(isVendorTlv(type)).toBe(false);
    });
  }
  it('has exactly the reference types', () => {
    expect(Object.keys(TLV_TYPES).length).toBe(expected.length);
  });
  it('names vendor and unknown types', () => {
    expect(tlvTypeName(0xa0)).toBe('VENDOR_0x00a0');
    expect(tlvTypeName(0x12ff)).toBe('VENDOR_0x12ff');
    expect(isVendorTlv(0x3a5)).toBe(true);
    expect(tlvTypeName(0x99)).toBe('UNKNOWN_0x0099');
  });
  it('encodes and parses both areas (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ type: fc.nat(0xffff), value: fc.uint8Array({ maxLength: 40 }) }), { maxLength: 8 }), fc.boolean(), (entries, prot) => {
        const area = encodeTlvArea(entries, prot);
        const padded = new Uint8Array(area.length + 7);
        padded.set(area, 3);
        const p = parseTlvArea(padded, 3, prot);
        expect(p.size).toBe(area.length);
        expect(p.magic).toBe(prot ? 0x6908 : 0x6907);
        expect(p.tlvs.map((t) => ({ type: t.type, value: t.value }))).toEqual(entries);
      }),
    );
  });
});

describe('malformed images', () => {
  const good = fx('hash-only/security_counter.bin'); // has both TLV areas
  const setU16 = (b: Uint8Array, off: number, v: number) => {
    b[off] = v & 0xff;
    b[off + 1] = v >> 8;
  };
  const img = parseImage(good);
  const protOff = img.protectedArea!.offset;
  const unprotOff = img.unprotectedArea.offset;

  it('truncated header', () => {
    for (const n of [0, 1, 4, 31]) expect(codeOf(() => parseImage(good.subarray(0, n)))).toBe('truncated');
    expect(isMcubootImage(good.subarray(0, 31))).toBe(false);
  });
  it('truncated body', () => {
    expect(codeOf(() => parseImage(good.subarray(0, 0x100)))).toBe('truncated');
  });
  it('missing TLV area', () => {
    expect(codeOf(() => parseImage(good.subarray(0, protOff)))).toBe('truncated');
    expect(codeOf(() => parseImage(good.subarray(0, unprotOff + 2)))).toBe('truncated');
  });
  it('bad magic (v1, erased, garbage)', () => {
    for (const m of [
      [0x3c, 0xb8, 0xf3, 0x96],
      [0xff, 0xff, 0xff, 0xff],
      [0, 1, 2, 3],
    ]) {
      const b = good.slice();
      b.set(m, 0);
      expect(codeOf(() => parseImage(b))).toBe('bad-magic');
      expect(isMcubootImage(b)).toBe(false);
    }
  });
  it('header size smaller than 32', () => {
    const b = good.slice();
    setU16(b, 8, 16);
    expect(codeOf(() => parseImage(b))).toBe('truncated');
  });
  it('bad TLV info magic (protected and unprotected)', () => {
    const b1 = good.slice();
    setU16(b1, protOff, 0x6907);
    expect(codeOf(() => parseImage(b1))).toBe('bad-tlv-magic');
    const b2 = good.slice();
    setU16(b2, unprotOff, 0x1234);
    expect(codeOf(() => parseImage(b2))).toBe('bad-tlv-magic');
    const b3 = fx('hash-only/base.bin').slice();
    setU16(b3, 10, 12); // claims a protected area that is not there
    expect(codeOf(() => parseImage(b3))).toBe('bad-tlv-magic');
  });
  it('TLV overrun: area size past the end', () => {
    const b = good.slice();
    setU16(b, unprotOff + 2, 0x1000);
    expect(codeOf(() => parseImage(b))).toBe('tlv-overrun');
    expect(codeOf(() => parseImage(good.subarray(0, good.length - 1)))).toBe('tlv-overrun');
  });
  it('TLV overrun: entry length past the area end', () => {
    const b = good.slice();
    setU16(b, unprotOff + 6, 0x21); // SHA256 len 32 -> 33
    expect(codeOf(() => parseImage(b))).toBe('tlv-overrun');
    const c = good.slice();
    setU16(c, protOff + 6, 0x05);
    expect(codeOf(() => parseImage(c))).toBe('tlv-overrun');
  });
  it('TLV overrun: area too small for its info header / partial TLV header', () => {
    const b = good.slice();
    setU16(b, unprotOff + 2, 2);
    expect(codeOf(() => parseImage(b))).toBe('tlv-overrun');
    const area = encodeTlvArea([], false);
    const c = new Uint8Array(8);
    c.set(area);
    setU16(c, 2, 6); // 2 stray bytes: not a whole TLV header
    expect(codeOf(() => parseTlvArea(c, 0, false))).toBe('tlv-overrun');
  });
  it('protected size in header disagrees with the area', () => {
    const b = good.slice();
    setU16(b, protOff + 2, 8); // area says 8 (empty + 4 junk), header says 12
    expect(codeOf(() => parseImage(b))).not.toBe('none');
  });
  it('hash TLV with the wrong length', () => {
    const raw = createImage(fx('payload.bin'), { padHeader: true, customTlvs: [] });
    const p = parseImage(raw);
    const b = raw.slice();
    setU16(b, p.unprotectedArea.tlvs[0]!.offset, 0x11); // claim SHA384 with 32 bytes
    expect(codeOf(() => parseImage(b))).toBe('tlv-overrun');
  });
  it('no hash TLV', async () => {
    const raw = createImage(fx('payload.bin'), { padHeader: true });
    const p = parseImage(raw);
    const b = raw.slice();
    setU16(b, p.unprotectedArea.tlvs[0]!.offset, 0xa0); // rename the hash TLV to a vendor TLV
    expect(parseImage(b).hash).toBeUndefined();
    expect((await verifyImage(b)).error?.code).toBe('no-hash');
  });
  it('random bytes never throw anything but ImageError (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (junk, withMagic) => {
        const b = junk.slice();
        if (withMagic && b.length >= 4) b.set([0x3d, 0xb8, 0xf3, 0x96], 0);
        try {
          parseImage(b);
        } catch (e) {
          expect(e).toBeInstanceOf(ImageError);
        }
      }),
    );
  });
});
