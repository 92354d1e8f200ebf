import { describe, expect, it } from 'vitest';
import { openPty } from '../../src/node/pty.js';
import { SerialTransport, StreamSerialTransport } from '../../src/node/serial.js';

const unix = process.platform !== 'win32';

describe.runIf(unix)('pty + SerialTransport', () => {
  it('exchanges SMP-framed packets both directions', async () => {
    const pty = openPty();
    expect(pty.path).toMatch(/^\/dev\//);
    const device = new StreamSerialTransport(pty, { mtu: 4096 });
    // device: echo every packet back with byte 0 changed to a response op
    device.onPacket((p) => {
      const r = p.slice();
      r[0] = (r[0]! & ~7) | ((r[0]! & 7) + 1);
      void device.send(r);
    });
    const client = await SerialTransport.open({ path: pty.path, mtu: 4096 });
    try {
      for (const size of [17, 200, 1000, 3000]) {
        const pkt = new Uint8Array(size).map((_, i) => (i * 7) & 0xff);
        pkt[0] = 2;
        const got = new Promise<Uint8Array>((r) => client.onPacket(r));
        await client.send(pkt);
        const reply = await got;
        expect(reply.length).toBe(size);
        expect(reply[0]).toBe(3);
        expect(reply.subarray(1)).toEqual(pkt.subarray(1));
      }
      // non-SMP text from the device side is ignored
      await pty.write(new TextEncoder().encode('*** Booting Zephyr OS ***\r\nuart:~$ '));
      const got = new Promise<Uint8Array>((r) => client.onPacket(r));
      await client.send(new Uint8Array([0, 0, 0, 0, 0, 0, 1, 0]));
      expect((await got)[0]).toBe(1);
    } finally {
      await client.close();
      await device.close();
      pty.close();
    }
  });

  it('is raw (no echo back to the device) and survives client reconnects', async () => {
    const pty = openPty();
    const echoed: Uint8Array[] = [];
    pty.onData((b) => echoed.push(b));
    await pty.write(new TextEncoder().encode('hello\n'));
    await new Promise((r) => setTimeout(r, 100));
    expect(echoed).toEqual([]);
    const device = new StreamSerialTransport(pty);
    device.onPacket((p) => void device.send(p));
    try {
      for (let i = 0; i < 2; i++) {
        const client = await SerialTransport.open({ path: pty.path });
        const got = new Promise<Uint8Array>((r) => client.onPacket(r));
        const pkt = new Uint8Array([2, 0, 0, 1, 0, 0, i, 0, 0xf6]);
        await client.send(pkt);
        expect(await got).toEqual(pkt);
        await client.close();
      }
    } finally {
      pty.close();
    }
  });
});
