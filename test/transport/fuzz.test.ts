import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { encodeSerialFrames, RawPacketDecoder, SerialFrameDecoder } from '../../src/transport/serial-framing.js';
import { hex, loadExchanges } from './vectors.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 100000);
const BUDGET_MS = 7000; // per decoder; keeps the whole file well under ~20 s

const seeds = loadExchanges()
  .flatMap(({ ex }) => [ex.serial_sent_hex, ...(ex.serial_received_lines ?? []).map((l) => l.hex)])
  .filter((h): h is string => !!h)
  .map(hex);
seeds.push(encodeSerialFrames(new Uint8Array(400).map((_, i) => i)));

/** Random bytes, or a recorded stream with byte mutations / cuts / splices. */
const stream = fc.oneof(
  fc.uint8Array({ maxLength: 512 }),
  fc
    .record({
      seed: fc.constantFrom(...seeds),
      muts: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 3 })), { maxLength: 6 }),
    })
    .map(({ seed, muts }) => {
      let b = Array.from(seed);
      for (const [pos, val, kind] of muts) {
        const p = b.length ? pos % b.length : 0;
        if (kind === 0) b[p] = val;
        else if (kind === 1) b.splice(p, 1);
        else if (kind === 2) b.splice(p, 0, val);
        else b = b.slice(0, p);
      }
      return Uint8Array.from(b);
    }),
);

function fuzz(make: () => { push(b: Uint8Array): Uint8Array[]; readonly bufferedBytes: number }, bound: number) {
  let runs = 0;
  fc.assert(
    fc.property(fc.array(stream, { minLength: 1, maxLength: 4 }), (chunks) => {
      runs++;
      const dec = make();
      for (const c of chunks) {
        dec.push(c); // a throw fails the property
        if (dec.bufferedBytes > bound) throw new Error(`buffer ${dec.bufferedBytes} exceeds bound ${bound}`);
      }
    }),
    // Time budget so the default 100000 runs cannot blow the test time on slow machines.
    { seed: 0x5eed, numRuns: RUNS, interruptAfterTimeLimit: BUDGET_MS, markInterruptAsFailure: false },
  );
  if (process.env.FUZZ_VERBOSE) console.log(`fuzz: ${runs} of ${RUNS} runs executed within budget`);
  expect(runs).toBeGreaterThan(Math.min(RUNS, 1000));
}

describe('seeded fuzz (FUZZ_RUNS, default 100000)', () => {
  it('SerialFrameDecoder never throws, buffers stay bounded', () => {
    const errors: unknown[] = [];
    fuzz(() => new SerialFrameDecoder({ maxPacket: 1024, maxLineLength: 256, onError: (e) => errors.push(e) }), 256 + 1024 + 8);
  });
  it('RawPacketDecoder never throws, buffers stay bounded', () => {
    fuzz(() => new RawPacketDecoder({ maxPacket: 300, onError: () => undefined }), 300);
  });
  it('one long-lived decoder fed a long random stream stays bounded', () => {
    const dec = new SerialFrameDecoder({ maxPacket: 512, maxLineLength: 1024, onError: () => undefined });
    const raw = new RawPacketDecoder({ maxPacket: 512 });
    fc.assert(
      fc.property(stream, (c) => {
        dec.push(c);
        raw.push(c);
        expect(dec.bufferedBytes).toBeLessThanOrEqual(1024 + 512 + 8);
        expect(raw.bufferedBytes).toBeLessThanOrEqual(512);
      }),
      { seed: 42, numRuns: 5000 },
    );
  });
});
