/** Serial transports (Node): SMP serial framing (§3.1) or raw packets (§3.1.7) over a serial port. */
import { existsSync } from 'node:fs';
import { TransportError } from '../transport/transport.js';
import { StreamSerialTransport, type SerialFramingOptions } from '../transport/stream-serial.js';
import { requireOptional } from './optional.js';

export { StreamSerialTransport, type ByteChannel, type SerialFramingOptions } from '../transport/stream-serial.js';

/** The parts of `serialport`'s SerialPort used here (structural: the package is optional). */
export interface NodeSerialPort {
  readonly isOpen: boolean;
  open(callback: (err: Error | null) => void): void;
  write(data: Buffer, callback: (err: Error | null | undefined) => void): boolean;
  drain(callback: (err: Error | null) => void): void;
  close(callback: (err?: Error | null) => void): void;
  set(lines: { dtr?: boolean; rts?: boolean }, callback: (err: Error | null) => void): void;
  on(event: string, listener: (...args: any[]) => void): this;
}

interface SerialPortModule {
  SerialPort: new (options: { path: string; baudRate: number; autoOpen: boolean }) => NodeSerialPort;
}

export interface SerialTransportOptions extends SerialFramingOptions {
  path: string;
  baudRate?: number;
  /** DTR and RTS once the port is open (default: as the system opens it, usually both on). */
  dtr?: boolean;
  rts?: boolean;
}

function notFound(path: string): TransportError {
  return new TransportError(`Serial port ${path} not found (is the device connected? is the path right?)`);
}

/** SMP over a serial port (the `serialport` package). */
export class SerialTransport extends StreamSerialTransport {
  readonly path: string;
  readonly baudRate: number;
  private readonly port: NodeSerialPort;

  private constructor(port: NodeSerialPort, options: SerialTransportOptions) {
    super(
      {
        write: (bytes: Uint8Array) =>
          new Promise<void>((resolve, reject) => {
            port.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), (err) => {
              if (err) return reject(err);
              port.drain((err2) => (err2 ? reject(err2) : resolve()));
            });
          }),
        onData: (cb) => port.on('data', (d: Buffer) => cb(new Uint8Array(d.buffer, d.byteOffset, d.byteLength))),
        onClose: (cb) => {
          port.on('close', (err?: Error | null) => cb(err ? new TransportError(`Serial port ${options.path} closed: ${err.message}`) : undefined));
          port.on('error', (err: Error) => cb(new TransportError(`Serial port ${options.path}: ${err.message}`)));
        },
        close: () =>
          new Promise<void>((resolve) => {
            if (!port.isOpen) return resolve();
            port.close(() => resolve());
          }),
      },
      options,
    );
    this.port = port;
    this.path = options.path;
    this.baudRate = options.baudRate ?? 115200;
  }

  /** Opens the serial port. Rejects with a TransportError (e.g. "Serial port X not found ...") on failure. */
  static async open(options: SerialTransportOptions): Promise<SerialTransport> {
    const { path } = options;
    const { SerialPort } = requireOptional<SerialPortModule>('serialport', 'A serial port');
    if (process.platform !== 'win32' && !existsSync(path)) throw notFound(path);
    const port = new SerialPort({ path, baudRate: options.baudRate ?? 115200, autoOpen: false });
    await new Promise<void>((resolve, reject) => {
      port.open((err) => {
        if (!err) return resolve();
        const msg = err.message ?? String(err);
        if (/ENOENT|No such file|not found|cannot find/i.test(msg)) reject(notFound(path));
        else reject(new TransportError(`Cannot open serial port ${path}: ${msg}`));
      });
    });
    if (options.dtr !== undefined || options.rts !== undefined) {
      const lines = { ...(options.dtr !== undefined ? { dtr: options.dtr } : {}), ...(options.rts !== undefined ? { rts: options.rts } : {}) };
      await new Promise<void>((resolve, reject) =>
        port.set(lines, (err) => (err ? reject(new TransportError(`Cannot set DTR/RTS on ${path}: ${err.message}`)) : resolve())),
      ).catch(async (err: unknown) => {
        await new Promise<void>((r) => port.close(() => r()));
        throw err;
      });
    }
    return new SerialTransport(port, options);
  }

  /** The underlying `serialport` SerialPort. */
  get serialPort(): NodeSerialPort {
    return this.port;
  }
}
