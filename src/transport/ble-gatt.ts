/**
 * The GATT side of the SMP Bluetooth LE transport (pure, no Node APIs).
 *
 * SMP over BLE (Zephyr `smp_bt.c`): one characteristic in the SMP service, with Write Without Response
 * (client → device requests) and Notify (device → client responses). A response larger than ATT_MTU − 3
 * arrives as several notifications with nothing marking the boundaries; the client reassembles it from the
 * 8-byte SMP header's length field. A request larger than ATT_MTU − 3 may be split over several writes only
 * if the device was built with `CONFIG_MCUMGR_TRANSPORT_BT_REASSEMBLY`.
 */

import { SMP_HEADER_SIZE } from '../protocol/header.js';

/** SMP GATT service UUID (lower case, as Web Bluetooth and noble expect in their own forms). */
export const SMP_SERVICE_UUID = '8d53dc1d-1db7-4cd3-868b-8a527460aa84';
/** SMP characteristic UUID. */
export const SMP_CHARACTERISTIC_UUID = 'da2e7828-fbce-4e01-ae9e-261174997c48';
/** The same UUIDs without dashes (noble's form). */
export const SMP_SERVICE_UUID_NOBLE = SMP_SERVICE_UUID.replace(/-/g, '');
export const SMP_CHARACTERISTIC_UUID_NOBLE = SMP_CHARACTERISTIC_UUID.replace(/-/g, '');

/** ATT_MTU every LE link starts with before an MTU exchange. */
export const DEFAULT_ATT_MTU = 23;
/** Largest possible SMP packet: 8-byte header + 0xffff payload bytes. */
export const MAX_SMP_PACKET = SMP_HEADER_SIZE + 0xffff;

/**
 * What the BLE transport needs from one connected SMP characteristic. Adapters:
 *
 * noble (`@stoprocent/noble`), with `peripheral` connected and `chr` discovered:
 * ```ts
 * const c: SmpCharacteristic = {
 *   attMtu: peripheral.mtu ?? 23,
 *   writeWithoutResponse: (d) => chr.writeAsync(Buffer.from(d), true),
 *   subscribe: async (f) => { chr.on('data', (b: Buffer) => f(new Uint8Array(b))); await chr.subscribeAsync(); },
 *   onDisconnect: (cb) => peripheral.once('disconnect', (reason?: unknown) => cb(reason ? new Error(String(reason)) : undefined)),
 *   disconnect: () => peripheral.disconnectAsync(),
 * };
 * ```
 * Web Bluetooth (`chr: BluetoothRemoteGATTCharacteristic`; browsers do not expose the MTU, so give the
 * one you know, or 23 to be safe):
 * ```ts
 * const c: SmpCharacteristic = {
 *   attMtu: 247,
 *   writeWithoutResponse: (d) => chr.writeValueWithoutResponse(d),
 *   subscribe: async (f) => {
 *     chr.addEventListener('characteristicvaluechanged', (e) => {
 *       const v = (e.target as BluetoothRemoteGATTCharacteristic).value!;
 *       f(new Uint8Array(v.buffer, v.byteOffset, v.byteLength).slice());
 *     });
 *     await chr.startNotifications();
 *   },
 *   onDisconnect: (cb) => chr.service.device.addEventListener('gattserverdisconnected', () => cb(), { once: true }),
 *   disconnect: async () => chr.service.device.gatt?.disconnect(),
 * };
 * ```
 */
export interface SmpCharacteristic {
  /** Sends one ATT Write Command (at most `attMtu - 3` bytes). */
  writeWithoutResponse(data: Uint8Array): Promise<void>;
  /** Enables notifications (writes the CCC) and delivers each notification's value. */
  subscribe(onNotify: (data: Uint8Array) => void): Promise<void>;
  /** Called once when the link drops (peer, supervision timeout or our own `disconnect`). */
  onDisconnect(cb: (err?: Error) => void): void;
  disconnect(): Promise<void>;
  /** Negotiated ATT_MTU (23 when no exchange took place). */
  readonly attMtu: number;
}

export interface ReassemblerOptions {
  /** Largest packet accepted (header included); a header announcing more is treated as garbage. Default 65543. */
  maxPacket?: number;
}

/** True when the 8 bytes at `off` can be an SMP header: op 0..3, version 0..1, reserved bits clear. */
export function plausibleSmpHeader(b: Uint8Array, off = 0): boolean {
  const b0 = b[off]!;
  return (b0 & 0x07) <= 3 && (b0 & 0xe0) === 0 && ((b0 >> 3) & 0x03) <= 1;
}

/**
 * Rebuilds SMP packets from a stream of notifications: a packet may be split anywhere, several packets may
 * share a notification. Memory is bounded by `maxPacket`. Bytes that cannot start a packet (impossible
 * header) are dropped together with the rest of the notification they came in — responses start at a
 * notification boundary, so the next notification resynchronises the stream.
 */
export class NotificationReassembler {
  readonly maxPacket: number;
  private buf: Uint8Array;
  private len = 0;
  /** Bytes thrown away as garbage so far. */
  droppedBytes = 0;

  constructor(options: ReassemblerOptions = {}) {
    this.maxPacket = Math.max(SMP_HEADER_SIZE, Math.min(MAX_SMP_PACKET, options.maxPacket ?? MAX_SMP_PACKET));
    this.buf = new Uint8Array(Math.min(this.maxPacket, 512));
  }

  /** Bytes of an incomplete packet held. */
  get pending(): number {
    return this.len;
  }

  /** Forgets any partial packet (e.g. on disconnect). */
  reset(): void {
    this.len = 0;
  }

  /** Feeds one notification; returns the packets it completed (each a fresh copy), in order. */
  push(data: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    let i = 0;
    while (i < data.length) {
      // Header first.
      if (this.len < SMP_HEADER_SIZE) {
        const n = Math.min(SMP_HEADER_SIZE - this.len, data.length - i);
        this.append(data, i, n);
        i += n;
        if (this.len < SMP_HEADER_SIZE) break;
        if (!plausibleSmpHeader(this.buf) || this.expected() > this.maxPacket) {
          this.droppedBytes += this.len + (data.length - i);
          this.len = 0;
          return out;
        }
      }
      const want = this.expected() - this.len;
      const n = Math.min(want, data.length - i);
      this.append(data, i, n);
      i += n;
      if (this.len === this.expected()) {
        out.push(this.buf.slice(0, this.len));
        this.len = 0;
      }
    }
    return out;
  }

  private expected(): number {
    return SMP_HEADER_SIZE + ((this.buf[2]! << 8) | this.buf[3]!);
  }

  private append(src: Uint8Array, off: number, n: number): void {
    if (n <= 0) return;
    if (this.len + n > this.buf.length) {
      const next = new Uint8Array(Math.min(this.maxPacket, Math.max(this.buf.length * 2, this.len + n)));
      next.set(this.buf.subarray(0, this.len));
      this.buf = next;
    }
    this.buf.set(src.subarray(off, off + n), this.len);
    this.len += n;
  }
}
