/** Transfers over emulated links: negotiated chunk sizes, pipelining on bad links, resume. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SmpClient } from '../../src/client/client.js';
import { imageUpload } from '../../src/client/upload.js';
import { fileUpload, fileDownload } from '../../src/client/files.js';
import { buildImage } from '../../src/device/firmware.js';
import { VirtualDevice } from '../../src/device/device.js';
import { image } from '../../src/groups/index.js';
import { decodeCborMap } from '../../src/protocol/cbor.js';
import { decodePacket } from '../../src/protocol/header.js';
import { EmulatedLink, seededRandom, type LinkProfile } from '../../src/device/link/link.js';
import { DeviceEndpoint } from '../../src/device/link/device-endpoint.js';
import { createMemoryPair } from '../../src/transport/memory.js';
import type { SmpTransport } from '../../src/transport/transport.js';

const FAST: LinkProfile = {
  name: 'fast',
  description: 'test link',
  bytesPerSecond: 50_000_000,
  wireBytes: (n) => n,
  mtu: 65_535,
  latencyMs: 1,
};

const FAST_FLASH = { writeBytesPerSecond: 100_000_000, sectorSize: 4096, sectorEraseMs: 0, erase: 'progressive' } as const;

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const o of open.splice(0)) await o.close();
});

/** Records the size of every packet and the upload data bytes that reach the device. */
class Recorder {
  sizes: number[] = [];
  responseSizes: number[] = [];
  uploadBytes = 0;
  /** Every image-upload chunk that reached the device, retransmissions included. */
  chunks: { off: number; len: number }[] = [];
  private seeUpload = (): void => undefined;
  readonly uploadSeen = new Promise<void>((resolve) => (this.seeUpload = resolve));
  /** What each packet in `sizes` was. */
  kinds: ('upload' | 'other')[] = [];
  see(packet: Uint8Array): void {
    this.sizes.push(packet.length);
    const { header, payload } = decodePacket(packet);
    this.kinds.push(header.group === 1 && header.id === 1 ? 'upload' : 'other');
    if (header.group === 1 && header.id === 1) {
      this.seeUpload();
      const { data, off } = decodeCborMap(payload);
      if (data instanceof Uint8Array) {
        this.uploadBytes += data.length;
        this.chunks.push({ off: Number(off), len: data.length });
      }
    }
  }
}

/**
 * Checks that a resumed upload sent only what the device was missing: apart from the opening request at
 * offset 0 (which carries the sha the device resumes by), every chunk lies at or past the resume offset.
 * Retransmissions on a busy machine may repeat chunks, so distinct offsets are counted.
 */
function expectOnlyMissingPartSent(chunks: { off: number; len: number }[], resumedFrom: number, total: number): void {
  const later = chunks.filter((c) => c.off !== 0);
  expect(later.every((c) => c.off >= resumedFrom)).toBe(true);
  const distinct = new Map(later.map((c) => [c.off, c.len]));
  expect([...distinct.values()].reduce((a, b) => a + b, 0)).toBe(total - resumedFrom);
}

function setup(
  opts: {
    profile?: LinkProfile;
    bufSize?: number;
    bufCount?: number;
    packetLimit?: number;
    deviceLimit?: number;
    stateDir?: string;
    seed?: number;
    /** The device answers nothing until an image upload request has reached it. */
    silentUntilUpload?: boolean;
  } = {},
) {
  const profile = opts.profile ?? FAST;
  const bufSize = opts.bufSize ?? 1024;
  const bufCount = opts.bufCount ?? 4;
  const device = VirtualDevice.createSync({
    stateDir: opts.stateDir ?? mkdtempSync(join(tmpdir(), 'mcumgr-transfer-')),
    config: { bufSize, bufCount, slotSize: 0x40000 },
  });
  const [clientEnd, deviceEnd] = createMemoryPair(65_535);
  const limit = opts.packetLimit ?? bufSize;
  const clientLink = new EmulatedLink(clientEnd, { ...profile, mtu: limit }, seededRandom(opts.seed ?? 7));
  const deviceLink = new EmulatedLink(deviceEnd, profile, seededRandom((opts.seed ?? 7) + 1));
  const endpoint = new DeviceEndpoint(deviceLink, { bufferCount: bufCount, bufferSize: opts.deviceLimit ?? limit, flash: FAST_FLASH });
  const recorder = new Recorder();
  const tap: SmpTransport = {
    mtu: endpoint.mtu,
    framingOverhead: endpoint.framingOverhead,
    send: async (p) => {
      if (opts.silentUntilUpload) await recorder.uploadSeen;
      recorder.responseSizes.push(p.length);
      return endpoint.send(p);
    },
    onPacket: (l) =>
      endpoint.onPacket((p) => {
        recorder.see(p);
        l(p);
      }),
    onClose: (l) => endpoint.onClose(l),
    close: () => endpoint.close(),
  };
  device.server.attach(tap);
  const client = new SmpClient(clientLink, { timeoutMs: 1000 });
  const handle = {
    device,
    client,
    recorder,
    endpoint,
    clientLink,
    close: async () => {
      await clientLink.close();
      await device.close();
    },
  };
  open.push(handle);
  return handle;
}

