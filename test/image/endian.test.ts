/**
 * Big-endian images (imgtool sign -e big, for MCUboot's big-endian builds): header, TLV info and TLV fields in
 * network order, imgtool's TLV packing ('BBH' for the types it names, 'HH' for custom ones), read back by
 * parseImage/verifyImage.
 */
import { describe, expect, it } from 'vitest';
import { createImage, generateKey, parseImage, verifyImage, TLV_TYPES, type CreateImageOptions } from '../../src/image/node.js';
import { fx } from './fixtures.js';

const payload = fx('payload.bin');
const key = generateKey('ed25519');
const opts: CreateImageOptions = {
  key,
  version: '1.2.3+4',
  headerSize: 0x200,
  padHeader: true,
  securityCounter: 0x01020304,
  dependencies: [{ image: 1, version: '2.3.4+5' }],
  customTlvs: [{ type: 0xa0, value: new Uint8Array([1, 2, 3]), protected: true }],
};
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('-e big', () => {
  const little = createImage(payload, opts);
  const big = createImage(payload, { ...opts, endian: 'big' });

  it('writes the header fields big-endian', () => {
    const dv = new DataView(big.buffer, big.byteOffset);
    expect(hex(big.subarray(0, 4))).toBe('96f3b83d');
    expect(dv.getUint16(8, false)).toBe(0x200);
    expect(dv.getUint32(12, false)).toBe(payload.length);
    expect([big[20], big[21], dv.getUint16(22, false), dv.getUint32(24, false)]).toEqual([1, 2, 3, 4]);
    // The body is the same bytes either way.
    expect(hex(big.subarray(0x200, 0x200 + payload.length))).toBe(hex(payload));
  });

  it('packs TLV info and TLVs as imgtool does: named types as a byte and a zero, custom types as 16 bits', () => {
    const img = parseImage(big);
    const prot = img.protectedArea!;
    expect(hex(big.subarray(prot.offset, prot.offset + 2))).toBe('6908');
    expect(new DataView(big.buffer, big.byteOffset).getUint16(prot.offset + 2, false)).toBe(prot.size);
    const at = (type: number) => img.tlvs.find((t) => t.type === type)!;
    const sec = at(TLV_TYPES.SEC_CNT);
    expect(hex(big.subarray(sec.offset, sec.offset + 8))).toBe('50000004' + '01020304');
    const dep = at(TLV_TYPES.DEPENDENCY);
    expect(hex(dep.value)).toBe('01000000' + '0203' + '0004' + '00000005');
    const custom = at(0xa0);
    expect(hex(big.subarray(custom.offset, custom.offset + 7))).toBe('00a00003010203');
    const sha = at(TLV_TYPES.SHA256);
    expect(hex(big.subarray(sha.offset, sha.offset + 4))).toBe('10000020');
    expect(hex(big.subarray(img.unprotectedArea.offset, img.unprotectedArea.offset + 2))).toBe('6907');
  });

  it('reads back to the same header and TLV types as the little-endian image, and verifies', async () => {
    const b = parseImage(big);
    const l = parseImage(little);
    expect(b.byteOrder).toBe('big');
    expect(l.byteOrder).toBe('little');
    expect(b.header).toEqual(l.header);
    expect(b.tlvs.map((t) => t.type)).toEqual(l.tlvs.map((t) => t.type));
    const r = await verifyImage(big, { key });
    expect(r.error).toBeUndefined();
    expect(r.signatureOk).toBe(true);
  });

  it('refuses mixed byte order: a big-endian header with a little-endian TLV area', () => {
    const mixed = big.slice();
    const { offset } = parseImage(big).unprotectedArea;
    const dv = new DataView(mixed.buffer);
    dv.setUint16(offset, dv.getUint16(offset, false), true);
    dv.setUint16(offset + 2, dv.getUint16(offset + 2, false), true);
    expect(() => parseImage(mixed)).toThrow(/TLV area at .* is little-endian but the header is big-endian: mixed byte order/);
  });
});
