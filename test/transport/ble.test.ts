import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { SmpClient } from '../../src/client/client.js';
import { imageUpload } from '../../src/client/upload.js';
import { VirtualDevice } from '../../src/device/device.js';
import { buildImage } from '../../src/device/firmware.js';
import { image, os } from '../../src/groups/index.js';
import { encodePacket } from '../../src/protocol/header.js';
import { BleTransport } from '../../src/transport/ble.js';
import { MAX_SMP_PACKET, NotificationReassembler, SMP_CHARACTERISTIC_UUID, SMP_SERVICE_UUID } from '../../src/transport/ble-gatt.js';
import { AttError, SimulatedGattPeer, type SimulatedGattPeerOptions } from '../../src/device/ble-sim.js';
import { TransportError } from '../../src/transport/transport.js';
import { tempDir } from '../device/helpers.js';

const pkt = (len: number, seq = 0, op = 3): Uint8Array =>
  encodePacket(
    { op, version: 1, flags: 0, group: 1, seq, id: 1 },
    new Uint8Array(len).map((_, i) => (i * 13 + seq) & 0xff),
  );
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

const packetArb = fc
  .tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 600 }))
  .map(([op, seq, payload]) => encodePacket({ op, version: seq & 1, flags: 0, group: seq * 3, seq, id: seq >> 2 }, payload));

describe('UUIDs', () => {
  it('match the Zephyr SMP service', () => {
    expect(SMP_SERVICE_UUID).toBe('8d53dc1d-1db7-4cd3-868b-8a527460aa84');
    expect(SMP_CHARACTERISTIC_UUID).toBe('da2e7828-fbce-4e01-ae9e-261174997c48');
  });
});

describe('NotificationReassembler', () => {
  it('a packet split at every possible position (one and two cuts)', () => {
    const p = pkt(40, 7);
    for (let i = 0; i <= p.length; i++) {
      for (let j = i; j <= p.length; j++) {
        const r = new NotificationReassembler();
        const got = [p.subarray(0, i), p.subarray(i, j), p.subarray(j)].flatMap((c) => r.push(c));
        expect(got.map(hex)).toEqual([hex(p)]);
        expect(r.pending).toBe(0);
      }
    }
  });

  it('back-to-back packets cut anywhere (property)', () => {
    fc.assert(
      fc.property(
        fc.array(packetArb, { minLength: 1, maxLength: 6 }),
        fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 40 }),
        (packets, sizes) => {
          const stream = Buffer.concat(packets);
          const r = new NotificationReassembler();
          const got: Uint8Array[] = [];
          let off = 0;
          for (let k = 0; off < stream.length; k++) {
            const n = sizes[k % sizes.length]!;
            got.push(...r.push(new Uint8Array(stream.subarray(off, off + n))));
            off += n;
          }
          expect(got.map(hex)).toEqual(packets.map(hex));
          expect(r.pending).toBe(0);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('garbage: impossible header dropped with its notification, next notification resyncs', () => {
    const r = new NotificationReassembler();
    const p = pkt(10, 1);
    expect(r.push(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3]))).toEqual([]);
    expect(r.droppedBytes).toBe(11);
    expect(r.pending).toBe(0);
    expect(r.push(p).map(hex)).toEqual([hex(p)]);
  });

  it('is bounded: a header announcing more than maxPacket is garbage; 65543-byte packets pass', () => {
    const small = new NotificationReassembler({ maxPacket: 100 });
    expect(small.push(pkt(200))).toEqual([]);
    expect(small.droppedBytes).toBe(208);
    const big = new NotificationReassembler();
    const p = pkt(0xffff);
    expect(p.length).toBe(MAX_SMP_PACKET);
    const got: Uint8Array[] = [];
    for (let off = 0; off < p.length; off += 244) got.push(...big.push(p.subarray(off, off + 244)));
    expect(got.length).toBe(1);
    expect(hex(got[0]!)).toBe(hex(p));
  });

  it('garbage fuzz never throws and never holds more than maxPacket', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 30 }), (notes) => {
        const r = new NotificationReassembler({ maxPacket: 1000 });
        for (const n of notes) {
          for (const p of r.push(n)) expect(p.length).toBeLessThanOrEqual(1000);
          expect(r.pending).toBeLessThan(1000);
        }
      }),
    );
  });
});

