/**
 * BLE transport on a real adapter via `@stoprocent/noble` (optional: not a dependency of this package;
 * `npm install @stoprocent/noble` to use it). Loaded with a dynamic import so nothing else needs it.
 * Tested through `useNobleModule` with a noble-shaped object over SimulatedGattPeer; never against a radio.
 */
import { BleTransport, type BleTransportOptions } from '../transport/ble.js';
import { SMP_CHARACTERISTIC_UUID_NOBLE, SMP_SERVICE_UUID_NOBLE, type SmpCharacteristic } from '../transport/ble-gatt.js';
import { TransportError } from '../transport/transport.js';
import { requireOptional } from './optional.js';

/** The parts of noble's API used here (structural, so this compiles without the package). */
export interface NobleCharacteristic {
  uuid: string;
  writeAsync(data: Buffer, withoutResponse: boolean): Promise<void>;
  subscribeAsync(): Promise<void>;
  on(event: 'data', cb: (data: Buffer, isNotification: boolean) => void): void;
}
export interface NoblePeripheral {
  id: string;
  address?: string;
  mtu?: number | null;
  rssi?: number;
  advertisement: { localName?: string; serviceUuids?: string[] };
  connectAsync(): Promise<void>;
  disconnectAsync(): Promise<void>;
  once(event: 'disconnect', cb: (reason?: unknown) => void): void;
  discoverSomeServicesAndCharacteristicsAsync(services: string[], characteristics: string[]): Promise<{ characteristics: NobleCharacteristic[] }>;
}
export interface Noble {
  /** 'unknown', 'poweredOff', 'poweredOn', 'unsupported', 'unauthorized', ... */
  state: string;
  startScanningAsync(serviceUuids?: string[], allowDuplicates?: boolean): Promise<void>;
  stopScanningAsync(): Promise<void>;
  on(event: 'discover', cb: (p: NoblePeripheral) => void): void;
  on(event: 'stateChange', cb: (state: string) => void): void;
  removeListener(event: 'discover', cb: (p: NoblePeripheral) => void): void;
  removeListener(event: 'stateChange', cb: (state: string) => void): void;
}

export interface NobleConnectOptions extends BleTransportOptions {
  /** Advertised (complete) local name, as mcumgr's `peer_name`. */
  peerName?: string;
  /** Peripheral id or address, as mcumgr's `peer_id`. */
  peerId?: string;
  /** HCI controller number on Linux (`ctlr_name=hci1` → 1); default noble's (hci0 or NOBLE_HCI_DEVICE_ID). */
  hciDevice?: number;
  /** Time for the adapter to power on, the scan and the connection, in ms (default 10 000). */
  timeoutMs?: number;
}

let injected: Noble | undefined;

/** Test seam: use `noble` instead of importing `@stoprocent/noble` (undefined restores the import). */
export function useNobleModule(noble: Noble | undefined): void {
  injected = noble;
}

async function loadNoble(hciDevice: number | undefined): Promise<Noble> {
  if (injected) return injected;
  // noble's default instance opens its controller when the module loads: choose it first.
  if (hciDevice !== undefined) process.env.NOBLE_HCI_DEVICE_ID = String(hciDevice);
  const mod = requireOptional<{ default?: Noble } & Noble>('@stoprocent/noble', 'BLE');
  return mod.default ?? mod;
}

function normalizeAddress(a: string): string {
  return a.toLowerCase().replace(/[:-]/g, '');
}

function matches(p: NoblePeripheral, o: NobleConnectOptions): boolean {
  if (o.peerId) {
    const want = normalizeAddress(o.peerId);
    return normalizeAddress(p.id) === want || normalizeAddress(p.address ?? '') === want;
  }
  return p.advertisement.localName === o.peerName;
}

const ADAPTER_PROBLEMS: Record<string, string> = {
  unsupported:
    'no Bluetooth LE adapter found (noble reports "unsupported"; on Linux check that an HCI controller exists with `btmgmt info`, and pick it with ctlr_name=hciN)',
  unauthorized: 'not allowed to use the Bluetooth adapter (on Linux run as root or give node CAP_NET_RAW and CAP_NET_ADMIN)',
};

/**
 * Runs `work` (which returns its cleanup) and rejects with a TransportError after `ms` unless it settles first;
 * `timedOut` is called on the timeout and returns the error message.
 */
function within<T>(work: (resolve: (v: T) => void, reject: (e: Error) => void) => () => void, ms: number, timedOut: () => string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let cleanup: () => void = () => undefined;
    const timer = setTimeout(() => {
      cleanup();
      reject(new TransportError(timedOut()));
    }, ms);
    cleanup = work(
      (v) => {
        clearTimeout(timer);
        cleanup();
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        cleanup();
        reject(e);
      },
    );
  });
}

function poweredOn(noble: Noble, ms: number): Promise<void> {
  if (noble.state === 'poweredOn') return Promise.resolve();
  return within<void>(
    (resolve, reject) => {
      const onState = (state: string): void => {
        if (state === 'poweredOn') resolve();
        else if (ADAPTER_PROBLEMS[state]) reject(new TransportError(`BLE: ${ADAPTER_PROBLEMS[state]}`));
      };
      noble.on('stateChange', onState);
      onState(noble.state);
      return () => noble.removeListener('stateChange', onState);
    },
    ms,
    () => `BLE: the Bluetooth adapter did not power on within ${ms} ms (state: ${noble.state})`,
  );
}