const payload = (n: number) => new Uint8Array(n).map((_, i) => (i * 13 + (i >> 8)) & 0xff);

describe('chunk sizing', () => {
  it.each([
    ['serial-like (1024-byte buffer, 1020-byte packets)', 1024, 1020],
    ['BLE (ATT MTU 247 → 244-byte packets)', 2048, 244],
    ['UDP (2048-byte buffer)', 2048, 2048],
    ['small device buffer (384)', 384, 384],
  ])('never exceeds the negotiated size: %s', async (_name, bufSize, packetLimit) => {
    const { client, recorder, endpoint } = setup({ bufSize, packetLimit });
    const img = buildImage({ version: '1.1.0', body: payload(20_000) });
    await imageUpload(client, img, { window: 3 });
    await fileUpload(client, '/lfs/chunks.bin', payload(5000));
    expect(Math.max(...recorder.sizes)).toBeLessThanOrEqual(packetLimit);
    expect(Math.max(...recorder.sizes)).toBeGreaterThan(packetLimit * 0.9);
    expect(endpoint.dropped.tooLarge).toBe(0);
    // Downloads: the device sizes its answers to its buffer; our requests stay within the link.
    recorder.sizes = [];
    recorder.kinds = [];
    expect(await fileDownload(client, '/lfs/chunks.bin')).toEqual(payload(5000));
    expect(Math.max(...recorder.sizes)).toBeLessThanOrEqual(packetLimit);
    expect(Math.max(...recorder.responseSizes)).toBeLessThanOrEqual(bufSize);
  });

  it('the first image chunk goes out with the buffer query, sized for any default Zephyr buffer; the rest fill the buffer', async () => {
    // Nothing is answered until the first chunk arrives: a client that waited for the query's answer would stall,
    // then fall back to default-sized chunks.
    const { client, recorder } = setup({ bufSize: 1024, silentUntilUpload: true });
    const img = buildImage({ version: '1.1.0', body: payload(20_000) });
    const result = await imageUpload(client, img, { window: 3, timeoutMs: 5000 });
    expect(result.match).toBe(true);
    const [first, ...later] = recorder.sizes.filter((_, i) => recorder.kinds[i] === 'upload');
    expect(first).toBeLessThanOrEqual(384);
    expect(Math.max(...later)).toBeGreaterThan(1024 * 0.9);
  });

  it('a device that silently drops packets larger than its buffer leads to smaller chunks and a completed upload', async () => {
    // The device reports a 1024-byte buffer but silently drops anything over 300 bytes.
    const { client, recorder, endpoint } = setup({ bufSize: 1024, packetLimit: 1024, deviceLimit: 300 });
    const img = buildImage({ version: '1.1.0', body: payload(5000) });
    const result = await imageUpload(client, img, { window: 2, timeoutMs: 200, retries: 5 });
    expect(result.match).toBe(true);
    expect(endpoint.dropped.tooLarge).toBeGreaterThan(0);
    expect(Math.max(...recorder.sizes)).toBeLessThanOrEqual(300);
  });

  it('gives a clear error naming the limit when even small requests go unanswered', async () => {
    const { client } = setup({ bufSize: 1024, packetLimit: 1024, deviceLimit: 60 });
    const img = buildImage({ version: '1.1.0', body: payload(5000) });
    await expect(imageUpload(client, img, { timeoutMs: 100, retries: 2 })).rejects.toThrow(/requests of up to \d+ bytes went unanswered.*NETBUF_SIZE/);
  });
});

