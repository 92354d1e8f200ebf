/** SMP over any byte stream with serial framing (§3.1) or raw packets (§3.1.7). Pure: usable in browsers. */
import { TransportError, type SmpTransport } from './transport.js';
import { encodeSerialFrames, type FramingError, RawPacketDecoder, SerialFrameDecoder, SERIAL_MAX_PACKET } from './serial-framing.js';

export interface SerialFramingOptions {
  /** Largest SMP packet (header + payload) we send. Default 512. */
  mtu?: number;
  /** Raw UART mode: no base64/CRC framing, packets delimited by the SMP header. Default false. */
  raw?: boolean;
  /**
   * Raw mode: the device's input timeout, which a resend waits out (Zephyr's raw UART transport and MCUboot's
   * CONFIG_BOOT_SERIAL_RAW_PROTOCOL_INPUT_TIMEOUT_MS; default 3000).
   */
  inputTimeoutMs?: number;
  /** Longest serial line, marker and '\n' included. Default 127. */
  lineLength?: number;
  /** Largest SMP packet accepted from the peer. Default 65533. */
  maxReceivePacket?: number;
  /** Pause between the lines of one packet (the Go CLI uses 20 ms). Default 0. */
  interFrameDelayMs?: number;
  /** Called for every dropped incoming frame (bad CRC, bad base64 ...). */
  onFramingError?: (err: FramingError) => void;
  /** Decode each incoming frame's base64 on its own, as a Zephyr device does (see SerialFrameDecoder). */
  framesDecodedAlone?: boolean;
}

/** Any byte channel: either `{write, onData, onClose?, close?}` or a Node-stream-like `{write, on('data')}`. */
export type ByteChannel =
  | {
      write(bytes: Uint8Array): unknown;
      onData(cb: (bytes: Uint8Array) => void): void;
      onClose?(cb: (error?: Error) => void): void;
      close?(): unknown;
    }
  | {
      write(bytes: Uint8Array, cb?: (err?: Error | null) => void): unknown;
      on(event: 'data', cb: (bytes: Uint8Array) => void): unknown;
      on(event: 'close', cb: () => void): unknown;
      on(event: 'error', cb: (err: Error) => void): unknown;
      end?(): unknown;
      destroy?(): unknown;
    };

/** Silence after which a partial raw packet is thrown away. */
const RAW_STALE_MS = 500;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** SMP over any byte stream using serial framing (or raw mode). */
export class StreamSerialTransport implements SmpTransport {
  readonly mtu: number;
  /** The frame's length and CRC (none in raw mode). */
  readonly framingOverhead: number;
  readonly raw: boolean;
  readonly resendQuietMs: number;
  readonly lineLength: number;
  private readonly interFrameDelayMs: number;
  private readonly decoder: SerialFrameDecoder | RawPacketDecoder;
  private packetListeners: ((packet: Uint8Array) => void)[] = [];
  private closeListeners: ((error?: Error) => void)[] = [];
  private closed = false;
  private sendChain: Promise<void> = Promise.resolve();
  private lastReceiveAt = 0;

  constructor(
    private readonly channel: ByteChannel,
    options: SerialFramingOptions = {},
  ) {
    this.mtu = options.mtu ?? 512;
    this.raw = options.raw ?? false;
    this.framingOverhead = this.raw ? 0 : 4;
    this.resendQuietMs = this.raw ? (options.inputTimeoutMs ?? 3000) : 0;
    this.lineLength = options.lineLength ?? 127;
    this.interFrameDelayMs = options.interFrameDelayMs ?? 0;
    const maxPacket = options.maxReceivePacket ?? SERIAL_MAX_PACKET;
    const onError = options.onFramingError;
    this.decoder = this.raw
      ? new RawPacketDecoder({ maxPacket: maxPacket + 8, ...(onError ? { onError } : {}) })
      : new SerialFrameDecoder({
          maxPacket,
          maxLineLength: Math.max(8192, this.lineLength * 2),
          framesDecodedAlone: options.framesDecodedAlone ?? false,
          ...(onError ? { onError } : {}),
        });
    const onData = (bytes: Uint8Array) => this.receive(bytes);
    if ('onData' in channel) {
      channel.onData(onData);
      channel.onClose?.((err) => this.finish(err));
    } else {
      channel.on('data', onData);
      channel.on('close', () => this.finish());
      channel.on('error', (err: Error) => this.finish(new TransportError(`Serial link error: ${err.message}`)));
    }
  }

  /** Feeds bytes from the link (exposed for adapters). */
  receive(bytes: Uint8Array): void {
    if (this.closed) return;
    const now = performance.now();
    // Raw packets carry no start marker: a partial packet (garbage read as a header) that the line left alone for
    // a while is dropped, so the next packet is read from its first byte. A device writes each packet at once.
    if (this.raw && now - this.lastReceiveAt > RAW_STALE_MS) this.decoder.reset();
    this.lastReceiveAt = now;
    const packets = this.decoder.push(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes));
    for (const p of packets) for (const l of this.packetListeners) l(p);
  }

  send(packet: Uint8Array): Promise<void> {
    if (this.closed) return Promise.reject(new TransportError('Serial transport is closed'));
    if (packet.length > this.mtu) {
      return Promise.reject(new TransportError(`SMP packet of ${packet.length} bytes exceeds the transport MTU of ${this.mtu}`));
    }
    const run = async () => {
      if (this.raw) {
        await this.writeBytes(packet.slice());
        return;
      }
      const framed = encodeSerialFrames(packet, this.lineLength);
      if (this.interFrameDelayMs <= 0) {
        await this.writeBytes(framed);
        return;
      }
      let start = 0;
      while (start < framed.length) {
        const nl = framed.indexOf(0x0a, start);
        await this.writeBytes(framed.subarray(start, nl + 1));
        start = nl + 1;
        if (start < framed.length) await sleep(this.interFrameDelayMs);
      }
    };
    const p = this.sendChain.then(run);
    this.sendChain = p.catch(() => undefined);
    return p;
  }

  private writeBytes(bytes: Uint8Array): Promise<void> {
    if (this.closed) return Promise.reject(new TransportError('Serial transport is closed'));
    const ch = this.channel;
    if ('onData' in ch) {
      return Promise.resolve(ch.write(bytes)).then(
        () => undefined,
        (err: unknown) => {
          throw new TransportError(`Serial write failed: ${err instanceof Error ? err.message : String(err)}`);
        },
      );
    }
    return new Promise<void>((resolve, reject) => {
      ch.write(bytes, (err) => {
        if (err) reject(new TransportError(`Serial write failed: ${err.message}`));
        else resolve();
      });
    });
  }

  onPacket(listener: (packet: Uint8Array) => void): void {
    this.packetListeners.push(listener);
  }

  onClose(listener: (error?: Error) => void): void {
    this.closeListeners.push(listener);
  }

  /** Marks the transport closed and notifies listeners once. */
  protected finish(error?: Error): void {
    if (this.closed) return;
    this.closed = true;
    for (const l of this.closeListeners.splice(0)) l(error);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    const ch = this.channel;
    this.finish();
    if ('onData' in ch) await ch.close?.();
    else if (ch.destroy) ch.destroy();
    else ch.end?.();
  }
}