/** Echo device: answers each request with a response of `rspLen` payload bytes. */
async function echoLink(peerOpts: SimulatedGattPeerOptions, rspLen = (req: Uint8Array) => req.length - 8, reassembly = false) {
  const peer = new SimulatedGattPeer(peerOpts);
  const dev = peer.deviceTransport();
  dev.onPacket((req) => void dev.send(pkt(rspLen(req), req[6]!)).catch(() => undefined));
  const t = await BleTransport.open(peer, { reassembly });
  return { peer, t };
}

function collect(t: BleTransport): Uint8Array[] {
  const got: Uint8Array[] = [];
  t.onPacket((p) => got.push(p));
  return got;
}

describe('BleTransport over SimulatedGattPeer', () => {
  it('mtu is ATT_MTU − 3 without reassembly; larger packets are refused locally', async () => {
    const { t, peer } = await echoLink({ attMtu: 23 });
    expect(t.mtu).toBe(20);
    await expect(t.send(pkt(13))).rejects.toBeInstanceOf(TransportError);
    expect(peer.counters.writes).toBe(0);
  });

  it('responses of exactly MTU size, MTU+1 and many notifications are reassembled', async () => {
    const sizes = [244 - 8, 244 - 7, 0, 3000, 244 * 4 - 8];
    let k = 0;
    const notes: number[] = [];
    const { t } = await echoLink({ attMtu: 247, onNotification: (n) => notes.push(n.length) }, () => sizes[k++]!);
    const got = collect(t);
    for (let i = 0; i < sizes.length; i++) await t.send(pkt(4, i));
    await sleep(10);
    expect(got.map((p) => p.length)).toEqual(sizes.map((s) => s + 8));
    expect(Math.max(...notes)).toBe(244);
    expect(notes.slice(0, 3)).toEqual([244, 244, 1]);
  });

  it('interleaved responses sharing notifications, and custom splitAt', async () => {
    const { t, peer } = await echoLink({ attMtu: 50, interleave: true, splitAt: (p) => [1, 3, 9, 10, p.length - 1] }, (r) => r[6]! * 7);
    const got = collect(t);
    await Promise.all([1, 2, 3, 4, 5].map((s) => t.send(pkt(4, s))));
    await sleep(10);
    expect(got.map((p) => p[6])).toEqual([1, 2, 3, 4, 5]);
    expect(got.map(hex)).toEqual([1, 2, 3, 4, 5].map((s) => hex(pkt(s * 7, s))));
    expect(peer.counters.notifications).toBeGreaterThan(5);
  });

  it('device without reassembly rejects an over-long write with an ATT error', async () => {
    const peer = new SimulatedGattPeer({ attMtu: 23 });
    await expect(peer.writeWithoutResponse(new Uint8Array(21))).rejects.toBeInstanceOf(AttError);
    expect(peer.counters.rejectedWrites).toBe(1);
  });

  it('reassembly: mtu 65535, requests split into ATT_MTU − 3 writes and rebuilt by the device', async () => {
    const peer = new SimulatedGattPeer({ attMtu: 23, reassembly: true, bufSize: 4096 });
    const dev = peer.deviceTransport();
    const reqs: Uint8Array[] = [];
    dev.onPacket((r) => reqs.push(r));
    const t = await BleTransport.open(peer, { reassembly: true });
    expect(t.mtu).toBe(65535);
    const a = pkt(1000, 1);
    const b = pkt(30, 2);
    await Promise.all([t.send(a), t.send(b)]);
    await sleep(5);
    expect(reqs.map(hex)).toEqual([hex(a), hex(b)]);
    expect(peer.counters.writes).toBe(Math.ceil(a.length / 20) + Math.ceil(b.length / 20));
    // too big for the device buffer → ATT error → TransportError
    await expect(t.send(pkt(5000))).rejects.toThrow(/BLE write failed: ATT error 0x11/);
  });

  it('disconnect mid-response: clear error, pending request rejects, no hang, send afterwards rejects', async () => {
    const peer = new SimulatedGattPeer({ attMtu: 23 });
    const dev = peer.deviceTransport();
    dev.onPacket((req) => void dev.send(pkt(200, req[6]!)).catch(() => undefined));
    const t = await BleTransport.open(peer);
    const client = new SmpClient(t, { timeoutMs: 5000 });
    const closed = new Promise<Error | undefined>((r) => t.onClose(r));
    peer.disconnectAfterNotifications(3);
    await expect(client.call(os.echo, { d: 'x' })).rejects.toThrow(/BLE peer disconnected/);
    const err = await closed;
    expect(err).toBeInstanceOf(TransportError);
    expect(err!.message).toMatch(/^BLE peer disconnected/);
    expect(t.stats.pending).toBe(0);
    await expect(t.send(pkt(1))).rejects.toThrow(/BLE peer disconnected/);
  });

  it('client close → onClose without error, peer disconnected, device side closed', async () => {
    const { t, peer } = await echoLink({});
    const devClosed = new Promise<void>((r) => peer.deviceTransport().onClose(() => r()));
    const closed = new Promise<Error | undefined>((r) => t.onClose(r));
    await t.close();
    expect(await closed).toBeUndefined();
    await devClosed;
    expect(peer.isConnected).toBe(false);
    await expect(t.send(pkt(1))).rejects.toBeInstanceOf(TransportError);
  });
});

