import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCbor, decodeCborMap, encodeCbor, encodeCborIndefinite } from '../../src/protocol/cbor.js';
import { SmpCborError, SmpError, SmpFrameError } from '../../src/protocol/errors.js';
import { decodeHeader, decodePacket, encodeHeader, encodePacket, Op, responseOp, SMP_HEADER_SIZE } from '../../src/protocol/header.js';

const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 100_000);

describe('frames', () => {
  it('round-trips any header', () => {
    fc.assert(
      fc.property(
        fc.record({
          op: fc.integer({ min: 0, max: 7 }),
          version: fc.integer({ min: 0, max: 3 }),
          flags: fc.integer({ min: 0, max: 255 }),
          length: fc.integer({ min: 0, max: 65535 }),
          group: fc.integer({ min: 0, max: 65535 }),
          seq: fc.integer({ min: 0, max: 255 }),
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
  it.each([
    ['op', 8, 7],
    ['version', 4, 3],
    ['flags', 256, 255],
    ['length', 65536, 65535],
    ['group', 65536, 65535],
    ['seq', 256, 255],
    ['id', 256, 255],
  ] as const)('refuses header field %s out of range (%i), naming it', (field, bad, max) => {
    const h = { op: 2, version: 1, flags: 0, length: 0, group: 0, seq: 0, id: 0 };
    expect(decodeHeader(encodeHeader({ ...h, [field]: max }))[field]).toBe(max);
    expect(() => encodeHeader({ ...h, [field]: bad })).toThrow(`SMP header field ${field}=${bad} is out of range 0..${max}`);
    expect(() => encodeHeader({ ...h, [field]: -1 })).toThrow(SmpFrameError);
    expect(() => encodeHeader({ ...h, [field]: 0.5 })).toThrow(SmpFrameError);
  });

  it('reads a header at an offset, and counts the bytes left after it', () => {
    const header = encodeHeader({ op: 3, version: 1, flags: 2, length: 0x1234, group: 0x0102, seq: 9, id: 4 });
    const bytes = new Uint8Array(4 + SMP_HEADER_SIZE);
    bytes.set(header, 4);
    expect(decodeHeader(bytes, 4)).toEqual({ op: 3, version: 1, flags: 2, length: 0x1234, group: 0x0102, seq: 9, id: 4 });
    expect(() => decodeHeader(bytes, 5)).toThrow('SMP packet too short: 7 bytes, a header needs 8');
  });

  it('answers a read with a read response and a write with a write response', () => {
    expect([responseOp(Op.Read), responseOp(Op.Write)]).toEqual([1, 3]);
  });
});

describe('CBOR', () => {
  const value = fc.letrec((tie) => ({
    v: fc.oneof(
      { depthSize: 'small' },
      fc.integer(),
      fc.string(),
      fc.boolean(),
      fc.constant(null),
      fc.uint8Array({ maxLength: 64 }),
      fc.array(tie('v'), { maxLength: 5 }),
      fc.dictionary(fc.string({ maxLength: 8 }), tie('v'), { maxKeys: 5 }),
    ),
  })).v;

  it('round-trips any value', () => {
    fc.assert(
      fc.property(value, (v) => {
        expect(decodeCbor(encodeCbor(v))).toEqual(v);
      }),
      { numRuns: 2000 },
    );
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

  /** `depth` arrays, one inside the other, the innermost empty. */
  const nested = (depth: number): Uint8Array => Uint8Array.from([...new Array(depth - 1).fill(0x81), 0x80]);

  it('accepts nesting up to the limit and refuses one level more', () => {
    expect(() => decodeCbor(nested(32))).not.toThrow();
    expect(() => decodeCbor(nested(33))).toThrow('CBOR nesting deeper than 32');
    expect(decodeCbor(nested(33), { maxDepth: 33 })).toBeInstanceOf(Array);
    expect(() => decodeCbor(nested(4), { maxDepth: 3 })).toThrow('CBOR nesting deeper than 3');
    expect(() => decodeCbor(nested(3), { maxDepth: 3 })).not.toThrow();
    // Maps, indefinite containers and tags count as levels too.
    const maps = Uint8Array.from([...new Array(32).fill([0xa1, 0x61, 0x6b]).flat(), 0xa0]);
    expect(() => decodeCbor(maps)).toThrow('CBOR nesting deeper than 32');
    const indefinite = Uint8Array.from([...new Array(33).fill(0x9f), ...new Array(33).fill(0xff)]);
    expect(() => decodeCbor(indefinite)).toThrow('CBOR nesting deeper than 32');
    const tags = Uint8Array.from([...new Array(33).fill(0xc1), 0x00]);
    expect(() => decodeCbor(tags)).toThrow('CBOR nesting deeper than 32');
  });

  it('refuses a container declaring more items than bytes follow, before building it', () => {
    expect(decodeCbor(Uint8Array.from([0x83, 0x01, 0x02, 0x03]))).toEqual([1, 2, 3]);
    expect(() => decodeCbor(Uint8Array.from([0x84, 0x01, 0x02, 0x03]))).toThrow('CBOR container declares 4 items but only 3 bytes follow');
    expect(() => decodeCbor(Uint8Array.from([0x82, 0x83, 0x01, 0x02]))).toThrow('CBOR container declares 3 items but only 2 bytes follow');
    expect(() => decodeCbor(Uint8Array.from([0xa2, 0x61, 0x61, 0x01]))).toThrow('CBOR container declares 4 items but only 3 bytes follow');
  });

  it('names what is wrong with the structure', () => {
    expect(() => decodeCbor(Uint8Array.from([0xff]))).toThrow('unexpected CBOR break');
    expect(() => decodeCbor(Uint8Array.from([0x81, 0xff]))).toThrow('unexpected CBOR break');
    expect(() => decodeCbor(Uint8Array.from([0x9f, 0x01, 0xff, 0xff]))).toThrow('unexpected CBOR break');
    expect(() => decodeCbor(Uint8Array.from([0x01, 0x02]))).toThrow('more than one CBOR item in the payload');
    expect(() => decodeCbor(Uint8Array.from([0x9f, 0x01, 0xff, 0x02]))).toThrow('more than one CBOR item in the payload');
    expect(() => decodeCbor(Uint8Array.from([0x9f, 0x9f, 0x01, 0xff]))).toThrow('CBOR payload ends inside a container');
    expect(() => decodeCbor(new Uint8Array(0))).toThrow('empty CBOR payload');
    expect(decodeCbor(Uint8Array.from([0x9f, 0x80, 0xa0, 0xff]))).toEqual([[], {}]);
  });

  it('refuses a payload over the size limit, from one byte over', () => {
    const bytes = (n: number) => encodeCbor(new Uint8Array(n - 5)); // 0x5a + 4 length bytes
    expect(decodeCbor(bytes(65_543))).toHaveLength(65_538);
    expect(() => decodeCbor(bytes(65_544))).toThrow('CBOR payload of 65544 bytes exceeds the limit of 65543');
    expect(decodeCbor(Uint8Array.from([0x43, 1, 2, 3]), { maxBytes: 4 })).toEqual(Uint8Array.from([1, 2, 3]));
    expect(() => decodeCbor(Uint8Array.from([0x43, 1, 2, 3]), { maxBytes: 3 })).toThrow('CBOR payload of 4 bytes exceeds the limit of 3');
  });

  it('refuses integers beyond 2^53, undefined and tags', () => {
    expect(decodeCbor(Uint8Array.from([0x1b, 0x00, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))).toBe(2 ** 53 - 1);
    expect(() => decodeCbor(Uint8Array.from([0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))).toThrow('CBOR integer 18446744073709551615 is beyond');
    expect(() => decodeCbor(Uint8Array.from([0x3b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))).toThrow(SmpCborError);
    expect(() => decodeCbor(Uint8Array.from([0xf7]))).toThrow(/^malformed CBOR: (?!CBOR decode error)/);
    expect(() => decodeCbor(Uint8Array.from([0xc1, 0x00]))).toThrow(/^malformed CBOR: /);
  });

  it('says why a value cannot be encoded', () => {
    expect(() => encodeCbor({ f: () => 1 })).toThrow(/^cannot encode value as CBOR: /);
    expect(() => encodeCbor({ f: () => 1 })).toThrow(SmpCborError);
  });

  it('encodes every map and array indefinite-length, as Zephyr does, skipping undefined fields', () => {
    const bytes = encodeCborIndefinite({ a: [1, { b: 2 }], c: Uint8Array.of(7), d: null, e: undefined, f: 'x' });
    // {  "a"  [ 1 {  "b" 2 } ]  "c" h'07'  "d" null  "f" "x" }
    expect(Buffer.from(bytes).toString('hex')).toBe(
      ['bf', '6161', '9f', '01', 'bf', '6162', '02', 'ff', 'ff', '6163', '4107', '6164', 'f6', '6166', '6178', 'ff'].join(''),
    );
    expect(Buffer.from(encodeCborIndefinite([])).toString('hex')).toBe('9fff');
    expect(Buffer.from(encodeCborIndefinite(5)).toString('hex')).toBe('05');
  });

  it.each([
    ['null', [0xf6]],
    ['a number', [0x05]],
    ['a text', [0x61, 0x78]],
    ['a byte string', [0x41, 0x01]],
    ['an array', [0x80]],
  ])('refuses %s where a map is required', (_name, bytes) => {
    expect(() => decodeCborMap(Uint8Array.from(bytes))).toThrow('SMP payload is not a CBOR map');
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
      fc
        .tuple(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), fc.nat())
        .map(([seed, flips, cut]) => {
          const b = seed.slice(0, seed.length - (cut % 3));
          for (const [at, v] of flips) if (b.length) b[at % b.length] = v;
          return b;
        }),
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