function scan(noble: Noble, o: NobleConnectOptions, ms: number): Promise<NoblePeripheral> {
  return within<NoblePeripheral>(
    (resolve, reject) => {
      const onDiscover = (p: NoblePeripheral): void => {
        if (matches(p, o)) resolve(p);
      };
      noble.on('discover', onDiscover);
      // No service filter: smp_svr puts the UUID in advertising, other applications may not.
      noble.startScanningAsync([], false).catch((err: Error) => reject(new TransportError(`BLE scan failed: ${err.message}`, { cause: err })));
      return () => {
        noble.removeListener('discover', onDiscover);
        void noble.stopScanningAsync().catch(() => undefined);
      };
    },
    ms,
    () => `BLE: no device ${o.peerId ? `with address ${o.peerId}` : `named "${o.peerName}"`} found within ${ms} ms (is it advertising and in range?)`,
  );
}

/** Scans for the device (by name or id), connects, finds the SMP characteristic and returns a BleTransport. */
export async function connectNoble(options: NobleConnectOptions): Promise<BleTransport> {
  if (!options.peerName && !options.peerId) throw new TransportError('BLE: give peer_name or peer_id');
  const noble = await loadNoble(options.hciDevice);
  const timeoutMs = options.timeoutMs ?? 10_000;
  await poweredOn(noble, timeoutMs);
  const peripheral = await scan(noble, options, timeoutMs);
  const name = peripheral.advertisement.localName ?? peripheral.address ?? peripheral.id;
  await within<void>(
    (resolve, reject) => {
      peripheral.connectAsync().then(resolve, (err: Error) => reject(new TransportError(`BLE: connecting to ${name} failed: ${err.message}`, { cause: err })));
      return () => undefined;
    },
    timeoutMs,
    () => {
      void peripheral.disconnectAsync().catch(() => undefined);
      return `BLE: connecting to ${name} timed out after ${timeoutMs} ms`;
    },
  );
  const { characteristics } = await peripheral.discoverSomeServicesAndCharacteristicsAsync([SMP_SERVICE_UUID_NOBLE], [SMP_CHARACTERISTIC_UUID_NOBLE]);
  const chr = characteristics.find((c) => normalizeAddress(c.uuid) === SMP_CHARACTERISTIC_UUID_NOBLE);
  if (!chr) {
    await peripheral.disconnectAsync().catch(() => undefined);
    throw new TransportError(`BLE: ${name} has no SMP characteristic (is mcumgr's Bluetooth transport enabled in its build?)`);
  }
  const characteristic: SmpCharacteristic = {
    // noble exchanges the ATT MTU on connect where the platform allows.
    get attMtu() {
      return peripheral.mtu ?? 23;
    },
    writeWithoutResponse: (d) => chr.writeAsync(Buffer.from(d), true),
    subscribe: async (f) => {
      chr.on('data', (b) => f(new Uint8Array(b)));
      await chr.subscribeAsync();
    },
    onDisconnect: (cb) => peripheral.once('disconnect', (reason) => cb(reason ? new Error(String(reason)) : undefined)),
    disconnect: () => peripheral.disconnectAsync(),
  };
  return BleTransport.open(characteristic, options);
}

export interface AdvertisedDevice {
  /** noble's id (the address without colons on Linux, a UUID on macOS). */
  id: string;
  address?: string;
  name?: string;
  rssi?: number;
}

/**
 * Scans for `durationMs` and returns the devices whose advertising lists the SMP service UUID (smp_svr puts it in
 * its advertising data), each once, strongest signal first.
 */
export async function scanSmpDevices(options: { hciDevice?: number; durationMs: number; timeoutMs?: number }): Promise<AdvertisedDevice[]> {
  const noble = await loadNoble(options.hciDevice);
  await poweredOn(noble, options.timeoutMs ?? 10_000);
  const found = new Map<string, AdvertisedDevice>();
  const onDiscover = (p: NoblePeripheral): void => {
    if (!(p.advertisement.serviceUuids ?? []).some((u) => normalizeAddress(u) === SMP_SERVICE_UUID_NOBLE)) return;
    const name = p.advertisement.localName ?? found.get(p.id)?.name;
    found.set(p.id, { id: p.id, ...(p.address ? { address: p.address } : {}), ...(name ? { name } : {}), ...(p.rssi !== undefined ? { rssi: p.rssi } : {}) });
  };
  noble.on('discover', onDiscover);
  try {
    await noble.startScanningAsync([], true).catch((err: Error) => {
      throw new TransportError(`BLE scan failed: ${err.message}`, { cause: err });
    });
    await new Promise((resolve) => setTimeout(resolve, options.durationMs));
  } finally {
    noble.removeListener('discover', onDiscover);
    await noble.stopScanningAsync().catch(() => undefined);
  }
  return [...found.values()].sort((a, b) => (b.rssi ?? -999) - (a.rssi ?? -999));
}