describe('image upgrade over BLE (virtual device)', () => {
  let device: VirtualDevice | undefined;
  afterEach(async () => {
    await device?.close();
    device = undefined;
  });

  it('ATT_MTU 23 without device reassembly: the first upload request cannot fit, clear local error', async () => {
    const dev = (device = await VirtualDevice.create({ stateDir: tempDir() }));
    const peer = new SimulatedGattPeer({ attMtu: 23 });
    dev.server.attach(peer.deviceTransport());
    const client = new SmpClient(await BleTransport.open(peer), { timeoutMs: 2000 });
    await expect(imageUpload(client, buildImage({ version: '1.1.0' }))).rejects.toThrow(/MTU|exceeds/);
    expect(peer.counters.rejectedWrites).toBe(0);
    await client.transport.close();
  });

  for (const [name, peerOpts, reassembly] of [
    ['ATT_MTU 247, no reassembly', { attMtu: 247 }, false],
    ['ATT_MTU 23, device reassembly', { attMtu: 23, reassembly: true }, true],
    ['ATT_MTU 65, device reassembly', { attMtu: 65, reassembly: true }, true],
  ] as const) {
    it(`upload → test → reset (link drops, reconnect) → 1.1.0 active → confirm (${name})`, async () => {
      const dev = (device = await VirtualDevice.create({ stateDir: tempDir(), config: { resetDelayMs: 20 } }));
      let peer!: SimulatedGattPeer;
      const connect = async (): Promise<SmpClient> => {
        peer = new SimulatedGattPeer({ ...peerOpts, interleave: true });
        dev.server.attach(peer.deviceTransport());
        return new SmpClient(await BleTransport.open(peer, { reassembly }), { timeoutMs: 5000 });
      };
      // A real device drops the BLE link when it reboots.
      dev.onReset(() => peer.dropLink(new Error('device reset')));

      let client = await connect();
      const img = buildImage({ version: '1.1.0' });
      const res = await imageUpload(client, img);
      expect(res.bytes).toBe(img.length);
      if (!reassembly) expect(res.chunkSize).toBeLessThan(peerOpts.attMtu);
      expect(peer.counters.rejectedWrites).toBe(0);
      const list = await client.call(image.state, {});
      expect(list.images.map((i) => i.version)).toEqual(['1.0.0', '1.1.0']);
      await client.call(image.setState, { hash: list.images[1]!.hash! });

      const closed = new Promise<Error | undefined>((r) => client.transport.onClose(r));
      await client.call(os.reset, {});
      expect((await closed)?.message).toMatch(/BLE peer disconnected: device reset/);

      client = await connect();
      const after = await client.call(image.state, {});
      expect(after.images[0]).toMatchObject({ slot: 0, version: '1.1.0', active: true });
      expect(after.images[0]!.confirmed ?? false).toBe(false);
      await client.call(image.setState, { confirm: true });
      const final = await client.call(image.state, {});
      expect(final.images[0]).toMatchObject({ version: '1.1.0', active: true, confirmed: true });
      await client.transport.close();
    });
  }
});
