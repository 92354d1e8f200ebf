/**
 * The device's serial line with both personalities on it: while MCUboot is in serial recovery the bytes go to its
 * line reader (console or raw framing, as boot_serial reads them), otherwise to the application's SMP transport.
 */
import { StreamSerialTransport } from '../../transport/stream-serial.js';
import type { SmpTransport } from '../../transport/transport.js';
import { deviceSerialOptions } from '../config.js';
import type { VirtualDevice } from '../device.js';
import { ConsoleInput, encodeConsoleResponse } from './console-input.js';
import { RawInput } from './raw-input.js';

export interface SerialLine {
  write(bytes: Uint8Array): Promise<void>;
  onData(cb: (bytes: Uint8Array) => void): void;
  onClose(cb: (error?: Error) => void): void;
  close(): void;
}

export interface SerialPortOptions {
  /** Raw framing: Zephyr's CONFIG_MCUMGR_TRANSPORT_RAW_UART and MCUboot's CONFIG_BOOT_SERIAL_RAW_PROTOCOL. */
  raw: boolean;
  /** Wraps the application's transport (link emulation). */
  wrap?: (transport: SmpTransport) => SmpTransport;
}

export interface SerialPort {
  /** The application's transport (closing it closes the line). */
  transport: StreamSerialTransport;
  /** Settles when the recovery requests received so far are answered. */
  handled(): Promise<void>;
}

/** Serves `line` for `device`. */
export function serveSerialLine(device: VirtualDevice, line: SerialLine, options: SerialPortOptions): SerialPort {
  let toApplication: (bytes: Uint8Array) => void = () => undefined;
  const transport = new StreamSerialTransport(
    { write: (bytes: Uint8Array) => line.write(bytes), onData: (cb) => (toApplication = cb), onClose: (cb) => line.onClose(cb), close: () => line.close() },
    { ...deviceSerialOptions(device.config), raw: options.raw },
  );
  // Zephyr's raw UART transport has its UART to itself (the console is elsewhere): no boot banner on this line.
  const console = options.raw ? async () => undefined : (text: Uint8Array) => line.write(text);
  device.attachSerial(options.wrap ? options.wrap(transport) : transport, console);
  const recovery = device.recovery;
  let reader: { entries: number; input: ConsoleInput | RawInput } | undefined;
  let handled = Promise.resolve();
  /** A request is being handled. */
  let busy = false;
  line.onData((bytes) => {
    if (!recovery?.active) {
      toApplication(bytes);
      return;
    }
    if (reader?.entries !== recovery.entries) {
      if (reader?.input instanceof RawInput) reader.input.close();
      const c = recovery.config;
      reader = {
        entries: recovery.entries,
        input: options.raw
          ? new RawInput({ maxReceiveSize: c.maxReceiveSize, inputTimeoutMs: c.rawInputTimeoutMs })
          : new ConsoleInput({ maxReceiveSize: c.maxReceiveSize, lineLength: c.lineLength }),
      };
    }
    // MCUboot handles one request at a time, reading its input in the same loop (boot_serial.c,
    // boot_serial_read_console): a request completed while one is handled (its flash work) is lost; the requests one
    // read brought in together are handled in turn.
    const requests = reader.input.push(bytes);
    if (busy) return;
    for (const request of requests) {
      busy = true;
      handled = handled.then(async () => {
        busy = true;
        const responses = await recovery.handle(request).finally(() => (busy = false));
        for (const response of responses) {
          await line.write(options.raw ? response : encodeConsoleResponse(response)).catch(() => undefined);
        }
      });
    }
  });
  line.onClose(() => {
    if (reader?.input instanceof RawInput) reader.input.close();
  });
  return { transport, handled: () => handled };
}
