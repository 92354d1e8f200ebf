/**
 * MCUboot's raw serial recovery protocol (CONFIG_BOOT_SERIAL_RAW_PROTOCOL, boot_serial.c boot_serial_input_raw):
 * bare SMP packets delimited by their header's length. A packet with an op other than read or write, or larger than
 * the receive buffer, throws away everything buffered; so does a partial packet left alone for the input timeout.
 */
import { SMP_HEADER_SIZE } from '../../protocol/header.js';

export interface RawInputOptions {
  /** CONFIG_BOOT_SERIAL_MAX_RECEIVE_SIZE (the buffer holds one byte more). */
  maxReceiveSize: number;
  /** CONFIG_BOOT_SERIAL_RAW_PROTOCOL_INPUT_TIMEOUT_MS. */
  inputTimeoutMs: number;
}

export class RawInput {
  private buffered = new Uint8Array(0);
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly options: RawInputOptions) {}

  /** Feeds bytes; returns the complete requests. Every arrival restarts the input timeout. */
  push(bytes: Uint8Array): Uint8Array[] {
    const capacity = this.options.maxReceiveSize + 1;
    const room = capacity - this.buffered.length;
    const joined = new Uint8Array(this.buffered.length + Math.min(room, bytes.length));
    joined.set(this.buffered);
    joined.set(bytes.subarray(0, room), this.buffered.length);
    const packets: Uint8Array[] = [];
    let pos = 0;
    while (joined.length - pos >= SMP_HEADER_SIZE) {
      const op = joined[pos]! & 0x07;
      const size = SMP_HEADER_SIZE + ((joined[pos + 2]! << 8) | joined[pos + 3]!);
      if ((op !== 0 && op !== 2) || size > capacity) {
        pos = joined.length;
        break;
      }
      if (joined.length - pos < size) break;
      packets.push(joined.slice(pos, pos + size));
      pos += size;
    }
    this.buffered = joined.slice(pos);
    this.armTimeout();
    return packets;
  }

  close(): void {
    clearTimeout(this.timer);
  }

  private armTimeout(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.buffered.length === 0) return;
    this.timer = setTimeout(() => {
      this.buffered = new Uint8Array(0);
      this.timer = undefined;
    }, this.options.inputTimeoutMs);
    this.timer.unref?.();
  }
}
