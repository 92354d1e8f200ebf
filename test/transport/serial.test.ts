import { describe, expect, it } from 'vitest';
import { EventEmitter } from 'node:events';
import { SerialTransport, StreamSerialTransport } from '../../src/node/serial.js';
import { encodeSerialFrames } from '../../src/transport/serial-framing.js';
import { TransportError } from '../../src/transport/transport.js';

/** Two cross-connected fake byte channels. */
function channelPair() {
  const mk = () => {
    const listeners: ((b: Uint8Array) => void)[] = [];
    return { listeners, peer: undefined as undefined | { listeners: ((b: Uint8Array) => void)[] }, written: [] as Uint8Array[] };
  };
  const a = mk();
  const b = mk();
  a.peer = b;
  b.peer = a;
  const wrap = (s: ReturnType<typeof mk>) => ({
    write(bytes: Uint8Array) {
      s.written.push(bytes.slice());
      // deliver in odd-sized chunks to exercise reassembly
      for (let i = 0; i < bytes.length; i += 7) {
        const c = bytes.slice(i, i + 7);
        setImmediate(() => s.peer!.listeners.forEach((l) => l(c)));
      }
    },
    onData(cb: (b: Uint8Array) => void) {
      s.listeners.push(cb);
    },
  });
  return { a: wrap(a), b: wrap(b), rawA: a };
}

const next = (t: StreamSerialTransport) => new Promise<Uint8Array>((r) => t.onPacket(r));

describe('StreamSerialTransport', () => {
  it('exchanges framed packets both ways', async () => {
    const { a, b, rawA } = channelPair();
    const ta = new StreamSerialTransport(a);
    const tb = new StreamSerialTransport(b, { mtu: 2048 });
    const pkt = new Uint8Array(300).map((_, i) => i);
    const p = next(tb);
    await ta.send(pkt);
    expect(await p).toEqual(pkt);
    expect(rawA.written[0]).toEqual(encodeSerialFrames(pkt));
    const q = next(ta);
    await tb.send(new Uint8Array(1500).fill(7));
    expect((await q).length).toBe(1500);
  });
  it('raw mode', async () => {
    const { a, b, rawA } = channelPair();
    const ta = new StreamSerialTransport(a, { raw: true });
    const tb = new StreamSerialTransport(b, { raw: true });
    const pkt = new Uint8Array([2, 0, 0, 2, 0, 0, 5, 0, 0xa0, 0xf6]);
    const p = next(tb);
    await ta.send(pkt);
    expect(await p).toEqual(pkt);
    expect(rawA.written[0]).toEqual(pkt);
  });
  it('inter-frame delay writes line by line', async () => {
    const { a, rawA } = channelPair();
    const ta = new StreamSerialTransport(a, { interFrameDelayMs: 1 });
    await ta.send(new Uint8Array(200));
    expect(rawA.written.length).toBe(3);
    expect(rawA.written.every((w) => w[w.length - 1] === 0x0a)).toBe(true);
  });
  it('rejects oversize packets and sends after close', async () => {
    const { a } = channelPair();
    const ta = new StreamSerialTransport(a, { mtu: 16 });
    await expect(ta.send(new Uint8Array(17))).rejects.toBeInstanceOf(TransportError);
    const closed: unknown[] = [];
    ta.onClose((e) => closed.push(e));
    await ta.close();
    expect(closed).toEqual([undefined]);
    await expect(ta.send(new Uint8Array(1))).rejects.toBeInstanceOf(TransportError);
  });
  it('accepts Node-stream-like channels', async () => {
    const em = new EventEmitter() as EventEmitter & { write(b: Uint8Array, cb?: (e?: Error | null) => void): boolean };
    const written: Uint8Array[] = [];
    em.write = (b, cb) => {
      written.push(b);
      cb?.(null);
      return true;
    };
    const t = new StreamSerialTransport(em);
    const pkt = new Uint8Array([1, 2, 3]);
    const p = next(t);
    em.emit('data', Buffer.from(encodeSerialFrames(pkt)));
    expect(await p).toEqual(pkt);
    await t.send(pkt);
    expect(written[0]).toEqual(encodeSerialFrames(pkt));
    const closed = new Promise((r) => t.onClose(r));
    em.emit('close');
    await closed;
  });
});

describe('SerialTransport', () => {
  it('missing device gives a helpful TransportError', async () => {
    const err = await SerialTransport.open({ path: '/dev/xyz' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect((err as Error).message).toBe('Serial port /dev/xyz not found (is the device connected? is the path right?)');
  });
});