describe('pipelining on a bad link', () => {
  it('a lossy, reordering, duplicating link still produces a byte-identical image', async () => {
    const bad: LinkProfile = { ...FAST, latencyMs: 3, jitterMs: 3, loss: 0.03, duplicate: 0.05, reorder: 0.1 };
    const { client, clientLink } = setup({ profile: bad, seed: 11 });
    const img = buildImage({ version: '1.2.0', body: payload(60_000) });
    const result = await imageUpload(client, img, { window: 4, timeoutMs: 300, retries: 100 });
    expect(result.match).toBe(true);
    expect(clientLink.stats.lost + clientLink.stats.duplicated + clientLink.stats.reordered).toBeGreaterThan(5);
    const state = await client.call(image.state, {}, { tries: 10 });
    const slot1 = state.images.find((i) => i.slot === 1)!;
    expect(slot1.version).toBe('1.2.0');
    const { parseImage } = await import('../../src/image/index.js');
    expect(Buffer.from(slot1.hash!).toString('hex')).toBe(Buffer.from(parseImage(img).hash!).toString('hex'));
  });

  it('pipelined file upload and download survive the same link byte for byte', async () => {
    const bad: LinkProfile = { ...FAST, latencyMs: 2, jitterMs: 2, loss: 0.03, corrupt: 0.01, duplicate: 0.03, reorder: 0.1 };
    const { client, clientLink } = setup({ profile: bad, seed: 5 });
    const data = payload(60_000);
    const up = await fileUpload(client, '/lfs/bad-link.bin', data, { timeoutMs: 200, retries: 100 });
    expect(up.window).toBeGreaterThan(1);
    expect(await fileDownload(client, '/lfs/bad-link.bin', { timeoutMs: 200, retries: 100 })).toEqual(data);
    expect(clientLink.stats.lost + clientLink.stats.reordered + clientLink.stats.corrupted).toBeGreaterThan(5);
  });
});

describe('resume', () => {
  it('after a client restart only the missing part is sent', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'mcumgr-resume-'));
    const first = setup({ stateDir });
    const img = buildImage({ version: '1.3.0', body: payload(80_000) });
    const controller = new AbortController();
    await imageUpload(first.client, img, {
      window: 2,
      signal: controller.signal,
      onProgress: (p) => p.done > img.length / 2 && controller.abort(),
    }).catch(() => undefined);
    // Let the chunks still in flight reach the device before counting.
    await new Promise((r) => setTimeout(r, 50));
    const sentBefore = first.recorder.chunks.length;

    // A new client on the same device: the device reports its offset for the same sha.
    const second = new SmpClient(first.clientLink, { timeoutMs: 1000 });
    const result = await imageUpload(second, img, { window: 2 });
    expect(result.resumedFrom).toBeGreaterThan(img.length / 2);
    expect(result.resumedFrom).toBeLessThan(img.length);
    expect(result.match).toBe(true);
    expectOnlyMissingPartSent(first.recorder.chunks.slice(sentBefore), result.resumedFrom, img.length);
  });

  it('a device that forgets the upload in the middle of a window gets the image again from a first chunk, and it matches', async () => {
    const { client, device, recorder } = setup();
    const img = buildImage({ version: '1.4.0', body: payload(60_000) });
    let forgotAt: number | undefined;
    const result = await imageUpload(client, img, {
      window: 4,
      onProgress: (p) => {
        if (forgotAt === undefined && p.done > img.length / 2) {
          // Zephyr keeps the upload state in RAM: a reset, or another client's first chunk, loses it.
          forgotAt = p.done;
          device.setUpload(undefined);
        }
      },
    });
    expect(forgotAt).toBeDefined();
    expect(result.match).toBe(true);
    expect(recorder.chunks.filter((c) => c.off === 0)).toHaveLength(2);
    expect(new Uint8Array(device.flash.read(1).subarray(0, img.length))).toEqual(img);
  });

  it('after a device restart (same state) only the missing part is sent', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'mcumgr-resume-'));
    const a = setup({ stateDir });
    const img = buildImage({ version: '1.3.0', body: payload(80_000) });
    const controller = new AbortController();
    await imageUpload(a.client, img, {
      signal: controller.signal,
      onProgress: (p) => p.done > img.length / 3 && controller.abort(),
    }).catch(() => undefined);
    await a.close();
    open.splice(open.indexOf(a), 1);

    const b = setup({ stateDir });
    const result = await imageUpload(b.client, img, { window: 3 });
    expect(result.resumedFrom).toBeGreaterThan(img.length / 3);
    expect(result.match).toBe(true);
    expect(result.resumedFrom).toBeLessThan(img.length);
    expectOnlyMissingPartSent(b.recorder.chunks, result.resumedFrom, img.length);
  });
});
