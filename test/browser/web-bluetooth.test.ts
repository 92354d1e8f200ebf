/** The Web Bluetooth adapter against the virtual device, through a `BluetoothDevice` fake over SimulatedGattPeer. */
import { afterEach, describe, expect, it } from 'vitest';
import { SmpClient } from '../../src/client/client.js';
import { imageUpload } from '../../src/client/upload.js';
import { VirtualDevice } from '../../src/device/device.js';
import { image } from '../../src/groups/index.js';
import { createImage } from '../../src/image/sign.js';
import { SMP_CHARACTERISTIC_UUID, SMP_SERVICE_UUID } from '../../src/transport/ble-gatt.js';
import { SimulatedGattPeer } from '../../src/device/ble-sim.js';
import { TransportError } from '../../src/transport/transport.js';
import {
  openWebBluetoothTransport,
  requestBluetoothDevice,
  type WebBluetoothCharacteristic,
  type WebBluetoothDevice,
  type WebBluetoothGattServer,
} from '../../src/transport/web-bluetooth.js';
import { tempDir } from '../device/helpers.js';

/** A `BluetoothDevice` whose SMP characteristic is a SimulatedGattPeer (Chrome's event and DataView shapes). */
class FakeBluetoothDevice extends EventTarget implements WebBluetoothDevice {
  readonly name = 'smp_svr';
  connectError: Error | undefined;
  service = SMP_SERVICE_UUID;
  disconnects = 0;
  readonly gatt: WebBluetoothGattServer;

  constructor(readonly peer: SimulatedGattPeer) {
    super();
    const chr = new (class extends EventTarget implements WebBluetoothCharacteristic {
      value: DataView | null = null;
      writeValueWithoutResponse = (data: Uint8Array) => peer.writeWithoutResponse(data);
      startNotifications = async () => {
        await peer.subscribe((data) => {
          this.value = new DataView(data.buffer, data.byteOffset, data.byteLength);
          this.dispatchEvent(new Event('characteristicvaluechanged'));
        });
        return this;
      };
    })();
    let connected = false;
    const gatt: WebBluetoothGattServer = {
      get connected() {
        return connected;
      },
      connect: async () => {
        if (this.connectError) throw this.connectError;
        connected = true;
        return gatt;
      },
      disconnect: () => {
        connected = false;
        this.disconnects++;
        void peer.disconnect();
      },
      getPrimaryService: async (uuid) => {
        if (uuid !== this.service) throw new Error('No Services matching UUID found in Device.');
        return {
          getCharacteristic: async (c) => {
            if (c !== SMP_CHARACTERISTIC_UUID) throw new Error('No Characteristics matching UUID found.');
            return chr;
          },
        };
      },
    };
    this.gatt = gatt;
    peer.onDisconnect(() => this.dispatchEvent(new Event('gattserverdisconnected')));
  }
}

describe('Web Bluetooth adapter', () => {
  let device: VirtualDevice | undefined;
  afterEach(async () => {
    await device?.close();
    device = undefined;
  });

  async function fakeDevice(attMtu = 247): Promise<FakeBluetoothDevice> {
    const dev = (device = await VirtualDevice.create({ stateDir: tempDir() }));
    const peer = new SimulatedGattPeer({ attMtu });
    dev.server.attach(peer.deviceTransport());
    return new FakeBluetoothDevice(peer);
  }

  it('requests a device by the SMP service (and name prefix) and reports a missing API or chooser cancel', async () => {
    let asked: unknown;
    const chosen = await fakeDevice();
    const bluetooth = {
      requestDevice: async (options: unknown) => {
        asked = options;
        return chosen;
      },
    };
    expect(await requestBluetoothDevice('smp', bluetooth)).toBe(chosen);
    expect(asked).toEqual({ filters: [{ services: [SMP_SERVICE_UUID], namePrefix: 'smp' }] });
    await expect(requestBluetoothDevice()).rejects.toThrow(/This browser has no Web Bluetooth \(navigator\.bluetooth\)/);
    const cancelled = { requestDevice: () => Promise.reject(new Error('User cancelled the requestDevice() chooser.')) };
    await expect(requestBluetoothDevice(undefined, cancelled)).rejects.toThrow(/No device chosen \(Web Bluetooth\): User cancelled/);
  });

  it('lists and uploads through the SMP characteristic with the ATT MTU given', async () => {
    const fake = await fakeDevice(247);
    const transport = await openWebBluetoothTransport(fake, { attMtu: 247 });
    expect(transport.mtu).toBe(244);
    const client = new SmpClient(transport, { timeoutMs: 3000 });
    expect((await client.call(image.state, {})).images[0]).toMatchObject({ slot: 0, active: true });
    await imageUpload(client, createImage(new Uint8Array(6000).fill(3), { version: '3.1.0', padHeader: true }));
    expect((await client.call(image.state, {})).images.find((s) => s.slot === 1)?.version).toBe('3.1.0');
    expect(fake.peer.counters.rejectedWrites).toBe(0);
    await client.close();
    expect(fake.disconnects).toBe(1);
  });

  it('without an ATT MTU assumes 23: lists, and refuses an upload request with a clear local error', async () => {
    const fake = await fakeDevice(247);
    const transport = await openWebBluetoothTransport(fake);
    expect(transport.mtu).toBe(20);
    const client = new SmpClient(transport, { timeoutMs: 3000 });
    expect((await client.call(image.state, {})).images.length).toBeGreaterThan(0);
    await expect(imageUpload(client, createImage(new Uint8Array(100), { version: '1.0.1', padHeader: true }))).rejects.toThrow(
      /MTU too low \(requests of at most 20 bytes\)/,
    );
  });

  it('gattserverdisconnected closes the transport with a clear error', async () => {
    const fake = await fakeDevice();
    const transport = await openWebBluetoothTransport(fake, { attMtu: 247 });
    const closed = new Promise<Error | undefined>((r) => transport.onClose(r));
    fake.peer.dropLink(new Error('supervision timeout'));
    const err = await closed;
    expect(err).toBeInstanceOf(TransportError);
    expect(err?.message).toMatch(/BLE peer disconnected/);
  });

  it('a failed GATT connection or a device without the SMP service gives a TransportError', async () => {
    const refusing = await fakeDevice();
    refusing.connectError = new Error('GATT Server is disconnected.');
    await expect(openWebBluetoothTransport(refusing)).rejects.toThrow(/Cannot reach the SMP characteristic of smp_svr: GATT Server is disconnected/);
    const other = await fakeDevice();
    other.service = '0000180f-0000-1000-8000-00805f9b34fb';
    await expect(openWebBluetoothTransport(other)).rejects.toThrow(/No Services matching UUID/);
    expect(other.disconnects).toBe(1);
  });
});
