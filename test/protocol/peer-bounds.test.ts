/** Sizes and offsets a device declares are bounded: a hostile answer never makes the client allocate, or succeed, on its word. */
import { describe, expect, it } from 'vitest';
import { SmpClient } from '../../src/client/client.js';
import { fileDownload, fileUpload } from '../../src/client/files.js';
import { decodeCbor, encodeCbor } from '../../src/protocol/cbor.js';
import { SmpCborError, SmpError } from '../../src/protocol/errors.js';
import { decodePacket, encodePacket } from '../../src/protocol/header.js';
import { ScriptedTransport } from '../helpers/loopback.js';

/** A device that answers every request with `answer(request body)`, encoded as given (raw bytes pass through). */
function device(answer: (req: Record<string, unknown>) => Uint8Array | Record<string, unknown>): SmpClient {
  const t = new ScriptedTransport((packet, self) => {
    const { header, payload } = decodePacket(packet);
    const req = payload.length ? (decodeCbor(payload) as Record<string, unknown>) : {};
    const body = answer(req);
    const bytes = body instanceof Uint8Array ? body : encodeCbor(body);
    self.deliver(encodePacket({ ...header, op: header.op + 1 }, bytes));
  });
  return new SmpClient(t, { timeoutMs: 2000 });
}

const used = () => process.memoryUsage().arrayBuffers;

describe('bounds on what a device declares', () => {
  it('a download of a declared 2^31-byte file allocates only what arrives', async () => {
    const before = used();
    let reads = 0;
    const client = device((req) => {
      reads++;
      // Answers the first read with the huge length, then stops making progress (empty data).
      return req.off === 0 ? { off: 0, data: new Uint8Array(100), len: 2 ** 31 } : { off: req.off, data: new Uint8Array(0) };
    });
    await expect(fileDownload(client, '/lfs/big', { window: 1, timeoutMs: 500 })).rejects.toThrow(/sent no data at offset 100/);
    expect(reads).toBeGreaterThan(1);
    expect(used() - before).toBeLessThan(64 * 1024 * 1024);
  });

  it('a declared length of 2^32 or more is refused with a clear error, not a RangeError', async () => {
    const client = device(() => ({ off: 0, data: new Uint8Array(10), len: 2 ** 32 }));
    const err = await fileDownload(client, '/lfs/f', { window: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SmpError);
    expect((err as Error).message).toMatch(/declares a file of 4294967296 bytes/);
  });

  it('an upload acknowledged past its end is an error, never success', async () => {
    const client = device((req) => (req.off === 0 && 'len' in req ? { off: 10_000 } : { off: req.off }));
    await expect(fileUpload(client, '/lfs/f', new Uint8Array(300), { chunkSize: 100, window: 1 })).rejects.toThrow(
      /acknowledged offset 10000, past the end of the 300 bytes sent/,
    );
  });

  it('an integer beyond 2^53 is refused clearly (as the answer to that request, without waiting for a timeout)', async () => {
    // {"off": 0, "data": h'', "len": 2^64-1}
    const body = Uint8Array.from([
      0xa3, 0x63, 0x6f, 0x66, 0x66, 0x00, 0x64, 0x64, 0x61, 0x74, 0x61, 0x40, 0x63, 0x6c, 0x65, 0x6e, 0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    ]);
    const client = device(() => body);
    const err = await fileDownload(client, '/lfs/f', { window: 1, timeoutMs: 60_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SmpCborError);
    expect((err as Error).message).toMatch(/integer 18446744073709551615 is beyond ±2\^53/);
    expect(() => decodeCbor(Uint8Array.from([0x3b, 0, 0x20, 0, 0, 0, 0, 0, 0]))).toThrow(/beyond ±2\^53/);
    expect(decodeCbor(Uint8Array.from([0x1b, 0, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))).toBe(2 ** 53 - 1);
  });
});
