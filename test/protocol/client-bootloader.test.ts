/** The client against bootloaders and older devices: v1 fallback, the raw-framing quiet time, uploads into recovery. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SmpClient } from '../../src/client/client.js';
import { imageUpload } from '../../src/client/upload.js';
import { decodeCborMap, encodeCborIndefinite } from '../../src/protocol/cbor.js';
import { decodePacket, encodePacket, responseOp } from '../../src/protocol/header.js';
import { image, os } from '../../src/groups/index.js';
import { buildImage } from '../../src/device/firmware.js';
import { StreamSerialTransport } from '../../src/transport/stream-serial.js';
import { ScriptedTransport } from '../helpers/loopback.js';
import { makeDevice } from '../device/helpers.js';

function reply(request: Uint8Array, body: unknown): Uint8Array {
  const { header } = decodePacket(request);
  return encodePacket(
    { op: responseOp(header.op), version: header.version, flags: 0, group: header.group, seq: header.seq, id: header.id },
    encodeCborIndefinite(body),
  );
}

const versionOf = (p: Uint8Array): number => decodePacket(p).header.version;

afterEach(() => {
  vi.useRealTimers();
});

describe('SMP v2 → v1 fallback', () => {
  it('asks again in v1 when a v2 request is "not supported", and keeps v1 for the rest of the client', async () => {
    const t = new ScriptedTransport((p, tr) => tr.deliver(reply(p, versionOf(p) === 1 ? { rc: 8 } : { r: 'hi' })));
    const client = new SmpClient(t, { timeoutMs: 200, fallbackToV1: true });
    expect((await client.call(os.echo, { d: 'hi' })).r).toBe('hi');
    expect((await client.call(os.echo, { d: 'hi' })).r).toBe('hi');
    expect(t.sent.map(versionOf)).toEqual([1, 0, 0]);
  });

  it('asks again in v1 when a v2 request gets no answer at all', async () => {
    const t = new ScriptedTransport((p, tr) => versionOf(p) === 0 && tr.deliver(reply(p, { r: 'v1' })));
    const client = new SmpClient(t, { timeoutMs: 50, fallbackToV1: true });
    expect((await client.call(os.echo, { d: 'x' })).r).toBe('v1');
    expect(client.version).toBe(0);
  });

  it('a device that answers neither: the v2 tries, then one v1 try, and an error that says both were tried', async () => {
    const t = new ScriptedTransport();
    const client = new SmpClient(t, { timeoutMs: 20, tries: 3, fallbackToV1: true });
    await expect(client.call(os.echo, { d: 'x' })).rejects.toThrow(/within 0.02 s \(3 tries\) to .*, nor to the same request in SMP v1$/);
    expect(t.sent.map(versionOf)).toEqual([1, 1, 1, 0]);
    expect(client.version).toBe(1);
  });

  it('stays with v2 once a v2 request was answered, and without the option', async () => {
    const t = new ScriptedTransport((p, tr) => tr.deliver(reply(p, decodePacket(p).header.id === 0 ? { r: 'ok' } : { rc: 8 })));
    const client = new SmpClient(t, { timeoutMs: 200, fallbackToV1: true });
    await client.call(os.echo, { d: 'x' });
    await expect(client.call(os.mcumgrParams, {})).rejects.toThrow(/ENOTSUP/);
    expect(t.sent.map(versionOf)).toEqual([1, 1]);
    const plain = new ScriptedTransport((p, tr) => tr.deliver(reply(p, { rc: 8 })));
    await expect(new SmpClient(plain, { timeoutMs: 200 }).call(os.mcumgrParams, {})).rejects.toThrow(/ENOTSUP/);
    expect(plain.sent).toHaveLength(1);
  });
});

describe('raw serial framing', () => {
  it('waits out the device input timeout before it resends a request whose answer was lost', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const t = Object.assign(new ScriptedTransport(), { resendQuietMs: 3000 });
    const client = new SmpClient(t, { timeoutMs: 100, tries: 2 });
    const call = client.call(os.echo, { d: 'x' }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(100);
    expect(t.sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(2999);
    expect(t.sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(t.sent).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(100);
    expect(await call).toBeInstanceOf(Error);
  });

  it('reads the next packet after garbage on the line', () => {
    vi.useFakeTimers({ toFake: ['performance'] });
    let feed: (b: Uint8Array) => void = () => undefined;
    const transport = new StreamSerialTransport({ write: () => undefined, onData: (cb) => (feed = cb) }, { raw: true });
    const got: Uint8Array[] = [];
    transport.onPacket((p) => got.push(p));
    // Text that reads as an SMP header announcing a long packet.
    feed(new TextEncoder().encode('\x02\x00\x40\x00 boot log line'));
    vi.advanceTimersByTime(600);
    const packet = encodePacket({ op: 3, version: 1, flags: 0, group: 0, seq: 7, id: 0 }, encodeCborIndefinite({ r: 'next' }));
    feed(packet);
    expect(got).toEqual([packet]);
  });
});

describe('image upload into MCUboot serial recovery (the virtual device in recovery, in process)', () => {
  it('finds the bootloader by its answer and sends one aligned chunk at a time', async () => {
    const device = makeDevice({ config: { recovery: {} } });
    device.enterRecovery();
    const t = new ScriptedTransport((p, tr) => {
      void device.recovery!.handle(p).then((answers) => answers.forEach((r) => tr.deliver(r)));
    });
    const client = new SmpClient(t, { timeoutMs: 2000 });
    const bytes = buildImage({ version: '2.1.0', body: new Uint8Array(9000).map((_, i) => i) });
    const result = await imageUpload(client, bytes, { window: 8 });
    expect(result).toMatchObject({ bootloader: true, window: 1 });
    const chunks = t.sent
      .map((p) => decodePacket(p))
      .filter((p) => p.header.group === 1 && p.header.id === 1)
      .map((p) => decodeCborMap(p.payload));
    const offsets = chunks.map((c) => c.off as number);
    expect(new Set(offsets).size).toBe(offsets.length);
    for (const c of chunks.slice(1, -1)) expect((c.data as Uint8Array).length % 32).toBe(0);
    expect(Buffer.from(device.flash.read(0).subarray(0, bytes.length)).equals(Buffer.from(bytes))).toBe(true);
    const list = await client.call(image.state, {});
    expect(list.splitStatus).toBeUndefined();
    await device.close();
  });
});
