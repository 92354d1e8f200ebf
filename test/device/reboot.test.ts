/**
 * `os reset` as the links see it: during the boot the device answers nothing (UDP, serial), the BLE
 * connection drops at once, the serial console prints the Zephyr boot banner, and then everything answers again.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SmpClient } from '../../src/client/client.js';
import type { VirtualDevice } from '../../src/device/device.js';
import { UdpSmpServer } from '../../src/device/udp-server.js';
import { os } from '../../src/groups/index.js';
import { SmpTimeoutError } from '../../src/protocol/errors.js';
import { BleTransport } from '../../src/transport/ble.js';
import { SimulatedGattPeer } from '../../src/device/ble-sim.js';
import { openPty, type Pty } from '../../src/node/pty.js';
import { SerialTransport, StreamSerialTransport } from '../../src/node/serial.js';
import { UdpTransport } from '../../src/node/udp.js';
import { makeDevice } from './helpers.js';

describe.runIf(process.platform !== 'win32')('reboot seen over UDP, a pseudo-terminal and a BLE link', () => {
  let dev: VirtualDevice;
  let udpServer: UdpSmpServer;
  let pty: Pty;
  let udp: SmpClient;
  let serial: SmpClient;
  let serialText = '';

  const connectBle = async (): Promise<SmpClient> => {
    const peer = new SimulatedGattPeer();
    dev.attachConnection(peer.deviceTransport());
    return new SmpClient(await BleTransport.open(peer), { timeoutMs: 3000 });
  };

  beforeAll(async () => {
    // Long enough that requests sent during the boot time out first (client timeout 300 ms).
    dev = makeDevice({ config: { bootTimeMs: 2500 } });
    udpServer = await UdpSmpServer.listen(dev.server, { host: '127.0.0.1', port: 0 });
    udp = new SmpClient(await UdpTransport.connect(udpServer.address), { timeoutMs: 3000 });
    pty = openPty();
    dev.attachSerial(new StreamSerialTransport(pty, { mtu: dev.config.bufSize }), (text) => pty.write(text));
    const port = await SerialTransport.open({ path: pty.path });
    port.serialPort.on('data', (d: Buffer) => (serialText += d.toString('latin1')));
    serial = new SmpClient(port, { timeoutMs: 3000 });
  });
  afterAll(async () => {
    await udp.close();
    await serial.close();
    await udpServer.close();
    await dev.close();
    pty.close();
  });

  it('no answers while booting, the BLE link drops, the banner is printed, then all answer again', async () => {
    const ble = await connectBle();
    for (const c of [udp, serial, ble]) expect(await c.call(os.echo, { d: 'before' })).toEqual({ r: 'before' });
    const bleClosed = new Promise<Error | undefined>((r) => ble.transport.onClose(r));
    const booted = new Promise<void>((r) => dev.onReset(() => r()));

    await udp.call(os.reset, {});
    expect((await bleClosed)?.message).toMatch(/BLE peer disconnected/);
    // The device is down now (it dropped the BLE link when it went down).
    const during = await Promise.allSettled([udp, serial].map((c) => c.call(os.echo, { d: 'during' }, { timeoutMs: 300 })));
    for (const r of during) expect(r.status === 'rejected' && r.reason).toBeInstanceOf(SmpTimeoutError);
    expect(serialText).not.toContain('Booting Zephyr');

    await booted;
    await vi.waitFor(() => expect(serialText).toContain(`*** Booting Zephyr OS build v3.4.99 ***\r\n`));
    expect(await udp.call(os.echo, { d: 'after' })).toEqual({ r: 'after' });
    // The serial decoder skipped the console text and still finds the SMP frames after it.
    expect(await serial.call(os.echo, { d: 'after' })).toEqual({ r: 'after' });
    const ble2 = await connectBle();
    expect(await ble2.call(os.echo, { d: 'after' })).toEqual({ r: 'after' });
    await ble2.close();
  }, 20_000);
});
