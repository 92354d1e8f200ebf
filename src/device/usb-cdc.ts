/**
 * The virtual device's serial port as a USB CDC-ACM board presents it: a reset takes the port away (the host's
 * open port fails) and the board enumerates again under a new path with the same USB identity, as a Zephyr board
 * with CONFIG_USB_CDC_ACM does (new ttyACM number on Linux, new COM port on Windows). The port list the host would
 * see is kept in a JSON file (serialport's `list()` shape) that `mcumgr` reads through MCUMGR_PORTS_FILE.
 */
import { writeFileSync } from 'node:fs';
import type { Pty } from '../node/pty.js';
import { StreamSerialTransport } from '../transport/stream-serial.js';
import type { SmpTransport } from '../transport/transport.js';
import { deviceSerialOptions } from './config.js';
import type { VirtualDevice } from './device.js';

export interface UsbIdentity {
  vendorId: string;
  productId: string;
  serialNumber?: string;
  manufacturer?: string;
}

/** `2fe3:0100[,serial=SN][,manufacturer=NAME]` (IDs in hex, as lsusb prints them). */
export function parseUsbSpec(text: string): UsbIdentity {
  const [ids, ...rest] = text.split(',');
  const m = /^([0-9a-f]{4}):([0-9a-f]{4})$/i.exec(ids ?? '');
  if (!m) throw new Error(`--usb "${text}": expected VID:PID in hex, e.g. 2fe3:0100,serial=ABC123`);
  const id: UsbIdentity = { vendorId: m[1]!.toLowerCase(), productId: m[2]!.toLowerCase() };
  for (const item of rest) {
    const [key, value] = [item.slice(0, item.indexOf('=')), item.slice(item.indexOf('=') + 1)];
    if (key === 'serial') id.serialNumber = value;
    else if (key === 'manufacturer') id.manufacturer = value;
    else throw new Error(`--usb "${text}": unknown setting "${item}" (serial=, manufacturer=)`);
  }
  return id;
}

export class UsbCdcPort {
  private current: { pty: Pty; transport: SmpTransport } | undefined;
  /** Allocated ahead, so the next enumeration gets another path than the one the host still holds. */
  private spare: Pty | undefined;
  private closed = false;

  constructor(
    private readonly device: VirtualDevice,
    private readonly identity: UsbIdentity,
    private readonly portsFile: string | undefined,
    private readonly wrap: (raw: SmpTransport) => SmpTransport,
    private readonly announce: (path: string) => void,
    /** pty.ts's openPty (node-pty is loaded only by a device that serves a port). */
    private readonly openPty: () => Pty,
  ) {
    device.onReset(() => {
      if (!this.closed) this.enumerate();
    });
  }

  /** Plugs the board in: a port appears in the list and answers SMP. */
  enumerate(): void {
    const pty = this.spare ?? this.openPty();
    this.spare = this.openPty();
    const raw = new StreamSerialTransport(pty, deviceSerialOptions(this.device.config));
    const transport = this.wrap(raw);
    // A reboot closes the link: the board leaves the bus until it enumerates again.
    transport.onClose(() => {
      if (this.current?.transport === transport) this.current = undefined;
      pty.close();
      this.writeList();
    });
    this.device.attachConnection(transport);
    this.current = { pty, transport };
    this.writeList();
    this.announce(pty.path);
  }

  private writeList(): void {
    if (!this.portsFile) return;
    const { vendorId, productId, serialNumber, manufacturer } = this.identity;
    const ports = this.current
      ? [{ path: this.current.pty.path, vendorId, productId, serialNumber, manufacturer, pnpId: undefined, locationId: undefined }]
      : [];
    writeFileSync(this.portsFile, JSON.stringify(ports, null, 2));
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.current?.transport.close().catch(() => undefined);
    this.spare?.close();
    this.spare = undefined;
  }
}
