/**
 * MCUboot serial recovery's console framing, as boot_serial.c reads it (boot_serial_read_console,
 * boot_serial_in_dec) behind Zephyr's line-buffered UART adapter: each line is base64-decoded by itself into one
 * receive buffer, and a packet is handed over once the decoded length matches and the CRC is right. What does not
 * fit is dropped without an answer.
 */
import { base64Decode, crc16, encodeSerialFrames } from '../../transport/serial-framing.js';

const START = [0x06, 0x09];
const CONTINUATION = [0x04, 0x14];
const NEWLINE = 0x0a;

export interface ConsoleInputOptions {
  /** CONFIG_BOOT_SERIAL_MAX_RECEIVE_SIZE (the decode buffer holds one byte more). */
  maxReceiveSize: number;
  /** CONFIG_BOOT_MAX_LINE_INPUT_LEN: longer lines are cut by the UART adapter, so they never decode. */
  lineLength: number;
}

export class ConsoleInput {
  private line: number[] = [];
  private lineTooLong = false;
  private decoded = new Uint8Array(0);

  constructor(private readonly options: ConsoleInputOptions) {}

  /** Feeds bytes from the line; returns the complete requests (SMP packets) they finish. */
  push(bytes: Uint8Array): Uint8Array[] {
    const packets: Uint8Array[] = [];
    for (const byte of bytes) {
      if (byte !== NEWLINE) {
        if (this.line.length < this.options.lineLength) this.line.push(byte);
        else this.lineTooLong = true;
        continue;
      }
      const line = this.line;
      const cut = this.lineTooLong || line.length + 1 > this.options.lineLength;
      this.line = [];
      this.lineTooLong = false;
      if (cut) continue;
      const packet = this.handleLine(Uint8Array.from(line));
      if (packet) packets.push(packet);
    }
    return packets;
  }

  private handleLine(line: Uint8Array): Uint8Array | undefined {
    const marker = [line[0], line[1]];
    const isStart = marker[0] === START[0] && marker[1] === START[1];
    if (!isStart && !(marker[0] === CONTINUATION[0] && marker[1] === CONTINUATION[1])) return undefined;
    if (isStart) this.decoded = new Uint8Array(0);
    // A line that is not whole base64 (a '\r' before the '\n', a split inside a 4-character group) is lost.
    const piece = base64Decode(line, 2);
    if (!piece) return undefined;
    const capacity = this.options.maxReceiveSize + 1;
    if (this.decoded.length + piece.length > capacity) return undefined;
    const joined = new Uint8Array(this.decoded.length + piece.length);
    joined.set(this.decoded);
    joined.set(piece, this.decoded.length);
    this.decoded = joined;
    if (joined.length <= 2) return undefined;
    const length = (joined[0]! << 8) | joined[1]!;
    if (length !== joined.length - 2) return undefined;
    const framed = joined.subarray(2);
    if (length <= 2 || crc16(framed) !== 0) return undefined;
    return framed.slice(0, length - 2);
  }
}

/** boot_serial_output(): the reply framed in lines of at most 124 base64 characters, as any SMP serial peer does. */
export function encodeConsoleResponse(packet: Uint8Array): Uint8Array {
  return encodeSerialFrames(packet, 127);
}
