/**
 * Zephyr 3.4 appends a first file-upload chunk that arrives again while the file is open. When the answer to
 * the first chunk is lost, the client sends it again: the upload must still leave the right file on the device.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SmpClient } from '../../src/client/client.js';
import { fileUpload } from '../../src/client/files.js';
import type { VirtualDevice } from '../../src/device/device.js';
import { decodeCborMap } from '../../src/protocol/cbor.js';
import { decodeHeader, decodePacket } from '../../src/protocol/header.js';
import { createMemoryPair } from '../../src/transport/memory.js';
import type { SmpTransport } from '../../src/transport/transport.js';
import { makeDevice } from '../device/helpers.js';

/** A client end that loses the device's answers to the first `count` file-upload requests at offset 0. */
function losingFirstAnswers(inner: SmpTransport, count: number): SmpTransport {
  let lost = 0;
  const zeroOffsetSeqs = new Set<number>();
  return {
    mtu: inner.mtu,
    framingOverhead: inner.framingOverhead,
    send: (p) => {
      const { header: h, payload } = decodePacket(p);
      if (h.group === 8 && h.id === 0 && decodeCborMap(payload).off === 0) zeroOffsetSeqs.add(h.seq);
      return inner.send(p);
    },
    onPacket: (l) =>
      inner.onPacket((p) => {
        const h = decodeHeader(p);
        if (h.group === 8 && h.id === 0 && zeroOffsetSeqs.has(h.seq) && lost < count) {
          lost++;
          return;
        }
        l(p);
      }),
    onClose: (l) => inner.onClose(l),
    close: () => inner.close(),
  };
}

let dev: VirtualDevice | undefined;
afterEach(async () => {
  await dev?.close();
  dev = undefined;
});

describe('file upload after a lost answer to the first chunk', () => {
  it("checks the device's hash and writes the file again, leaving exactly the bytes sent", async () => {
    dev = makeDevice();
    const [clientEnd, deviceEnd] = createMemoryPair(2048);
    dev.server.attach(deviceEnd);
    const client = new SmpClient(losingFirstAnswers(clientEnd, 1), { timeoutMs: 2000 });
    const data = new Uint8Array(6000).map((_, i) => (i * 7 + 3) & 0xff);
    await fileUpload(client, '/lfs/verified.bin', data, { timeoutMs: 100, window: 1 });
    expect(new Uint8Array(readFileSync(join(dev.fsRoot, 'lfs/verified.bin')))).toEqual(data);
    await client.close();
  });
});
