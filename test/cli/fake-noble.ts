/**
 * An object with `@stoprocent/noble`'s interface (the part ble-noble.ts uses) whose peripherals are virtual
 * devices behind SimulatedGattPeer: advertising, scanning, connecting with an ATT MTU, service discovery
 * filtered by UUID, Write Without Response and notifications.
 */
import { EventEmitter } from 'node:events';
import type { VirtualDevice } from '../../src/device/device.js';
import { SMP_CHARACTERISTIC_UUID_NOBLE, SMP_SERVICE_UUID_NOBLE } from '../../src/transport/ble-gatt.js';
import { SimulatedGattPeer } from '../../src/transport/ble-sim.js';
import type { Noble, NobleCharacteristic, NoblePeripheral } from '../../src/transport/ble-noble.js';

class FakeCharacteristic extends EventEmitter implements NobleCharacteristic {
  readonly uuid = SMP_CHARACTERISTIC_UUID_NOBLE;

  constructor(private readonly peer: SimulatedGattPeer) {
    super();
  }

  async writeAsync(data: Buffer, withoutResponse: boolean): Promise<void> {
    if (!withoutResponse) throw new Error('the SMP characteristic takes Write Without Response only');
    await this.peer.writeWithoutResponse(new Uint8Array(data));
  }

  async subscribeAsync(): Promise<void> {
    await this.peer.subscribe((d) => this.emit('data', Buffer.from(d), true));
  }
}

export interface FakePeripheralOptions {
  address: string;
  localName: string;
  /** The device behind the link; without one, connecting fails like an unreachable peer. */
  device?: VirtualDevice;
  /** ATT MTU after the exchange on connect. */
  attMtu?: number;
  /** Whether the GATT database has the SMP service (false: some other BLE product). */
  smp?: boolean;
  /** Signal strength the scan reports (default -60 dBm). */
  rssi?: number;
  /** On the first connection, the link drops after this many notifications (a device walking out of range). */
  dropFirstLinkAfterNotifications?: number;
}

export class FakePeripheral extends EventEmitter implements NoblePeripheral {
  readonly id: string;
  readonly address: string;
  readonly advertisement: { localName: string; serviceUuids: string[] };
  readonly rssi: number;
  mtu: number | null = null;
  connects = 0;
  /** The link of the last connection (for its counters). */
  peer: SimulatedGattPeer | undefined;

  constructor(private readonly o: FakePeripheralOptions) {
    super();
    this.address = o.address.toLowerCase();
    this.id = this.address.replace(/:/g, ''); // noble's id on Linux
    // smp_svr advertises the SMP service UUID; a device without the service advertises none here.
    this.advertisement = { localName: o.localName, serviceUuids: o.smp === false || !o.device ? [] : [SMP_SERVICE_UUID_NOBLE] };
    this.rssi = o.rssi ?? -60;
  }

  async connectAsync(): Promise<void> {
    if (!this.o.device) throw new Error('connection failed to be established');
    const peer = new SimulatedGattPeer({ attMtu: this.o.attMtu ?? 185 });
    this.o.device.server.attach(peer.deviceTransport());
    peer.onDisconnect((err) => this.emit('disconnect', err?.message));
    if (this.connects === 0 && this.o.dropFirstLinkAfterNotifications !== undefined) peer.disconnectAfterNotifications(this.o.dropFirstLinkAfterNotifications);
    this.peer = peer;
    this.mtu = peer.attMtu;
    this.connects++;
  }

  async disconnectAsync(): Promise<void> {
    await this.peer?.disconnect();
  }

  async discoverSomeServicesAndCharacteristicsAsync(services: string[], characteristics: string[]): Promise<{ characteristics: NobleCharacteristic[] }> {
    const wanted = services.includes(SMP_SERVICE_UUID_NOBLE) && characteristics.includes(SMP_CHARACTERISTIC_UUID_NOBLE);
    return { characteristics: wanted && this.o.smp !== false && this.peer ? [new FakeCharacteristic(this.peer)] : [] };
  }
}

export class FakeNoble extends EventEmitter implements Noble {
  state = 'unknown';
  scans = 0;

  /** The adapter reaches `finalState` shortly after the first listener asks (as noble's HCI init does). */
  constructor(
    private readonly peripherals: FakePeripheral[],
    private readonly finalState = 'poweredOn',
  ) {
    super();
    this.once('newListener', () => setTimeout(() => this.emit('stateChange', (this.state = this.finalState)), 5));
  }

  async startScanningAsync(): Promise<void> {
    if (this.state !== 'poweredOn') throw new Error(`Could not start scanning, state is ${this.state} (not poweredOn)`);
    this.scans++;
    setImmediate(() => {
      for (const p of this.peripherals) this.emit('discover', p);
    });
  }

  async stopScanningAsync(): Promise<void> {}
}
