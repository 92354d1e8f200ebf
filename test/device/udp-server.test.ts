/** The virtual device's UDP server: one attached transport per client address and port, forgotten when idle. */
import dgram from 'node:dgram';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualDevice } from '../../src/device/device.js';
import { UdpSmpServer } from '../../src/device/udp-server.js';
import { decodeCborMap, encodeCbor } from '../../src/protocol/cbor.js';
import { decodePacket, encodePacket } from '../../src/protocol/header.js';
import { SmpServer } from '../../src/device/server.js';
import { os } from '../../src/groups/index.js';
import { ScriptedTransport } from '../helpers/loopback.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function echo(sock: dgram.Socket, port: number, text: string): Promise<string> {
  const answer = new Promise<string>((resolve) => sock.once('message', (m) => resolve(String(decodeCborMap(decodePacket(new Uint8Array(m)).payload).r))));
  sock.send(encodePacket({ op: 2, version: 1, flags: 0, group: 0, seq: 1, id: 0 }, encodeCbor({ d: text })), port, '127.0.0.1');
  return answer;
}

describe('UdpSmpServer', () => {
  it('serves each client on its own transport and forgets one that stays silent', async () => {
    const dev = VirtualDevice.createSync({ stateDir: mkdtempSync(join(tmpdir(), 'mcumgr-udp-')) });
    cleanup.push(() => dev.close());
    const udp = await UdpSmpServer.listen(dev.server, { host: '127.0.0.1', port: 0, idleMs: 300 });
    cleanup.push(() => udp.close());
    const [a, b] = [dgram.createSocket('udp4'), dgram.createSocket('udp4')];
    cleanup.push(
      () => a.close(),
      () => b.close(),
    );

    expect(await echo(a, udp.port, 'one')).toBe('one');
    expect(await echo(b, udp.port, 'two')).toBe('two');
    expect(dev.server.attachedTransports()).toHaveLength(2);
    await new Promise((r) => setTimeout(r, 1000));
    expect(dev.server.attachedTransports()).toHaveLength(0);
    // A client heard from again is served again.
    expect(await echo(a, udp.port, 'three')).toBe('three');
    expect(dev.server.attachedTransports()).toHaveLength(1);
  });

  it('remembers a bounded number of peers, forgetting the one heard from longest ago', async () => {
    const dev = VirtualDevice.createSync({ stateDir: mkdtempSync(join(tmpdir(), 'mcumgr-udp-')) });
    cleanup.push(() => dev.close());
    const udp = await UdpSmpServer.listen(dev.server, { host: '127.0.0.1', port: 0, maxPeers: 3 });
    cleanup.push(() => udp.close());
    const sockets = Array.from({ length: 6 }, () => dgram.createSocket('udp4'));
    cleanup.push(...sockets.map((s) => () => s.close()));
    for (const [i, s] of sockets.entries()) {
      expect(await echo(s, udp.port, `peer ${i}`)).toBe(`peer ${i}`);
      expect(dev.server.attachedTransports().length).toBeLessThanOrEqual(3);
    }
    // A forgotten peer is served again when it comes back.
    expect(await echo(sockets[0]!, udp.port, 'back')).toBe('back');
    expect(dev.server.attachedTransports()).toHaveLength(3);
  });
});

describe('default mcumgr-sim configuration over UDP', () => {
  it('drops a request larger than its buffer without an answer (as recorded), then answers the next', async () => {
    const dev = VirtualDevice.createSync({ stateDir: mkdtempSync(join(tmpdir(), 'mcumgr-udp-')) });
    cleanup.push(() => dev.close());
    const udp = await UdpSmpServer.listen(dev.server, { host: '127.0.0.1', port: 0 });
    cleanup.push(() => udp.close());
    const sock = dgram.createSocket('udp4');
    cleanup.push(() => sock.close());
    const first = new Promise<number>((resolve) => sock.once('message', (m) => resolve(decodePacket(new Uint8Array(m)).header.seq)));
    const request = (seq: number, d: string) => encodePacket({ op: 2, version: 1, flags: 0, group: 0, seq, id: 0 }, encodeCbor({ d }));
    const oversized = request(1, 'x'.repeat(1100));
    expect(oversized.length).toBeGreaterThan(dev.config.bufSize);
    sock.send(oversized, udp.port, '127.0.0.1');
    sock.send(request(2, 'small'), udp.port, '127.0.0.1');
    expect(await first).toBe(2);
  });
});

describe('SmpServer request queue', () => {
  it('drops requests beyond its bound per link instead of queueing them without end', async () => {
    const server = new SmpServer({ maxQueuedRequests: 4 });
    server.register(os.echo, (req) => ({ r: req.d }));
    const link = new ScriptedTransport();
    server.attach(link);
    const request = (seq: number) => encodePacket({ op: 2, version: 1, flags: 0, group: 0, seq, id: 0 }, encodeCbor({ d: `${seq}` }));
    for (let seq = 0; seq < 100; seq++) link.deliver(request(seq));
    // Once the queue has drained, one more request: its answer comes after every answer to the burst.
    const answered = new Promise<void>((resolve) => {
      const send = link.send.bind(link);
      link.send = async (packet) => {
        await send(packet);
        if (decodePacket(packet).header.seq === 200) resolve();
      };
    });
    await new Promise((r) => setImmediate(r));
    link.deliver(request(200));
    await answered;
    expect(link.sent.map((p) => decodePacket(p).header.seq)).toEqual([0, 1, 2, 3, 200]);
  });
});
