import { describe, expect, it } from 'vitest';
import dgram from 'node:dgram';
import { parseUdpAddress, UdpTransport } from '../../src/node/udp.js';
import { TransportError } from '../../src/transport/transport.js';

describe('parseUdpAddress', () => {
  it.each([
    ['192.168.1.5:1400', { host: '192.168.1.5', port: 1400 }],
    ['192.168.1.5', { host: '192.168.1.5', port: 1337 }],
    ['localhost', { host: 'localhost', port: 1337 }],
    ['dev.local:9', { host: 'dev.local', port: 9 }],
    ['[::1]:5683', { host: '::1', port: 5683 }],
    ['[fe80::1%eth0]', { host: 'fe80::1%eth0', port: 1337 }],
    ['::1', { host: '::1', port: 1337 }],
    ['2001:db8::7', { host: '2001:db8::7', port: 1337 }],
  ])('%s', (s, want) => expect(parseUdpAddress(s)).toEqual(want));
  it.each(['', ':1337', 'host:', 'host:0', 'host:70000', 'host:12a', '[::1', '[::1]x'])('rejects %j', (s) =>
    expect(() => parseUdpAddress(s)).toThrow(TransportError),
  );
});

async function echoServer(type: 'udp4' | 'udp6', address: string) {
  const sock = dgram.createSocket(type);
  sock.on('message', (msg, rinfo) => sock.send(Buffer.concat([Buffer.from([0xee]), msg]), rinfo.port, rinfo.address));
  await new Promise<void>((r) => sock.bind(0, address, () => r()));
  return sock;
}

describe('UdpTransport', () => {
  for (const [type, addr, fmt] of [
    ['udp4', '127.0.0.1', (p: number) => `127.0.0.1:${p}`],
    ['udp6', '::1', (p: number) => `[::1]:${p}`],
  ] as const) {
    it(`round trip over ${addr}`, async () => {
      let server: dgram.Socket;
      try {
        server = await echoServer(type, addr);
      } catch (e) {
        if (type === 'udp6') return console.warn('IPv6 loopback unavailable, skipped:', (e as Error).message);
        throw e;
      }
      const t = await UdpTransport.connect(fmt(server.address().port));
      expect(t.mtu).toBe(1500);
      expect(t.remote.family).toBe(type === 'udp6' ? 6 : 4);
      const got = new Promise<Uint8Array>((r) => t.onPacket(r));
      const pkt = new Uint8Array(1400).map((_, i) => i);
      await t.send(pkt);
      const reply = await got;
      expect(reply[0]).toBe(0xee);
      expect(reply.subarray(1)).toEqual(pkt);
      await expect(t.send(new Uint8Array(1501))).rejects.toBeInstanceOf(TransportError);
      const closed = new Promise((r) => t.onClose(r));
      await t.close();
      await closed;
      await expect(t.send(pkt)).rejects.toBeInstanceOf(TransportError);
      server.close();
    });
  }

  it('resolves host names (localhost)', async () => {
    const server = await echoServer('udp4', '127.0.0.1');
    const t = await UdpTransport.connect(`localhost:${server.address().port}`);
    if (t.remote.family === 4) {
      const got = new Promise<Uint8Array>((r) => t.onPacket(r));
      await t.send(new Uint8Array([1, 2]));
      expect(await got).toEqual(new Uint8Array([0xee, 1, 2]));
    }
    await t.close();
    server.close();
  });

  it('unresolvable host gives a TransportError', async () => {
    await expect(UdpTransport.connect('no-such-host.invalid')).rejects.toBeInstanceOf(TransportError);
  });
});
