import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCbor, decodeCborMap, encodeCbor } from '../../src/protocol/cbor.js';
import { SmpCborError, SmpError, SmpFrameError } from '../../src/protocol/errors.js';
import { decodeHeader, decodePacket, encodeHeader, encodePacket } from '../../src/protocol/header.js';

const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 100_000);

describe('frames', () => {
  it('round-trips any header', () => {
    fc.assert(
      fc.property(
        fc.record({
          op: fc.integer({ min: 0, max: 7 }), version: fc.integer({ min: 0, max: 3 }), flags: fc.integer({ min: 0, max: 255 }),
          length: fc.integer({ min: 0, max: 65535 }), group: fc.integer({ min: 0, max: 65535 }), seq: fc.integer({ min: 0, max: 255 }),
          id: fc.integer({ min: 0, max: 255 }),
        }),
        (h) => {
          expect(decodeHeader(encodeHeader(h))).toEqual(h);
        },
      ),
    );
  });

  it('round-trips packets up to 64 KiB', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 65535 }), fc.integer({ min: 0, max: 255 }), (payload, seq) => {
        const p = decodePacket(encodePacket({ op: 2, version: 1, flags: 0, group: 8, seq, id: 0 }, payload));
        expect(p.header.seq).toBe(seq);
        expect(p.payload).toEqual(payload);
      }),
      { numRuns: 50 },
    );
  });

  it('refuses a truncated header and a length that disagrees with the data', () => {
    expect(() => decodeHeader(new Uint8Array(7))).toThrow(SmpFrameError);
    const good = encodePacket({ op: 2, version: 1, flags: 0, group: 0, seq: 1, id: 0 }, encodeCbor({ d: 'hi' }));
    expect(() => decodePacket(good.subarray(0, good.length - 1))).toThrow(/says 6 payload bytes but 5/);
    const long = new Uint8Array(good.length + 1);
    long.set(good);
    expect(() => decodePacket(long)).toThrow(SmpFrameError);
  });
});

describe('CBOR', () => {
  const value = fc.letrec((tie) => ({
    v: fc.oneof(
      { depthSize: 'small' },
      fc.integer(), fc.string(), fc.boolean(), fc.constant(null), fc.uint8Array({ maxLength: 64 }),
      fc.array(tie('v'), { maxLength: 5 }),
      fc.dictionary(fc.string({ maxLength: 8 }), tie('v'), { maxKeys: 5 }),
    ),
  })).v;

  it('round-trips any value', () => {
    fc.assert(fc.property(value, (v) => {
      expect(decodeCbor(encodeCbor(v))).toEqual(v);
    }), { numRuns: 2000 });
  });

  it('round-trips a 64 KiB byte string', () => {
    const data = new Uint8Array(65_000).map((_, i) => i);
    expect(decodeCborMap(encodeCbor({ data })).data).toEqual(data);
  });

  it('accepts indefinite-length maps (Zephyr) and definite ones', () => {
    expect(decodeCbor(Uint8Array.from([0xbf, 0x61, 0x72, 0x61, 0x78, 0xff]))).toEqual({ r: 'x' });
    expect(decodeCbor(Uint8Array.from([0xa1, 0x61, 0x72, 0x61, 0x78]))).toEqual({ r: 'x' });
  });

  it.each([
    ['deep nesting', new Uint8Array(100_000).fill(0x81)],
    ['deep indefinite nesting', new Uint8Array(100_000).fill(0x9f)],
    ['huge declared array', Uint8Array.from([0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00])],
    ['huge declared map', Uint8Array.from([0xba, 0xff, 0xff, 0xff, 0xff])],
    ['huge declared byte string', Uint8Array.from([0x5a, 0xff, 0xff, 0xff, 0xff, 0x00])],
    ['huge declared text string', Uint8Array.from([0x7b, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00])],
    ['truncated map', Uint8Array.from([0xa2, 0x61, 0x64])],
    ['unterminated indefinite map', Uint8Array.from([0xbf, 0x61, 0x64, 0x01])],
    ['stray break', Uint8Array.from([0xff])],
    ['two items', Uint8Array.from([0xa0, 0xa0])],
    ['duplicate key', Uint8Array.from([0xa2, 0x61, 0x64, 0x01, 0x61, 0x64, 0x02])],
    ['empty', new Uint8Array(0)],
  ])('refuses %s with a typed error', (_name, bytes) => {
    expect(() => decodeCbor(bytes)).toThrow(SmpCborError);
  });

  it('tolerates duplicate keys when asked (taskstat may repeat thread names)', () => {
    expect(decodeCbor(Uint8Array.from([0xa2, 0x61, 0x64, 0x01, 0x61, 0x64, 0x02]), { rejectDuplicateKeys: false })).toEqual({ d: 2 });
  });

  it('refuses a payload that is not a map', () => {
    expect(() => decodeCborMap(encodeCbor([1, 2]))).toThrow(/not a CBOR map/);
  });
});

describe('seeded fuzz', () => {
  it(`decoders only ever throw SmpError (${FUZZ_RUNS} cases)`, () => {
    const seeds = [
      encodeCbor({ d: 'hello', off: 1024, data: new Uint8Array(40), images: [{ slot: 0, hash: new Uint8Array(32) }] }),
      Uint8Array.from([0xbf, 0x63, 0x65, 0x72, 0x72, 0xbf, 0x65, 0x67, 0x72, 0x6f, 0x75, 0x70, 0x01, 0x62, 0x72, 0x63, 0x0a, 0xff, 0xff]),
    ];
    const input = fc.oneof(
      fc.uint8Array({ maxLength: 64 }),
      fc.tuple(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), fc.nat()).map(
        ([seed, flips, cut]) => {
          const b = seed.slice(0, seed.length - (cut % 3));
          for (const [at, v] of flips) if (b.length) b[at % b.length] = v;
          return b;
        },
      ),
    );
    fc.assert(
      fc.property(input, (bytes) => {
        for (const decode of [() => decodeCbor(bytes), () => decodePacket(bytes), () => decodeHeader(bytes)]) {
          try {
            decode();
          } catch (err) {
            if (!(err instanceof SmpError)) throw err;
          }
        }
      }),
      { numRuns: FUZZ_RUNS, seed: 20261124 },
    );
  });
});
