/**
 * A simulated BLE link to an SMP device (pure, no Node APIs): the client side is an `SmpCharacteristic`,
 * the device side an `SmpTransport` that an SmpServer can `attach`. It behaves like Zephyr's `smp_bt.c`:
 * requests arrive as ATT Write Commands of at most ATT_MTU − 3 bytes (longer ones are refused with an ATT
 * error, as the stack does); without reassembly each write must be one whole SMP packet; with reassembly a
 * packet may span consecutive writes (the first holds the header, overflow drops the partial packet with an
 * ATT error); responses are cut into notifications of at most ATT_MTU − 3 bytes.
 */
import { DEFAULT_ATT_MTU, type SmpCharacteristic } from '../transport/ble-gatt.js';
import { defer, ListenerTransport } from '../transport/listener-transport.js';
import { TransportError, type SmpTransport } from '../transport/transport.js';

/** Zephyr ATT error codes used here. */
export const AttErrorCode = {
  InvalidAttributeValueLength: 0x0d,
  InsufficientResources: 0x11,
  Unlikely: 0x0e,
} as const;

export class AttError extends Error {
  override readonly name = 'AttError';
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(`ATT error 0x${code.toString(16).padStart(2, '0')}: ${message}`);
  }
}

export interface SimulatedGattPeerOptions {
  /** Negotiated ATT_MTU, default 247 (smp_svr's Bluetooth overlay). */
  attMtu?: number;
  /** Device request reassembly (`CONFIG_MCUMGR_TRANSPORT_BT_REASSEMBLY`), default false. */
  reassembly?: boolean;
  /** Device receive buffer (reassembled request limit), default 2475 (Zephyr's netbuf size with BT). */
  bufSize?: number;
  /**
   * Notification sizes for one response: returns cut points (offsets, ascending, inside the packet).
   * Pieces longer than ATT_MTU − 3 are cut further. Default: ATT_MTU − 3 bytes each.
   */
  splitAt?: (packet: Uint8Array, maxNotify: number) => number[];
  /**
   * Packs the responses sent in the same tick back to back into shared notifications (the byte stream is cut
   * at ATT_MTU − 3 regardless of packet boundaries), exercising the client's multi-packet handling.
   */
  interleave?: boolean;
  /** Called for every notification the device sends (after it is delivered). */
  onNotification?: (data: Uint8Array) => void;
}

export class SimulatedGattPeer implements SmpCharacteristic {
  readonly attMtu: number;
  private readonly opts: SimulatedGattPeerOptions & { bufSize: number; reassembly: boolean };
  private notifyCb: ((data: Uint8Array) => void) | undefined;
  private disconnectCbs: ((err?: Error) => void)[] = [];
  private connected = true;
  private partial: { buf: Uint8Array; len: number; expected: number } | undefined;
  private outQueue: Uint8Array[] = [];
  private flushScheduled = false;
  private dropAfter: number | undefined;
  private readonly device: DeviceSide;
  /** Counters for tests. */
  readonly counters = { writes: 0, notifications: 0, requests: 0, responses: 0, rejectedWrites: 0 };

  constructor(options: SimulatedGattPeerOptions = {}) {
    this.attMtu = Math.max(DEFAULT_ATT_MTU, options.attMtu ?? 247);
    this.opts = { ...options, bufSize: options.bufSize ?? 2475, reassembly: options.reassembly ?? false };
    this.device = new DeviceSide(this);
  }

  get isConnected(): boolean {
    return this.connected;
  }

  get maxNotify(): number {
    return this.attMtu - 3;
  }

  /** The device end of the link, for `server.attach(...)`. */
  deviceTransport(): SmpTransport {
    return this.device;
  }

  // ---- client side (SmpCharacteristic) ----

  async writeWithoutResponse(data: Uint8Array): Promise<void> {
    if (!this.connected) throw new AttError(AttErrorCode.Unlikely, 'not connected');
    this.counters.writes++;
    if (data.length > this.maxNotify) {
      this.counters.rejectedWrites++;
      throw new AttError(AttErrorCode.InvalidAttributeValueLength, `write of ${data.length} bytes exceeds ATT_MTU − 3 = ${this.maxNotify}`);
    }
    const copy = data.slice();
    if (!this.opts.reassembly) {
      if (copy.length > this.opts.bufSize) {
        this.counters.rejectedWrites++;
        throw new AttError(AttErrorCode.InsufficientResources, `request of ${copy.length} bytes exceeds the device buffer`);
      }
      this.deliverRequest(copy);
      return;
    }
    this.reassemble(copy);
  }

