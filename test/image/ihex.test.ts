import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { ihexToBinary, binaryToIhex, segmentsToIhex, IhexError, ImageError, parseImage } from '../../src/image/node.js';
import { fx } from './fixtures.js';

const errOf = (text: string) => {
  try {
    ihexToBinary(text);
  } catch (e) {
    return e as Error;
  }
  throw new Error('no error');
};

describe('Intel HEX', () => {
  it('decodes a simple file with an extended linear address', () => {
    const text = ':020000040800F2\n:0400000001020304F2\n:0400040005060708DE\n:0400000508000101ED\n:00000001FF\n';
    const r = ihexToBinary(text);
    expect(r.address).toBe(0x08000000);
    expect([...r.data]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(r.startAddress).toBe(0x08000101);
  });
  it('round-trips a signed image across a 64 KiB boundary', () => {
    const img = fx('ed25519/base.bin');
    const text = binaryToIhex(0x0000c000, img);
    const r = ihexToBinary(text.replace(/\n/g, '\r\n'));
    expect(r.address).toBe(0xc000);
    expect(Buffer.from(r.data).equals(Buffer.from(img))).toBe(true);
    expect(parseImage(r.data).header.imgSize).toBe(0x2800);
  });
  it('round-trips (property)', () => {
    fc.assert(
      fc.property(fc.nat(0xfffff000), fc.uint8Array({ minLength: 1, maxLength: 300 }), (addr, data) => {
        const r = ihexToBinary(binaryToIhex(addr, data));
        expect(r.address).toBe(addr);
        expect([...r.data]).toEqual([...data]);
      }),
    );
  });
  it('segment address records', () => {
    const r = ihexToBinary(':020000021000EC\n:01000000AA55\n:00000001FF\n');
    expect(r.address).toBe(0x10000);
    expect([...r.data]).toEqual([0xaa]);
  });
  it('bad checksum', () => {
    const e = errOf(':0400000001020304F3\n:00000001FF\n');
    expect(e).toBeInstanceOf(IhexError);
    expect(e.message).toMatch(/line 1: bad checksum 0xf3, expected 0xf2/);
  });
  it('non-contiguous data (gap and overlap)', () => {
    expect(errOf(':0400000001020304F2\n:0400080005060708DA\n:00000001FF\n').message).toMatch(/line 2: non-contiguous data: record at 0x8, expected 0x4/);
    expect(errOf(':0400000001020304F2\n:0400000001020304F2\n').message).toMatch(/non-contiguous/);
  });
  it('bad records', () => {
    expect(errOf('0400000001020304F2').message).toMatch(/line 1: .*':'/);
    expect(errOf(':04000000010203F2').message).toMatch(/byte count/);
    expect(errOf(':0400000001020304F').message).toMatch(/bad record/);
    expect(errOf(':zz00000001020304F2').message).toMatch(/bad record/);
    expect(errOf(':0400000601020304EC').message).toMatch(/bad record type 0x06/);
    expect(errOf(':00000001FF\n:0400000001020304F2').message).toMatch(/line 2: data after end-of-file/);
    expect(errOf(':03000004080000F1').message).toMatch(/extended linear/);
  });
  it('no data', () => {
    const e = errOf(':00000001FF\n');
    expect(e).toBeInstanceOf(ImageError);
  });
  it('gaps are filled when asked, within a size bound', () => {
    const text = segmentsToIhex([
      { address: 0x1000, data: new Uint8Array([1, 2]) },
      { address: 0x1005, data: new Uint8Array([3]) },
    ]);
    expect(() => ihexToBinary(text)).toThrow(/non-contiguous data: record at 0x1005, expected 0x1002/);
    expect([...ihexToBinary(text, { fill: 0xff, maxSize: 6 }).data]).toEqual([1, 2, 0xff, 0xff, 0xff, 3]);
    expect(() => ihexToBinary(text, { fill: 0xff, maxSize: 5 })).toThrow(/non-contiguous/);
    const backwards = segmentsToIhex([
      { address: 0x1005, data: new Uint8Array([3]) },
      { address: 0x1000, data: new Uint8Array([1]) },
    ]);
    expect(() => ihexToBinary(backwards, { fill: 0, maxSize: 100 })).toThrow(/non-contiguous/);
  });
});
