/**
 * A UDP device that is away for a moment (its port closed: ICMP port unreachable, ECONNREFUSED on Linux) does not
 * close the client's transport or fail its requests, and a request it did not answer is answered as soon as it is
 * back, not after its timeout: with a 2-minute timeout, it is answered within the test's 60 s.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SmpClient } from '../../src/client/client.js';
import { fileDownload, fileUpload } from '../../src/client/files.js';
import { imageUpload } from '../../src/client/upload.js';
import { buildImage } from '../../src/device/firmware.js';
import { UdpSmpServer } from '../../src/device/udp-server.js';
import { image, os } from '../../src/groups/index.js';
import { UdpTransport } from '../../src/node/udp.js';
import { makeDevice } from '../device/helpers.js';

const NEVER_IN_THIS_TEST = 120_000;
const REFUSALS_AWAY = 12;
/** Unanswered window rounds allowed: the window's own retransmissions back off, and must outlast the gap. */
const WINDOW_ROUNDS = 50;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/**
 * A device behind a UDP port, and a client to it; `awayAfter(n)`: the device goes away (its port closes) once it
 * has answered n more packets, and comes back on the same port once the client has seen REFUSALS_AWAY refusals:
 * more than the requests in flight, so it is back only after the client has sent again what it had sent.
 */
async function awayDevice(dev = makeDevice()) {
  let server = await UdpSmpServer.listen(dev.server, { host: '127.0.0.1', port: 0 });
  const port = server.port;
  let answersLeft = -1;
  let closing: Promise<void> | undefined;
  let refusals = 0;
  let reopened: Promise<void> | undefined;
  const transport = await UdpTransport.connect(`127.0.0.1:${port}`, {
    onUnreachable: () => {
      if (++refusals < REFUSALS_AWAY) return;
      reopened ??= closing!.then(async () => {
        server = await UdpSmpServer.listen(dev.server, { host: '127.0.0.1', port });
      });
    },
  });
  const client = new SmpClient(transport, {
    timeoutMs: NEVER_IN_THIS_TEST,
    onTrace: (dir) => {
      if (dir === 'rx' && --answersLeft === 0) closing = server.close();
    },
  });
  cleanups.push(async () => {
    await client.close();
    await reopened;
    await server.close();
  });
  return {
    dev,
    client,
    awayAfter: (n: number) => void (answersLeft = n),
    wasAway: () => refusals > 0 && reopened !== undefined,
  };
}

describe('UDP: a device away for a moment (port unreachable)', () => {
  it('a request sent while the device is away is answered once it is back, long before its timeout', async () => {
    const { client, awayAfter, wasAway } = await awayDevice();
    awayAfter(1);
    await client.call(os.echo, { d: 'before' });
    expect(await client.call(os.echo, { d: 'while away' }, { timeoutMs: NEVER_IN_THIS_TEST, tries: 1 })).toEqual({ r: 'while away' });
    expect(wasAway()).toBe(true);
    expect(client.closeReason).toBeUndefined();
  }, 60_000);

  it('an image upload goes on once the device is back, on the same transport', async () => {
    const { client, awayAfter, wasAway } = await awayDevice();
    awayAfter(8);
    const img = buildImage({ version: '2.0.0', body: new Uint8Array(60_000).map((_, i) => (i * 7) & 0xff) });
    const result = await imageUpload(client, img, { window: 4, retries: WINDOW_ROUNDS });
    expect(wasAway()).toBe(true);
    expect(client.closeReason).toBeUndefined();
    expect(result.bytes).toBe(img.length);
    const list = await client.call(image.state, {});
    expect(list.images.find((i) => i.slot === 1)?.version).toBe('2.0.0');
  }, 60_000);

  it('an fs upload and its download go on once the device is back', async () => {
    const data = new Uint8Array(40_000).map((_, i) => (i * 13) & 0xff);
    const d = await awayDevice();
    d.awayAfter(6);
    await fileUpload(d.client, '/lfs/away.bin', data, { window: 4, retries: WINDOW_ROUNDS });
    expect(d.wasAway()).toBe(true);
    const again = await awayDevice(d.dev);
    again.awayAfter(6);
    expect(await fileDownload(again.client, '/lfs/away.bin', { window: 4, retries: WINDOW_ROUNDS })).toEqual(data);
    expect(again.wasAway()).toBe(true);
  }, 60_000);
});
