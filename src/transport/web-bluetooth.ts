/**
 * SMP over Web Bluetooth (browsers): the SMP characteristic of a `BluetoothDevice` as an `SmpCharacteristic`
 * for `BleTransport`. Typed with minimal local interfaces, so it neither needs the DOM library nor a browser
 * to be tested.
 */
import { BleTransport, type BleTransportOptions } from './ble.js';
import { DEFAULT_ATT_MTU, SMP_CHARACTERISTIC_UUID, SMP_SERVICE_UUID, type SmpCharacteristic } from './ble-gatt.js';
import { chooseDevice, errorMessage } from './browser-api.js';
import { TransportError } from './transport.js';

interface DataViewLike {
  readonly buffer: ArrayBufferLike;
  readonly byteOffset: number;
  readonly byteLength: number;
}

export interface WebBluetoothCharacteristic {
  readonly value?: DataViewLike | null;
  writeValueWithoutResponse(value: Uint8Array): Promise<void>;
  startNotifications(): Promise<unknown>;
  addEventListener(type: 'characteristicvaluechanged', listener: (event: { target: unknown }) => void): void;
}

export interface WebBluetoothGattServer {
  readonly connected: boolean;
  connect(): Promise<WebBluetoothGattServer>;
  disconnect(): void;
  getPrimaryService(uuid: string): Promise<{ getCharacteristic(uuid: string): Promise<WebBluetoothCharacteristic> }>;
}

/** What this module uses of a Web Bluetooth `BluetoothDevice`. */
export interface WebBluetoothDevice {
  readonly name?: string;
  readonly gatt?: WebBluetoothGattServer;
  addEventListener(type: 'gattserverdisconnected', listener: () => void): void;
}

/** What this module uses of `navigator.bluetooth`. */
export interface WebBluetooth {
  requestDevice(options: { filters: { services?: string[]; namePrefix?: string }[]; optionalServices?: string[] }): Promise<WebBluetoothDevice>;
}

export interface WebBluetoothOptions extends BleTransportOptions {
  /**
   * ATT_MTU of the link. Web Bluetooth negotiates it but does not tell the page, and a Write Without Response
   * longer than ATT_MTU − 3 fails, so the default is the one every LE link has: 23 (requests of at most 20
   * bytes, enough for listing but not for uploads without `reassembly`). Give the real one when you know it:
   * Chrome asks for a large MTU, and Zephyr's smp_svr Bluetooth overlay accepts 247.
   */
  attMtu?: number;
}

/** Asks the user to pick a device advertising the SMP service (`navigator.bluetooth.requestDevice()`; in a user gesture). */
export function requestBluetoothDevice(namePrefix?: string, bluetooth?: WebBluetooth): Promise<WebBluetoothDevice> {
  return chooseDevice('bluetooth', bluetooth, (b) => b.requestDevice({ filters: [{ services: [SMP_SERVICE_UUID], ...(namePrefix ? { namePrefix } : {}) }] }));
}

/** Connects GATT and finds the SMP characteristic of `device`. */
export async function webBluetoothCharacteristic(device: WebBluetoothDevice, attMtu = DEFAULT_ATT_MTU): Promise<SmpCharacteristic> {
  const gatt = device.gatt;
  if (!gatt) throw new TransportError(`Bluetooth device ${device.name ?? ''} has no GATT server`);
  let chr: WebBluetoothCharacteristic;
  try {
    const server = await gatt.connect();
    chr = await (await server.getPrimaryService(SMP_SERVICE_UUID)).getCharacteristic(SMP_CHARACTERISTIC_UUID);
  } catch (err) {
    if (gatt.connected) gatt.disconnect();
    throw new TransportError(`Cannot reach the SMP characteristic of ${device.name ?? 'the device'}: ${errorMessage(err)}`, {
      cause: err,
    });
  }
  return {
    attMtu,
    writeWithoutResponse: (data) => chr.writeValueWithoutResponse(data),
    subscribe: async (onNotify) => {
      chr.addEventListener('characteristicvaluechanged', (event) => {
        const value = (event.target as WebBluetoothCharacteristic).value;
        if (value) onNotify(new Uint8Array(value.buffer, value.byteOffset, value.byteLength).slice());
      });
      await chr.startNotifications();
    },
    onDisconnect: (cb) => device.addEventListener('gattserverdisconnected', () => cb()),
    disconnect: async () => {
      if (gatt.connected) gatt.disconnect();
    },
  };
}

/** SMP over the SMP characteristic of `device` (e.g. from `requestBluetoothDevice()`). */
export async function openWebBluetoothTransport(device: WebBluetoothDevice, options: WebBluetoothOptions = {}): Promise<BleTransport> {
  return BleTransport.open(await webBluetoothCharacteristic(device, options.attMtu), options);
}
