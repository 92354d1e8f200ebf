/**
 * BLE transport on a real adapter via `@stoprocent/noble` (optional: not a dependency of this package;
 * `npm install @stoprocent/noble` to use it). Loaded with a dynamic import so nothing else needs it.
 * NOT tested against a radio: written against noble's documented API only.
 */
import { BleTransport, type BleTransportOptions } from './ble.js';
import { SMP_CHARACTERISTIC_UUID_NOBLE, SMP_SERVICE_UUID_NOBLE, type SmpCharacteristic } from './ble-gatt.js';
import { TransportError } from './transport.js';

/** The parts of noble's API used here (structural, so this compiles without the package). */
interface NobleCharacteristic {
  uuid: string;
  writeAsync(data: Buffer, withoutResponse: boolean): Promise<void>;
  subscribeAsync(): Promise<void>;
  on(event: 'data', cb: (data: Buffer, isNotification: boolean) => void): void;
}
interface NoblePeripheral {
  id: string;
  address?: string;
  mtu?: number | null;
  advertisement: { localName?: string };
  connectAsync(): Promise<void>;
  disconnectAsync(): Promise<void>;
  once(event: 'disconnect', cb: (reason?: unknown) => void): void;
  discoverSomeServicesAndCharacteristicsAsync(
    services: string[],
    characteristics: string[],
  ): Promise<{ characteristics: NobleCharacteristic[] }>;
}
interface Noble {
  waitForPoweredOnAsync?(timeout?: number): Promise<void>;
  startScanningAsync(serviceUuids?: string[], allowDuplicates?: boolean): Promise<void>;
  stopScanningAsync(): Promise<void>;
  on(event: 'discover', cb: (p: NoblePeripheral) => void): void;
  removeListener(event: 'discover', cb: (p: NoblePeripheral) => void): void;
}

export interface NobleConnectOptions extends BleTransportOptions {
  /** Advertised (complete) local name, as mcumgr's `peer_name`. */
  peerName?: string;
  /** Peripheral id or address, as mcumgr's `peer_id`. */
  peerId?: string;
  /** Scan timeout in ms (default 10 000). */
  scanTimeoutMs?: number;
}

function matches(p: NoblePeripheral, o: NobleConnectOptions): boolean {
  if (o.peerId) {
    const want = o.peerId.toLowerCase().replace(/[:-]/g, '');
    return p.id.toLowerCase().replace(/[:-]/g, '') === want || (p.address ?? '').toLowerCase().replace(/[:-]/g, '') === want;
  }
  return p.advertisement.localName === o.peerName;
}

/** Scans for the device (by name or id), connects, finds the SMP characteristic and returns a BleTransport. */
export async function connectNoble(options: NobleConnectOptions): Promise<BleTransport> {
  if (!options.peerName && !options.peerId) throw new TransportError('BLE: give peer_name or peer_id');
  let noble: Noble;
  try {
    const mod = (await import('@stoprocent/noble' as string)) as { default?: Noble } & Noble;
    noble = mod.default ?? mod;
  } catch (err) {
    throw new TransportError(`BLE needs the optional package @stoprocent/noble: ${(err as Error).message}`, { cause: err });
  }
  await noble.waitForPoweredOnAsync?.(5000);
  const timeoutMs = options.scanTimeoutMs ?? 10_000;
  const peripheral = await new Promise<NoblePeripheral>((resolve, reject) => {
    const onDiscover = (p: NoblePeripheral): void => {
      if (!matches(p, options)) return;
      clearTimeout(timer);
      noble.removeListener('discover', onDiscover);
      void noble.stopScanningAsync().catch(() => undefined);
      resolve(p);
    };
    const timer = setTimeout(() => {
      noble.removeListener('discover', onDiscover);
      void noble.stopScanningAsync().catch(() => undefined);
      reject(new TransportError(`BLE: no device ${options.peerName ?? options.peerId} found within ${timeoutMs} ms`));
    }, timeoutMs);
    noble.on('discover', onDiscover);
    // No service filter: smp_svr puts the UUID in advertising, other applications may not.
    noble.startScanningAsync([], false).catch((err: Error) => {
      clearTimeout(timer);
      reject(new TransportError(`BLE scan failed: ${err.message}`, { cause: err }));
    });
  });
  await peripheral.connectAsync(); // noble exchanges the ATT MTU on connect where the platform allows
  const { characteristics } = await peripheral.discoverSomeServicesAndCharacteristicsAsync(
    [SMP_SERVICE_UUID_NOBLE],
    [SMP_CHARACTERISTIC_UUID_NOBLE],
  );
  const chr = characteristics.find((c) => c.uuid.replace(/-/g, '').toLowerCase() === SMP_CHARACTERISTIC_UUID_NOBLE);
  if (!chr) {
    await peripheral.disconnectAsync().catch(() => undefined);
    throw new TransportError('BLE: the device has no SMP characteristic');
  }
  const characteristic: SmpCharacteristic = {
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
