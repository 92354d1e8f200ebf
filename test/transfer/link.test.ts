/** Link emulation: ordered delivery on one timeline, device buffers, the flash model, BLE connection events; transfers through the BLE transport. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SmpClient } from '../../src/client/client.js';
import { fileDownload, fileUpload } from '../../src/client/files.js';
import { imageUpload } from '../../src/client/upload.js';
import { buildImage } from '../../src/device/firmware.js';
import { VirtualDevice } from '../../src/device/device.js';
import { encodePacket } from '../../src/protocol/header.js';
import { encodeCbor } from '../../src/protocol/cbor.js';
import { BleTransport } from '../../src/transport/ble.js';
import { BleAir, TimedGattLink, type BleLinkProfile } from '../../src/device/link/ble-link.js';
import { SimulatedGattPeer } from '../../src/device/ble-sim.js';
import { EmulatedLink, seededRandom, TimedQueue, type LinkProfile } from '../../src/device/link/link.js';
import { DeviceEndpoint, FlashTimer, type FlashModel } from '../../src/device/link/device-endpoint.js';
import { createMemoryPair } from '../../src/transport/memory.js';
import type { SmpTransport } from '../../src/transport/transport.js';

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const o of open.splice(0)) await o.close();
});

describe('TimedQueue', () => {
  it('runs callbacks in time order, ties in insertion order, even within one millisecond', async () => {
    const q = new TimedQueue();
    const seen: number[] = [];
    const now = performance.now();
    q.at(now + 2.6, () => seen.push(1));
    // 1.9 + 0.8 is a hair under 2.7; added to `now` first, it could round to a hair over now + 2.7.
    q.at(now + (1.9 + 0.8), () => seen.push(2));
    q.at(now + 2.7, () => seen.push(3));
    q.at(now + 0.5, () => seen.push(0));
    await new Promise((r) => setTimeout(r, 10));
    expect(seen).toEqual([0, 1, 2, 3]);
  });

  it('queues share one timeline: events of two queues due in the same late wake-up run in time order', async () => {
    const a = new TimedQueue();
    const b = new TimedQueue();
    const seen: string[] = [];
    const now = performance.now();
    a.at(now + 1, () => seen.push('a1'));
    a.at(now + 3, () => seen.push('a3'));
    b.at(now + 2, () => seen.push('b2'));
    b.at(now + 4, () => seen.push('b4'));
    a.clear();
    a.at(now + 1.5, () => seen.push('a1.5'));
    while (performance.now() < now + 6); // keep the loop busy: everything falls due in one wake-up
    await new Promise((r) => setTimeout(r, 5));
    expect(seen).toEqual(['a1.5', 'b2', 'b4']);
  });
});

describe('DeviceEndpoint', () => {
  it('frees a buffer when the handling ends, even for a request that gets no answer', async () => {
    const [clientEnd, deviceEnd] = createMemoryPair();
    const flash: FlashModel = { writeBytesPerSecond: 1_000_000, sectorSize: 4096, sectorEraseMs: 0, erase: 'progressive' };
    const endpoint = new DeviceEndpoint(deviceEnd, { bufferCount: 1, bufferSize: 2048, requestMs: 1, flash });
    open.push(endpoint);
    const handled: number[] = [];
    endpoint.onPacket((p) => handled.push(p.length)); // never answers
    for (const n of [10, 20]) {
      await clientEnd.send(new Uint8Array(n));
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(handled).toEqual([10, 20]);
    expect(endpoint.dropped.busy).toBe(0);
  });

  it('holds a buffer for the modelled handling time, not until the emulation gets round to it', async () => {
    const flash: FlashModel = { writeBytesPerSecond: 1_000_000, sectorSize: 4096, sectorEraseMs: 0, erase: 'progressive' };
    const arriveAtOnce = async (requestMs: number): Promise<{ handled: number; dropped: number }> => {
      const [clientEnd, deviceEnd] = createMemoryPair();
      const endpoint = new DeviceEndpoint(deviceEnd, { bufferCount: 2, bufferSize: 2048, requestMs, flash });
      open.push(endpoint);
      let handled = 0;
      endpoint.onPacket(() => handled++);
      // Eight packets in one turn of the event loop, as a late timer delivers them.
      await Promise.all(Array.from({ length: 8 }, () => clientEnd.send(new Uint8Array(10))));
      await new Promise((r) => setTimeout(r, 100));
      return { handled, dropped: endpoint.dropped.busy };
    };
    // Handled in no time: each buffer is free again before the next packet arrives.
    expect(await arriveAtOnce(0)).toEqual({ handled: 8, dropped: 0 });
    // 5 ms each: two wait, the rest find every buffer busy.
    expect(await arriveAtOnce(5)).toEqual({ handled: 2, dropped: 6 });
  });
});

describe('EmulatedLink', () => {
  const profile = (extra: Partial<LinkProfile>): LinkProfile => ({
    name: 'test',
    description: 'test',
    bytesPerSecond: 10_000_000,
    wireBytes: (n) => n,
    mtu: 2048,
    latencyMs: 2,
    ...extra,
  });
  const order = async (p: LinkProfile): Promise<number[]> => {
    const [a, b] = createMemoryPair();
    const link = new EmulatedLink(a, p, seededRandom(3));
    open.push(link);
    const seen: number[] = [];
    b.onPacket((packet) => seen.push(packet[0]!));
    for (let i = 0; i < 100; i++) await link.send(Uint8Array.of(i));
    await new Promise((r) => setTimeout(r, 100));
    return seen;
  };

  it('jitter varies the delay but keeps the order; overtaking is the reorder setting', async () => {
    const sent = Array.from({ length: 100 }, (_, i) => i);
    expect(await order(profile({ jitterMs: 5 }))).toEqual(sent);
    const reordered = await order(profile({ jitterMs: 5, reorder: 0.2 }));
    expect([...reordered].sort((x, y) => x - y)).toEqual(sent);
    expect(reordered).not.toEqual(sent);
  });
});

const upload = (off: number, data: number, len?: number): Uint8Array =>
  encodePacket({ op: 2, version: 1, flags: 0, group: 1, seq: 0, id: 1 }, encodeCbor({ image: 0, off, data: new Uint8Array(data), ...(len ? { len } : {}) }));

describe('FlashTimer', () => {
  const base: FlashModel = { writeBytesPerSecond: 100_000, sectorSize: 4096, sectorEraseMs: 50, erase: 'progressive' };

  it('progressive: erases each sector when the upload first writes into it', () => {
    const f = new FlashTimer(base);
    expect(f.cost(upload(0, 1000, 20_000))).toBeCloseTo(50 + 10); // first sector + 1000 bytes
    expect(f.cost(upload(1000, 3000))).toBeCloseTo(30);
    expect(f.cost(upload(4000, 1000))).toBeCloseTo(50 + 10); // crosses into sector 2
  });

  it('at-start: the first chunk erases the whole image area', () => {
    const f = new FlashTimer({ ...base, erase: 'at-start' });
    expect(f.cost(upload(0, 1000, 20_000))).toBeCloseTo(5 * 50 + 10);
    expect(f.cost(upload(1000, 4000))).toBeCloseTo(40);
  });

  it('an image chunk at an offset the device does not expect is refused: no flash time', () => {
    const f = new FlashTimer(base);
    f.cost(upload(0, 1000, 20_000));
    expect(f.cost(upload(3000, 1000))).toBe(0);
    expect(f.cost(upload(1000, 1000))).toBeCloseTo(10);
  });

  it('other requests take no flash time', () => {
    const echo = encodePacket({ op: 2, version: 1, flags: 0, group: 0, seq: 0, id: 0 }, encodeCbor({ d: 'hi' }));
    expect(new FlashTimer(base).cost(echo)).toBe(0);
  });
});

const FAST_BLE: BleLinkProfile = { name: 'test', description: 'test', phyMbps: 2, connIntervalMs: 2, attMtu: 247, dataLength: 251 };

describe('BleAir', () => {
  it('puts PDUs into connection events at the interval, sending again what fails its CRC', () => {
    const air = new BleAir({ ...FAST_BLE, connIntervalMs: 10 });
    const first = air.schedule(3, 244);
    expect(first).toBeGreaterThan(10); // the next anchor point
    expect(first).toBeLessThan(12);
    expect(air.schedule(3, 244)).toBeGreaterThan(first); // same event, after the first
    const lossy = new BleAir({ ...FAST_BLE, retransmit: 0.5 }, 3);
    for (let i = 0; i < 50; i++) lossy.schedule(0, 244);
    expect(lossy.stats.retransmitted).toBeGreaterThan(10);
  });
});

describe('transfers through the BLE transport and the simulated GATT peer', () => {
  it('chunks fill the device buffer, writes never exceed ATT_MTU − 3, data arrives byte for byte', async () => {
    const bufSize = 2475;
    const device = VirtualDevice.createSync({ stateDir: mkdtempSync(join(tmpdir(), 'mcumgr-ble-')), config: { bufSize, bufCount: 4, slotSize: 0x40000 } });
    const notifications: number[] = [];
    const peer = new SimulatedGattPeer({ attMtu: 247, reassembly: true, bufSize, onNotification: (d) => notifications.push(d.length) });
    const flash: FlashModel = { writeBytesPerSecond: 50_000_000, sectorSize: 4096, sectorEraseMs: 0, erase: 'progressive' };
    const endpoint = new DeviceEndpoint(peer.deviceTransport(), { bufferCount: 4, bufferSize: bufSize, flash });
    const requests: number[] = [];
    const tap: SmpTransport = {
      mtu: endpoint.mtu,
      framingOverhead: 0,
      send: (p) => endpoint.send(p),
      onPacket: (l) => endpoint.onPacket((p) => (requests.push(p.length), l(p))),
      onClose: (l) => endpoint.onClose(l),
      close: () => endpoint.close(),
    };
    device.server.attach(tap);
    const transport = await BleTransport.open(new TimedGattLink(peer, new BleAir({ ...FAST_BLE, retransmit: 0.05 }, 5)), { reassembly: true });
    const client = new SmpClient(transport, { timeoutMs: 2000 });
    open.push({
      close: async () => {
        await client.close();
        await device.close();
      },
    });

    const img = buildImage({ version: '1.4.0', body: new Uint8Array(30_000).map((_, i) => (i * 5) & 0xff) });
    const result = await imageUpload(client, img);
    expect(result.match).toBe(true);
    expect(result.chunkSize).toBeGreaterThan(2400);
    const data = new Uint8Array(12_000).map((_, i) => (i * 3) & 0xff);
    await fileUpload(client, '/lfs/ble.bin', data);
    expect(await fileDownload(client, '/lfs/ble.bin')).toEqual(data);

    expect(peer.counters.rejectedWrites).toBe(0);
    expect(Math.max(...requests)).toBeLessThanOrEqual(bufSize);
    expect(Math.max(...requests)).toBeGreaterThan(bufSize * 0.95);
    expect(Math.max(...notifications)).toBeLessThanOrEqual(244);
    expect(endpoint.dropped).toEqual({ tooLarge: 0, busy: 0 });
  });
});
