import { describe, expect, it } from 'vitest';
import { UdpSmpServer } from '../../src/device/udp-server.js';
import { decodeCborMap, encodeCbor } from '../../src/protocol/cbor.js';
import { decodeHeader, encodePacket } from '../../src/protocol/header.js';
import { allCommands } from '../../src/groups/index.js';
import dgram from 'node:dgram';
import { makeDevice } from './helpers.js';

/** Small deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const KEYS = [
  'd',
  'off',
  'len',
  'data',
  'sha',
  'name',
  'hash',
  'confirm',
  'image',
  'slot',
  'argv',
  'format',
  'query',
  'type',
  'val',
  'index',
  'groups',
  'upgrade',
  'datetime',
  'max_size',
];

function randomValue(r: () => number, depth = 0): unknown {
  switch (Math.floor(r() * (depth > 2 ? 6 : 8))) {
    case 0:
      return Math.floor(r() * 2 ** (Math.floor(r() * 5) * 8));
    case 1:
      return -Math.floor(r() * 1000);
    case 2:
      return ['', '/lfs/a', '/lfs/../x', 'kernel', 'mode', 'a', 'sha256', 'crc32', '/lfs/f.bin'][Math.floor(r() * 9)];
    case 3:
      return new Uint8Array(Math.floor(r() * 64)).map(() => Math.floor(r() * 256));
    case 4:
      return r() < 0.5;
    case 5:
      return null;
    case 6:
      return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1));
    default:
      return Object.fromEntries(Array.from({ length: Math.floor(r() * 4) }, () => [KEYS[Math.floor(r() * KEYS.length)]!, randomValue(r, depth + 1)]));
  }
}

function randomPacket(r: () => number): Uint8Array {
  const mode = r();
  if (mode < 0.15) return new Uint8Array(Math.floor(r() * 40)).map(() => Math.floor(r() * 256));
  const cmd = allCommands[Math.floor(r() * allCommands.length)]!;
  const body: Record<string, unknown> = {};
  for (const k of KEYS) if (r() < 0.2) body[k] = randomValue(r);
  let payload: Uint8Array;
  try {
    payload = encodeCbor(body);
  } catch {
    payload = new Uint8Array([0xa0]);
  }
  const packet = encodePacket(
    {
      op: r() < 0.9 ? cmd.op : Math.floor(r() * 8),
      version: r() < 0.9 ? Math.floor(r() * 2) : Math.floor(r() * 4),
      flags: 0,
      group: r() < 0.95 ? cmd.group : Math.floor(r() * 70),
      seq: Math.floor(r() * 256),
      id: r() < 0.95 ? cmd.id : Math.floor(r() * 10),
    },
    payload,
  );
  if (mode < 0.4) {
    // mutate: flip, truncate or extend
    const m = packet.slice();
    const flips = 1 + Math.floor(r() * 4);
    for (let i = 0; i < flips; i++) m[Math.floor(r() * m.length)] = Math.floor(r() * 256);
    if (r() < 0.3) return m.subarray(0, Math.floor(r() * m.length));
    return m;
  }
  return packet;
}

function checkResponse(req: Uint8Array, rsp: Uint8Array): void {
  const h = decodeHeader(rsp);
  const bad = (why: string): never => {
    throw new Error(`bad response (${why}) ${Buffer.from(rsp).toString('hex')} to ${Buffer.from(req).toString('hex')}`);
  };
  if (h.length !== rsp.length - 8) bad('length');
  if (h.op !== 1 && h.op !== 3) bad('op');
  if (h.flags !== 0 || h.version > 1) bad('flags/version');
  const body = decodeCborMap(rsp.subarray(8));
  if (typeof body !== 'object') bad('body');
}

describe('fuzz', () => {
  it('handlePacket never throws and always answers well-formed SMP', async () => {
    const runs = Number(process.env.FUZZ_RUNS ?? 100_000);
    // A fuzzed `os reset` must not take the device down for the rest of this synchronous loop.
    const dev = makeDevice({ config: { slotSize: 0x8000, resetDelayMs: 1e9 } });
    const r = rng(0xc0ffee);
    let answered = 0;
    for (let i = 0; i < runs; i++) {
      const pkt = randomPacket(r);
      let rsps: Uint8Array[];
      try {
        rsps = dev.server.handlePacket(pkt);
      } catch (err) {
        throw new Error(`packet ${Buffer.from(pkt).toString('hex')} threw ${(err as Error).stack}`);
      }
      for (const rsp of rsps) checkResponse(pkt, rsp);
      answered += rsps.length;
    }
    await dev.close();
    expect(answered).toBeGreaterThan(runs / 2);
  }, 60_000);

  it('over UDP', async () => {
    const dev = makeDevice({ config: { slotSize: 0x8000 } });
    const udp = await UdpSmpServer.listen(dev.server, { host: '127.0.0.1', port: 0 });
    const sock = dgram.createSocket('udp4');
    const r = rng(42);
    const runs = 2000;
    for (let i = 0; i < runs; i++) {
      const pkt = randomPacket(r);
      await new Promise<void>((res) => sock.send(pkt, udp.port, '127.0.0.1', () => res()));
    }
    // a final echo proves the server is still alive and answering (resent: UDP may drop under load)
    const got = new Promise<Buffer>((res) =>
      sock.on('message', (m) => {
        if (m.includes(Buffer.from('alive'))) res(m);
      }),
    );
    const echo = encodePacket({ op: 2, version: 1, flags: 0, group: 0, seq: 1, id: 0 }, encodeCbor({ d: 'alive' }));
    const timer = setInterval(() => sock.send(echo, udp.port, '127.0.0.1'), 200);
    sock.send(echo, udp.port, '127.0.0.1');
    const m = await got;
    clearInterval(timer);
    checkResponse(echo, new Uint8Array(m));
    sock.close();
    await udp.close();
    await dev.close();
  }, 30_000);
});
