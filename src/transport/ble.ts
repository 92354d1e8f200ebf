/** SMP over Bluetooth LE GATT (pure, no Node APIs): requests by Write Without Response, responses by notification. */
import { NotificationReassembler, type SmpCharacteristic } from './ble-gatt.js';
import { TransportError, type SmpTransport } from './transport.js';

export interface BleTransportOptions {
  /**
   * The device was built with `CONFIG_MCUMGR_TRANSPORT_BT_REASSEMBLY`: packets up to 65535 bytes are sent,
   * split over consecutive writes of ATT_MTU − 3 bytes. Default false: one packet per write, so the MTU is
   * ATT_MTU − 3.
   */
  reassembly?: boolean;
  /** Largest response accepted (header included), default 65543. */
  maxResponse?: number;
}

export class BleTransport implements SmpTransport {
  private readonly reassembler: NotificationReassembler;
  private packetListeners: ((packet: Uint8Array) => void)[] = [];
  private closeListeners: ((error?: Error) => void)[] = [];
  private closed = false;
  private closeError: Error | undefined;
  /** Serialises sends so the fragments of two packets never interleave. */
  private sendQueue: Promise<void> = Promise.resolve();

  private constructor(
    readonly characteristic: SmpCharacteristic,
    private readonly options: BleTransportOptions,
  ) {
    this.reassembler = new NotificationReassembler({ maxPacket: options.maxResponse });
  }

  /** Subscribes to notifications on a connected SMP characteristic and returns the transport. */
  static async open(characteristic: SmpCharacteristic, options: BleTransportOptions = {}): Promise<BleTransport> {
    const t = new BleTransport(characteristic, options);
    characteristic.onDisconnect((err) => t.shutdown(new TransportError(`BLE peer disconnected${err ? `: ${err.message}` : ''}`, { cause: err })));
    try {
      await characteristic.subscribe((data) => t.notify(data));
    } catch (err) {
      t.shutdown(new TransportError(`BLE: enabling SMP notifications failed: ${(err as Error).message}`, { cause: err }));
      await characteristic.disconnect().catch(() => undefined);
      throw t.closeError;
    }
    return t;
  }

  /** Largest write payload: ATT_MTU − 3. */
  get writeSize(): number {
    return Math.max(1, this.characteristic.attMtu - 3);
  }

  readonly framingOverhead = 0;

  get mtu(): number {
    return this.options.reassembly ? 0xffff : this.writeSize;
  }

  /** Bytes of a partial response held by the reassembler, and garbage bytes dropped so far. */
  get stats(): { pending: number; droppedBytes: number } {
    return { pending: this.reassembler.pending, droppedBytes: this.reassembler.droppedBytes };
  }

  send(packet: Uint8Array): Promise<void> {
    if (this.closed) return Promise.reject(this.closeError ?? new TransportError('BLE transport is closed'));
    if (packet.length > this.mtu) {
      return Promise.reject(
        new TransportError(
          `SMP packet of ${packet.length} bytes exceeds the BLE transport MTU of ${this.mtu}` +
            (this.options.reassembly ? '' : ' (ATT_MTU − 3; the device has no request reassembly)'),
        ),
      );
    }
    const copy = packet.slice();
    const run = this.sendQueue.then(() => this.write(copy));
    this.sendQueue = run.catch(() => undefined);
    return run;
  }

  private async write(packet: Uint8Array): Promise<void> {
    const size = this.writeSize;
    for (let off = 0; off < packet.length; off += size) {
      if (this.closed) throw this.closeError ?? new TransportError('BLE transport is closed');
      try {
        await this.characteristic.writeWithoutResponse(packet.subarray(off, Math.min(packet.length, off + size)));
      } catch (err) {
        if (this.closed) throw this.closeError ?? new TransportError('BLE transport is closed');
        throw new TransportError(`BLE write failed: ${(err as Error).message}`, { cause: err });
      }
    }
  }

  private notify(data: Uint8Array): void {
    if (this.closed) return;
    for (const p of this.reassembler.push(data)) {
      for (const l of this.packetListeners) l(p);
    }
  }

  onPacket(listener: (packet: Uint8Array) => void): void {
    this.packetListeners.push(listener);
  }

  onClose(listener: (error?: Error) => void): void {
    if (this.closed) {
      queueMicrotask(() => listener(this.closeError));
      return;
    }
    this.closeListeners.push(listener);
  }

  private shutdown(error?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.closeError = error;
    this.reassembler.reset();
    const listeners = this.closeListeners.splice(0);
    queueMicrotask(() => {
      for (const l of listeners) l(error);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.shutdown();
    this.closeError = new TransportError('BLE transport is closed');
    await this.characteristic.disconnect().catch(() => undefined);
  }
}
