/** Opens the transport named by the global options / connection profile. */
import { SerialTransport } from '../transport/serial.js';
import type { SmpTransport } from '../transport/transport.js';
import { UdpTransport } from '../transport/udp.js';
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
  if (!spec.type) throw new UsageError('No connection type specified (use --conntype serial|udp|ble --connstring ..., or -c PROFILE)');
  return spec;
}

export interface SerialParams {
  dev: string;
  baud: number;
  mtu: number;
}

/** `dev=/dev/ttyACM0,baud=115200,mtu=512`; a bare token is the device path. */
export function parseSerialConnstring(s: string): SerialParams {
  const out: SerialParams = { dev: '', baud: 115200, mtu: 512 };
  for (const part of s.split(',')) {
    const item = part.trim();
    if (!item) continue;
    const eq = item.indexOf('=');
    if (eq < 0) {
      out.dev = item;
      continue;
    }
    const key = item.slice(0, eq).trim();
    const value = item.slice(eq + 1).trim();
    switch (key) {
      case 'dev':
        out.dev = value;
        break;
      case 'baud':
      case 'mtu': {
        const n = Number(value);
        if (!Number.isInteger(n) || n <= 0) throw new UsageError(`Invalid ${key} "${value}" in connstring`);
        out[key] = n;
        break;
      }
      default:
        throw new UsageError(`Unrecognized key in connstring: ${key} (serial keys: dev, baud, mtu)`);
    }
  }
  if (!out.dev) throw new UsageError('Serial connstring lacks a device path: use --connstring dev=/dev/ttyACM0');
  return out;
}

export async function openTransport(spec: ConnSpec): Promise<SmpTransport> {
  switch (spec.type) {
    case 'udp':
      if (!spec.connstring) throw new UsageError('UDP connstring must be host:port, e.g. --connstring 192.168.1.10:1337');
      return UdpTransport.connect(spec.connstring);
    case 'serial': {
      const p = parseSerialConnstring(spec.connstring);
      return SerialTransport.open({ path: p.dev, baudRate: p.baud, mtu: p.mtu });
    }
    case 'ble':
    case 'bhd':
      throw new UsageError('BLE transport not available in this build (use --conntype serial or udp)');
    default:
      if (spec.type.startsWith('oic_'))
        throw new UsageError(`Connection type ${spec.type} (CoAP-wrapped SMP) is not supported; Zephyr needs plain serial or udp`);
      throw new UsageError(`Unknown connection type "${spec.type}" (use serial, udp or ble)`);
  }
}
