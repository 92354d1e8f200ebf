/**
 * SMP over Web Serial (browsers): the serial framing of `StreamSerialTransport` on a `SerialPort`'s streams.
 * Typed with minimal local interfaces, so it neither needs the DOM library nor a browser to be tested.
 */
import { chooseDevice, errorMessage } from './browser-api.js';
import { TransportError } from './transport.js';
import { StreamSerialTransport, type SerialFramingOptions } from './stream-serial.js';

export interface WebSerialReader {
  read(): Promise<{ done: boolean; value?: Uint8Array }>;
  cancel(reason?: unknown): Promise<void>;
  releaseLock(): void;
}

export interface WebSerialWriter {
  write(chunk: Uint8Array): Promise<void>;
  abort(reason?: unknown): Promise<void>;
  releaseLock(): void;
}

/** What this transport uses of a Web Serial `SerialPort`. */
export interface WebSerialPort {
  open(options: { baudRate: number }): Promise<void>;
  close(): Promise<void>;
  readonly readable: { getReader(): WebSerialReader } | null;
  readonly writable: { getWriter(): WebSerialWriter } | null;
  addEventListener(type: 'disconnect', listener: () => void): void;
}

export interface WebSerialPortFilter {
  usbVendorId?: number;
  usbProductId?: number;
}

/** What this module uses of `navigator.serial`. */
export interface WebSerial {
  requestPort(options?: { filters?: WebSerialPortFilter[] }): Promise<WebSerialPort>;
}

export interface WebSerialTransportOptions extends SerialFramingOptions {
  /** Default 115200. */
  baudRate?: number;
}

/** Asks the user to pick a serial port (`navigator.serial.requestPort()`; must run in a user gesture). */
export function requestSerialPort(filters: WebSerialPortFilter[] = [], serial?: WebSerial): Promise<WebSerialPort> {
  return chooseDevice('serial', serial, (s) => s.requestPort(filters.length ? { filters } : {}));
}

/**
 * Reads the port until it is closed or lost. A non-fatal read error (break, parity, framing, overrun)
 * leaves a fresh `port.readable` behind, so reading goes on; a fatal one (device lost) leaves none.
 */
class PortReader {
  private reader: WebSerialReader | undefined;
  private stopping = false;
  readonly done: Promise<void>;

  constructor(
    private readonly port: WebSerialPort,
    onData: (bytes: Uint8Array) => void,
    onLost: (reason: string) => void,
  ) {
    this.done = this.pump(onData).then(
      (reason) => {
        if (reason && !this.stopping) onLost(reason);
      },
      (err: unknown) => onLost(errorMessage(err)),
    );
  }

  private async pump(onData: (bytes: Uint8Array) => void): Promise<string | undefined> {
    for (;;) {
      const readable = this.port.readable;
      if (!readable) return 'the port has no readable stream';
      const reader = readable.getReader();
      this.reader = reader;
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return this.stopping ? undefined : 'the port stopped sending';
          if (value?.length) onData(value);
        }
      } catch (err) {
        if (this.stopping) return undefined;
        if (this.port.readable === null || this.port.readable === readable) return errorMessage(err);
      } finally {
        reader.releaseLock();
      }
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.reader?.cancel().catch(() => undefined);
    await this.done;
  }
}

/**
 * Aborting the writer waits for the write in progress, which a port held by hardware flow control never
 * finishes; closing gives up waiting after this long (the browser then closes the port when the write ends).
 */
const WRITE_ABORT_GRACE_MS = 500;

function settledWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return Promise.race([promise.then(() => undefined), expired]).finally(() => clearTimeout(timer));
}

/** SMP over a Web Serial port, with the same framing, MTU and errors as the Node `SerialTransport`. */
export class WebSerialTransport extends StreamSerialTransport {
  private constructor(port: WebSerialPort, writer: WebSerialWriter, options: WebSerialTransportOptions) {
    let reader: PortReader | undefined;
    let lostListener: ((err: Error) => void) | undefined;
    let released: Promise<void> | undefined;
    // Also after a loss: the port must be closed before it can be opened again.
    const release = () =>
      (released ??= (async () => {
        await reader?.stop();
        const closed = writer
          .abort()
          .catch(() => undefined)
          .then(() => {
            writer.releaseLock();
            return port.close();
          })
          .catch(() => undefined);
        await settledWithin(closed, WRITE_ABORT_GRACE_MS);
      })());
    const lost = (reason: string) => {
      lostListener?.(new TransportError(`Serial port disconnected (${reason}); is the device still plugged in?`));
      void release();
    };
    super(
      {
        // A write to a port that went away fails before any 'disconnect' event: the link is lost all the same.
        write: (bytes: Uint8Array) =>
          writer.write(bytes).catch((err: unknown) => {
            lost(`a write failed: ${errorMessage(err)}`);
            throw err;
          }),
        onData: (cb) => {
          reader = new PortReader(port, cb, lost);
        },
        onClose: (cb) => {
          lostListener = cb;
          port.addEventListener('disconnect', () => lost('the device was unplugged'));
        },
        close: release,
      },
      options,
    );
  }

  /** Opens `port` (e.g. from `requestSerialPort()`). Rejects with a TransportError when it cannot be opened. */
  static async open(port: WebSerialPort, options: WebSerialTransportOptions = {}): Promise<WebSerialTransport> {
    const baudRate = options.baudRate ?? 115200;
    try {
      await port.open({ baudRate });
    } catch (err) {
      throw new TransportError(`Cannot open the serial port: ${errorMessage(err)} (is another program or tab using it?)`, {
        cause: err,
      });
    }
    if (!port.readable || !port.writable) {
      await port.close().catch(() => undefined);
      throw new TransportError('The serial port opened without readable and writable streams');
    }
    return new WebSerialTransport(port, port.writable.getWriter(), options);
  }
}
