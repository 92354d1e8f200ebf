/** Opens the transport named by the global options / connection profile. */
import { SERIAL_MAX_PACKET } from '../transport/serial-framing.js';
import type { SmpTransport } from '../transport/transport.js';
import { findUsbPort, identityOf, mayBeUsb, parseUsbId, preferredPortPath, systemPorts, type PortsProvider, type UsbIdentity } from './ports.js';
import { readProfiles } from './profiles.js';

/** An error in what the user typed (exit status 64). */
export class UsageError extends Error {
  override name = 'UsageError';
}

export interface ConnOptions {
  conn?: string;
  conntype?: string;
  connstring?: string;
  connextra?: string;
  /** BLE: the peer's advertised name, overriding the connstring's peer_name (Go's --name). */
  name?: string;
}

export interface ConnSpec {
  name: string;
  type: string;
  connstring: string;
}

/** Resolves the profile and the overrides, as the Go tool does. */
export function resolveConnection(o: ConnOptions): ConnSpec {
  let spec: ConnSpec = { name: 'unnamed', type: '', connstring: '' };
  if (o.conn) {
    const p = readProfiles().find((x) => x.MyName === o.conn);
    if (!p) throw new UsageError(`Unknown connection profile: ${o.conn} (see \`mcumgr conn show\`)`);
    spec = { name: p.MyName, type: p.MyType, connstring: p.MyConnString };
  }
  if (o.conntype) spec.type = o.conntype;
  if (o.connstring !== undefined) spec.connstring = o.connstring;
  if (o.connextra) spec.connstring = spec.connstring ? `${spec.connstring},${o.connextra}` : o.connextra;
  // A later peer_name wins, so --name overrides the profile's or the connstring's.
  if (o.name && spec.type === 'ble') spec.connstring = spec.connstring ? `${spec.connstring},peer_name=${o.name}` : `peer_name=${o.name}`;
  if (!spec.type) throw new UsageError('No connection type specified (use --conntype serial|udp|ble --connstring ..., or -c PROFILE)');
  return spec;
}

export interface SerialParams {
  /** The port's path (`/dev/ttyACM0`, `COM3`, `/dev/cu.usbmodem1101`); empty when `usb` chooses it. */
  dev: string;
  baud: number;
  /** Largest request; without it, requests fill the buffer the device reports (`os params`). */
  mtu?: number;
  /** `usb=VID:PID[,serial=SN]`: the port of that USB device, whatever its path. */
  usb?: UsbIdentity;
  /** Modem lines set once the port is open (some boards reset or enter their bootloader on them). */
  dtr?: boolean;
  rts?: boolean;
  /** `framing=raw`: bare SMP packets (Zephyr's raw UART transport, MCUboot's raw recovery protocol). */
  raw?: boolean;
}

function parseLine(key: string, value: string): boolean {
  if (/^(1|on|true|high)$/i.test(value)) return true;
  if (/^(0|off|false|low)$/i.test(value)) return false;
  throw new UsageError(`Invalid ${key} "${value}" in connstring (on or off)`);
}

/** `dev=/dev/ttyACM0,baud=115200,mtu=512` or `usb=2fe3:0100,serial=SN` (and `framing=console|raw`); a bare token is the device path. */
export function parseSerialConnstring(s: string): SerialParams {
  const out: SerialParams = { dev: '', baud: 115200 };
  let usb: string | undefined;
  let serialNumber: string | undefined;
  for (const [key, value] of connstringPairs(s, 'serial', ['dev', 'baud', 'mtu', 'usb', 'serial', 'dtr', 'rts', 'framing'], 'dev')) {
    if (key === 'dev') out.dev = value;
    else if (key === 'framing') {
      if (value !== 'console' && value !== 'raw') throw new UsageError(`Invalid framing "${value}" in connstring (console or raw)`);
      out.raw = value === 'raw';
    } else if (key === 'usb') usb = value;
    else if (key === 'serial') serialNumber = value;
    else if (key === 'dtr' || key === 'rts') out[key] = parseLine(key, value);
    else {
      const n = Number(value);
      if (!Number.isInteger(n) || n <= 0) throw new UsageError(`Invalid ${key} "${value}" in connstring`);
      out[key as 'baud' | 'mtu'] = n;
    }
  }
  if (serialNumber !== undefined && usb === undefined) throw new UsageError('serial= in the connstring needs usb=VID:PID (e.g. usb=2fe3:0100,serial=SN)');
  if (usb !== undefined) {
    if (out.dev) throw new UsageError('Give dev= or usb= in the connstring, not both');
    out.usb = parseUsbId(usb, serialNumber);
  }
  if (!out.dev && !out.usb) throw new UsageError('Serial connstring lacks a device: use --connstring dev=/dev/ttyACM0 (or usb=VID:PID, see `mcumgr ports`)');
  return out;
}

/**
 * The USB identity of the board a command talks to, learnt when its port is first opened: a later open (after
 * a reset that re-enumerated the board) looks the board up by it instead of the path it had.
 */
export interface SerialSession {
  usb?: UsbIdentity;
}