  /** Zephyr `smp_reassembly.c`: the first write holds the header; later writes append until complete. */
  private reassemble(data: Uint8Array): void {
    if (!this.partial) {
      if (data.length < 8) {
        this.counters.rejectedWrites++;
        throw new AttError(AttErrorCode.InvalidAttributeValueLength, 'first fragment shorter than the SMP header');
      }
      const expected = 8 + ((data[2]! << 8) | data[3]!);
      if (expected > this.opts.bufSize) {
        this.counters.rejectedWrites++;
        throw new AttError(AttErrorCode.InsufficientResources, `request of ${expected} bytes exceeds the device buffer`);
      }
      this.partial = { buf: new Uint8Array(expected), len: 0, expected };
    }
    const p = this.partial;
    if (p.len + data.length > p.expected) {
      this.partial = undefined;
      this.counters.rejectedWrites++;
      throw new AttError(AttErrorCode.InvalidAttributeValueLength, 'fragment overflows the announced SMP packet; dropped');
    }
    p.buf.set(data, p.len);
    p.len += data.length;
    if (p.len === p.expected) {
      this.partial = undefined;
      this.deliverRequest(p.buf);
    }
  }

  private deliverRequest(packet: Uint8Array): void {
    this.counters.requests++;
    defer(() => {
      if (this.connected) this.device.deliver(packet);
    });
  }

  async subscribe(onNotify: (data: Uint8Array) => void): Promise<void> {
    if (!this.connected) throw new AttError(AttErrorCode.Unlikely, 'not connected');
    this.notifyCb = onNotify;
  }

  onDisconnect(cb: (err?: Error) => void): void {
    this.disconnectCbs.push(cb);
  }

  /** Client-initiated disconnect. */
  async disconnect(): Promise<void> {
    this.drop(undefined);
  }

  // ---- test controls ----

  /** Peer-side link loss (device reset, out of range, supervision timeout). */
  dropLink(reason?: Error): void {
    this.drop(reason ?? new Error('connection lost'));
  }

  /** Drops the link right after the device has sent `n` more notifications (e.g. in the middle of a response). */
  disconnectAfterNotifications(n: number): void {
    this.dropAfter = n;
  }

  private drop(reason: Error | undefined): void {
    if (!this.connected) return;
    this.connected = false;
    this.partial = undefined;
    this.outQueue = [];
    const cbs = this.disconnectCbs.splice(0);
    defer(() => {
      for (const cb of cbs) cb(reason);
    });
    this.device.shutdown(reason);
  }

  // ---- device side ----

  /** Queues one response for notification. */
  sendResponse(packet: Uint8Array): void {
    this.counters.responses++;
    this.outQueue.push(packet.slice());
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    defer(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    const queue = this.outQueue.splice(0);
    if (!this.connected || queue.length === 0) return;
    const max = this.maxNotify;
    const pieces: Uint8Array[] = [];
    const cut = (bytes: Uint8Array, points: number[]): void => {
      let start = 0;
      for (const p of [...points.filter((x) => x > 0 && x < bytes.length).sort((a, b) => a - b), bytes.length]) {
        for (let s = start; s < p; s += max) pieces.push(bytes.subarray(s, Math.min(p, s + max)));
        start = Math.max(start, p);
      }
    };
    if (this.opts.interleave) {
      const total = queue.reduce((n, q) => n + q.length, 0);
      const all = new Uint8Array(total);
      let off = 0;
      for (const q of queue) {
        all.set(q, off);
        off += q.length;
      }
      cut(all, this.opts.splitAt ? this.opts.splitAt(all, max) : []);
    } else {
      for (const q of queue) cut(q, this.opts.splitAt ? this.opts.splitAt(q, max) : []);
    }
    for (const piece of pieces) {
      if (!this.connected) return;
      if (this.dropAfter !== undefined && this.dropAfter <= 0) {
        this.dropAfter = undefined;
        this.dropLink(new Error('connection lost in the middle of a response'));
        return;
      }
      this.counters.notifications++;
      if (this.dropAfter !== undefined) this.dropAfter--;
      this.notifyCb?.(piece.slice());
      this.opts.onNotification?.(piece);
    }
    if (this.dropAfter === 0) {
      this.dropAfter = undefined;
      this.dropLink(new Error('connection lost'));
    }
  }
}

class DeviceSide extends ListenerTransport {
  constructor(private readonly peer: SimulatedGattPeer) {
    super();
  }

  /** Zephyr fragments responses into notifications, so the SMP layer sees no small MTU. */
  readonly framingOverhead = 0;

  get mtu(): number {
    return 0xffff + 8;
  }

  async send(packet: Uint8Array): Promise<void> {
    if (this.closed || !this.peer.isConnected) throw new TransportError('BLE link is down');
    this.peer.sendResponse(packet);
  }

  async close(): Promise<void> {
    this.peer.dropLink(new Error('device closed the connection'));
  }
}
