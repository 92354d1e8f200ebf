/** CRC-32 (the fs hash command's `crc32`) and hex, checked against known values (computed with zlib). */
import { describe, expect, it } from 'vitest';
import { crc32 } from '../../src/protocol/crc32.js';
import { toHex } from '../../src/protocol/hex.js';

describe('crc32', () => {
  it('has the CRC-32/ISO-HDLC check value and is 0 for nothing', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  it('agrees with zlib for every byte value and for other data', () => {
    expect(crc32(Uint8Array.from({ length: 256 }, (_, i) => i))).toBe(0x29058c73);
    const data = Uint8Array.from(Buffer.from('19b25856e1c150ca834cffc8b59b23adbd0ec0389e58eb22b3b64768098d002b', 'hex'));
    expect(crc32(data)).toBe(0x920e5e70);
  });
});

describe('toHex', () => {
  it('writes two lower-case digits per byte', () => {
    expect(toHex(Uint8Array.from([0, 1, 0x0f, 0xab, 0xff]))).toBe('00010fabff');
    expect(toHex(new Uint8Array(0))).toBe('');
  });
});
