/**
 * Serial ports as the operating system lists them, and finding a board among them by its USB identity (Node).
 * A USB CDC-ACM board that re-enumerates (reset, or a bootloader with its own product id) comes back under a
 * new path: it is found again by vendor id and serial number, not by the path it had.
 */
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { TransportError } from '../transport/transport.js';
import { UsageError } from './connect.js';

/** One port, as serialport's `SerialPort.list()` describes it (ids as lowercase hex, e.g. `2fe3`). */
export interface PortInfo {
  path: string;
  vendorId?: string;
  productId?: string;
  manufacturer?: string;
  serialNumber?: string;
}

export type PortsProvider = () => Promise<PortInfo[]>;

/** What identifies a USB board: `usb=VID:PID[,serial=SN]` in the connstring, or what the port opened first reported. */
export interface UsbIdentity {
  vendorId: string;
  productId?: string;
  serialNumber?: string;
}

/**
 * The ports of this computer. `MCUMGR_PORTS_FILE` names a JSON file holding such a list instead (what the tests
 * and `mcumgr-sim --usb` use, since no USB device exists where they run).
 */
export const systemPorts: PortsProvider = async () => {
  const file = process.env.MCUMGR_PORTS_FILE;
  let list: Partial<Record<keyof PortInfo, unknown>>[];
  if (file) {
    try {
      list = JSON.parse(readFileSync(file, 'utf8')) as typeof list;
    } catch (err) {
      throw new TransportError(`cannot read the port list ${file} (MCUMGR_PORTS_FILE): ${(err as Error).message}`);
    }
  } else {
    // serialport lists Linux ports through udevadm, and an absent udevadm kills the process (an unhandled spawn error).
    if (process.platform === 'linux' && !onPath('udevadm')) throw new TransportError('listing serial ports needs udevadm (Debian: apt-get install udev)');
    const { SerialPort } = await import('serialport');
    list = await SerialPort.list();
  }
  return list.map((p) => ({
    path: String(p.path),
    ...(p.vendorId ? { vendorId: normalizeId(String(p.vendorId)) } : {}),
    ...(p.productId ? { productId: normalizeId(String(p.productId)) } : {}),
    ...(p.manufacturer ? { manufacturer: String(p.manufacturer) } : {}),
    ...(p.serialNumber ? { serialNumber: String(p.serialNumber) } : {}),
  }));
};

function onPath(program: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir && existsSync(join(dir, program)));
}

/**
 * Whether `path` names a port that USB may take away and give back under another name (CDC-ACM, USB-serial
 * adapters; COM ports on Windows): only those are looked up in the port list when opened by path.
 */
export function mayBeUsb(path: string): boolean {
  return /^\/dev\/(ttyACM|ttyUSB|cu\.usb|tty\.usb|serial\/by-id\/)/.test(path) || /^COM\d+$/i.test(path) || Boolean(process.env.MCUMGR_PORTS_FILE);
}

/** Windows reports `2FE3`, Linux `2fe3`, some tools `0x2fe3`. */
function normalizeId(id: string): string {
  return id.replace(/^0x/i, '').toLowerCase().padStart(4, '0');
}

/** `2fe3:0100` (hex, as lsusb prints it) into an identity; `serial` when given. */
export function parseUsbId(text: string, serialNumber?: string): UsbIdentity {
  const m = /^(?:0x)?([0-9a-f]{1,4}):(?:0x)?([0-9a-f]{1,4})$/i.exec(text.trim());
  const v = /^(?:0x)?([0-9a-f]{1,4})$/i.exec(text.trim());
  if (!m && !v) throw new UsageError(`Invalid usb "${text}" in connstring: expected VID:PID in hex, e.g. usb=2fe3:0100`);
  return {
    vendorId: normalizeId((m ?? v)![1]!),
    ...(m ? { productId: normalizeId(m[2]!) } : {}),
    ...(serialNumber ? { serialNumber } : {}),
  };
}

export function formatUsbId(p: { vendorId?: string; productId?: string }): string {
  return p.vendorId ? `${p.vendorId}:${p.productId ?? '????'}` : '-';
}

/**
 * The ports that are this board. With a serial number the product id may differ: a board's bootloader often
 * enumerates with another PID than its application, under the same serial number.
 */
export function matchPorts(ports: PortInfo[], id: UsbIdentity): PortInfo[] {
  return ports.filter((p) => {
    if (p.vendorId !== id.vendorId) return false;
    if (id.serialNumber !== undefined) return p.serialNumber === id.serialNumber;
    return id.productId === undefined || p.productId === id.productId;
  });
}

function describePort(p: PortInfo): string {
  return `${p.path} (${[formatUsbId(p), p.manufacturer, p.serialNumber && `serial ${p.serialNumber}`].filter(Boolean).join(', ')})`;
}

function describeId(id: UsbIdentity): string {
  return `${id.vendorId}:${id.productId ?? '*'}${id.serialNumber !== undefined ? ` serial ${id.serialNumber}` : ''}`;
}

/** The one path of the board `id`; a TransportError listing the ports when none matches, a UsageError when several do. */
export async function findUsbPort(provider: PortsProvider, id: UsbIdentity): Promise<PortInfo> {
  const ports = await provider();
  const found = matchPorts(ports, id);
  if (found.length === 1) return found[0]!;
  if (found.length === 0) {
    const seen = ports.length === 0 ? 'no serial ports at all' : `these ports:\n${ports.map((p) => `  ${describePort(p)}`).join('\n')}`;
    throw new TransportError(`No serial port of USB device ${describeId(id)} (is it connected?); found ${seen}`);
  }
  throw new UsageError(
    `${found.length} serial ports match USB device ${describeId(id)}:\n${found.map((p) => `  ${describePort(p)}`).join('\n')}\n` +
      'add serial=SN (from `mcumgr ports`) to the connstring to choose one',
  );
}

/** The USB identity of the port at `path`, when the list knows it as a USB port. */
export async function identityOf(provider: PortsProvider, path: string): Promise<UsbIdentity | undefined> {
  const p = (await provider()).find((x) => x.path === path);
  if (!p?.vendorId) return undefined;
  return { vendorId: p.vendorId, ...(p.productId ? { productId: p.productId } : {}), ...(p.serialNumber ? { serialNumber: p.serialNumber } : {}) };
}

/**
 * macOS lists every port twice: `/dev/tty.*` waits for carrier detect on open (a board without DCD blocks it
 * forever), `/dev/cu.*` does not. Windows names (`COM3`) pass as they are.
 */
export function preferredPortPath(path: string, platform: NodeJS.Platform = process.platform): string {
  if (platform === 'darwin' && path.startsWith('/dev/tty.')) return `/dev/cu.${path.slice('/dev/tty.'.length)}`;
  return path;
}
