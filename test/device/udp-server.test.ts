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

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function echo(sock: dgram.Socket, port: number, text: string): Promise<string> {
  const answer = new Promise<string>((resolve) =>
    sock.once('message', (m) => resolve(String(decodeCborMap(decodePacket(new Uint8Array(m)).payload).r))),
  );
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
    cleanup.push(() => a.close(), () => b.close());

    expect(await echo(a, udp.port, 'one')).toBe('one');
    expect(await echo(b, udp.port, 'two')).toBe('two');
    expect(dev.server.attachedTransports()).toHaveLength(2);
    await new Promise((r) => setTimeout(r, 1000));
    expect(dev.server.attachedTransports()).toHaveLength(0);
    // A client heard from again is served again.
    expect(await echo(a, udp.port, 'three')).toBe('three');
    expect(dev.server.attachedTransports()).toHaveLength(1);
  });
});