/** The path to open for `p`; finds a `usb=` board, or a board seen before, in the port list. */
export async function serialPath(p: SerialParams, session: SerialSession = {}, ports: PortsProvider = systemPorts): Promise<string> {
  const id = session.usb ?? p.usb;
  if (!id) {
    const dev = preferredPortPath(p.dev);
    if (mayBeUsb(dev)) session.usb = await identityOf(ports, dev).catch(() => undefined);
    return dev;
  }
  const port = await findUsbPort(ports, id);
  // Remember what the port says of itself: with its serial number a bootloader under another PID is found too.
  session.usb = {
    vendorId: port.vendorId!,
    ...(port.productId ? { productId: port.productId } : {}),
    ...((port.serialNumber ?? id.serialNumber) ? { serialNumber: port.serialNumber ?? id.serialNumber } : {}),
  };
  return preferredPortPath(port.path);
}

/** Splits `key=value,key=value` (a bare token becomes `bareKey`), rejecting keys not in `known`. */
function connstringPairs(s: string, kind: string, known: string[], bareKey?: string): [string, string][] {
  const pairs: [string, string][] = [];
  for (const part of s.split(',')) {
    const item = part.trim();
    if (!item) continue;
    const eq = item.indexOf('=');
    if (eq < 0 && bareKey) {
      pairs.push([bareKey, item]);
      continue;
    }
    const key = (eq < 0 ? item : item.slice(0, eq)).trim();
    if (!known.includes(key)) throw new UsageError(`Unrecognized key in connstring: ${key} (${kind} keys: ${known.join(', ')})`);
    pairs.push([key, eq < 0 ? '' : item.slice(eq + 1).trim()]);
  }
  return pairs;
}

export interface BleParams {
  peerName?: string;
  peerId?: string;
  /** HCI controller number (`ctlr_name=hci1` → 1). */
  hciDevice?: number;
  /** Scan and connect timeout in seconds (`conn_timeout`); default the global -t. */
  connTimeout?: number;
}

const OWN_ADDR_TYPES = ['public', 'random', 'rpa_pub', 'rpa_rnd'];

/**
 * The Go tool's BLE connstring: `peer_name=NAME` or `peer_id=ADDRESS`, and optionally `ctlr_name=hci0`,
 * `own_addr_type=public|random|rpa_pub|rpa_rnd` (accepted for compatibility; noble chooses the address type)
 * and `conn_timeout=SECONDS`.
 */
export function parseBleConnstring(s: string): BleParams {
  const out: BleParams = {};
  for (const [key, value] of connstringPairs(s, 'ble', ['peer_name', 'peer_id', 'ctlr_name', 'own_addr_type', 'conn_timeout'])) {
    if (key === 'peer_name') out.peerName = value;
    else if (key === 'peer_id') out.peerId = value;
    else if (key === 'ctlr_name') {
      const m = /^(?:hci)?(\d+)$/.exec(value);
      if (!m) throw new UsageError(`Invalid ctlr_name "${value}" in connstring (an HCI controller such as hci0)`);
      out.hciDevice = Number(m[1]);
    } else if (key === 'own_addr_type') {
      if (!OWN_ADDR_TYPES.includes(value)) throw new UsageError(`Invalid own_addr_type "${value}" in connstring (${OWN_ADDR_TYPES.join(', ')})`);
    } else {
      const t = Number(value);
      if (value === '' || !Number.isFinite(t) || t <= 0) throw new UsageError(`Invalid conn_timeout "${value}" in connstring (seconds)`);
      out.connTimeout = t;
    }
  }
  if (!out.peerName && !out.peerId) throw new UsageError('BLE connstring lacks a peer: use --connstring peer_name=NAME or peer_id=ADDRESS (or --name NAME)');
  return out;
}

export async function openTransport(spec: ConnSpec, o: { timeoutMs: number; serial?: SerialSession }): Promise<SmpTransport> {
  switch (spec.type) {
    case 'udp': {
      if (!spec.connstring) throw new UsageError('UDP connstring must be host:port, e.g. --connstring 192.168.1.10:1337');
      const { UdpTransport } = await import('../node/udp.js');
      return UdpTransport.connect(spec.connstring);
    }
    case 'serial': {
      const p = parseSerialConnstring(spec.connstring);
      const { SerialTransport } = await import('../node/serial.js');
      const path = await serialPath(p, o.serial);
      return SerialTransport.open({
        path,
        baudRate: p.baud,
        mtu: p.mtu ?? SERIAL_MAX_PACKET,
        ...(p.dtr !== undefined ? { dtr: p.dtr } : {}),
        ...(p.rts !== undefined ? { rts: p.rts } : {}),
        raw: p.raw ?? false,
      });
    }
    case 'ble': {
      const p = parseBleConnstring(spec.connstring);
      const { connectNoble } = await import('../node/ble-noble.js');
      return connectNoble({ ...p, timeoutMs: p.connTimeout !== undefined ? Math.round(p.connTimeout * 1000) : o.timeoutMs });
    }
    case 'bhd':
      throw new UsageError('Connection type bhd (the blehostd helper) is not supported: use --conntype ble');
    default:
      if (spec.type.startsWith('oic_'))
        throw new UsageError(`Connection type ${spec.type} (CoAP-wrapped SMP) is not supported; Zephyr needs plain serial or udp`);
      throw new UsageError(`Unknown connection type "${spec.type}" (use serial, udp or ble)`);
  }
}
