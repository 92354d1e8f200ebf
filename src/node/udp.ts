/** SMP over UDP (Node, reference §3.2): one datagram per SMP packet, default port 1337. */
import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { TransportError, type SmpTransport } from '../transport/transport.js';

export const SMP_UDP_DEFAULT_PORT = 1337;

export interface UdpAddress {
  host: string;
  port: number;
}

/**
 * Parses "host:port", "[v6addr]:port", "[v6addr]", "host" or a bare IPv6 address ("::1").
 * Throws a TransportError on a malformed address or port.
 */
export function parseUdpAddress(address: string, defaultPort = SMP_UDP_DEFAULT_PORT): UdpAddress {
  const s = address.trim();
  let host: string;
  let portText: string | undefined;
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 0) throw new TransportError(`Invalid UDP address "${address}": missing "]"`);
    host = s.slice(1, close);
    const rest = s.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) throw new TransportError(`Invalid UDP address "${address}"`);
      portText = rest.slice(1);
    }
  } else {
    const first = s.indexOf(':');
    if (first >= 0 && first === s.lastIndexOf(':')) {
      host = s.slice(0, first);
      portText = s.slice(first + 1);
    } else {
      host = s; // no colon, or a bare IPv6 address
    }
  }
  if (host === '') throw new TransportError(`Invalid UDP address "${address}": empty host`);
  let port = defaultPort;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
      throw new TransportError(`Invalid UDP port "${portText}" in "${address}"`);
    }
    port = Number(portText);
  }
  return { host, port };
}

export interface UdpTransportOptions {
  /** Largest SMP packet per datagram. Default 1500. */
  mtu?: number;
  /** Called when the peer's port refuses a datagram (ICMP port unreachable): the device is away for now. */
  onUnreachable?: () => void;
}

/** While the device is away, the packets it has not answered are sent again this often, so it answers once back. */
const AWAY_RESEND_MS = 200;
/** At most this many unanswered packets are kept for that. */
const MAX_UNANSWERED = 32;

/**
 * SMP over a connected UDP socket. A device that is away (restarting: its port closed, Linux reports the ICMP
 * refusal as ECONNREFUSED on the next send or receive) does not close the transport: the packets it has not answered
 * since the last answer are sent again every AWAY_RESEND_MS until it answers, so that requests go on as soon as it
 * is back instead of after their timeout. The requests still time out as usual when it stays away.
 */
export class UdpTransport implements SmpTransport {
  readonly mtu: number;
  readonly framingOverhead = 0;
  private packetListeners: ((packet: Uint8Array) => void)[] = [];
  private closeListeners: ((error?: Error) => void)[] = [];
  private closed = false;
  /** Packets sent since the device last answered (the most recent MAX_UNANSWERED). */
  private unanswered: Uint8Array[] = [];
  /** Set while the device is away: resends the unanswered packets. */
  private awayTimer: ReturnType<typeof setInterval> | undefined;
  private readonly onUnreachable: (() => void) | undefined;

  private constructor(
    private readonly socket: dgram.Socket,
    readonly remote: { address: string; family: 4 | 6; port: number },
    options: UdpTransportOptions,
  ) {
    this.mtu = options.mtu ?? 1500;
    this.onUnreachable = options.onUnreachable;
    socket.on('message', (msg: Buffer) => {
      if (this.closed) return;
      this.back();
      const p = new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength).slice();
      for (const l of this.packetListeners) l(p);
    });
    socket.on('error', (err: Error) => {
      // ICMP port unreachable on a connected socket is not fatal: the device may come up later.
      if (isRefusal(err)) {
        this.away();
        return;
      }
      this.finish(new TransportError(`UDP socket error: ${err.message}`));
      try {
        socket.close();
      } catch {
        /* already closed */
      }
    });
    socket.on('close', () => this.finish());
  }

  /** Resolves the address (IPv4 or IPv6) and opens a socket connected to it. */
  static async connect(address: string, options: UdpTransportOptions = {}): Promise<UdpTransport> {
    const { host, port } = parseUdpAddress(address);
    let resolved: { address: string; family: number };
    try {
      resolved = isIP(host) ? { address: host, family: isIP(host) } : await lookup(host);
    } catch (err) {
      throw new TransportError(`Cannot resolve UDP host "${host}": ${(err as Error).message}`);
    }
    const family = resolved.family === 6 ? 6 : 4;
    const socket = dgram.createSocket(family === 6 ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => {
        socket.close();
        reject(new TransportError(`Cannot connect UDP socket to ${address}: ${err.message}`));
      };
      socket.once('error', onError);
      socket.connect(port, resolved.address, () => {
        socket.off('error', onError);
        resolve();
      });
    });
    return new UdpTransport(socket, { address: resolved.address, family, port }, options);
  }

  send(packet: Uint8Array): Promise<void> {
    if (this.closed) return Promise.reject(new TransportError('UDP transport is closed'));
    if (packet.length > this.mtu) {
      return Promise.reject(new TransportError(`SMP packet of ${packet.length} bytes exceeds the transport MTU of ${this.mtu}`));
    }
    if (!this.unanswered.some((p) => sameBytes(p, packet))) this.unanswered.push(packet);
    if (this.unanswered.length > MAX_UNANSWERED) this.unanswered.shift();
    return new Promise<void>((resolve, reject) => {
      this.socket.send(packet, (err) => {
        if (err && isRefusal(err)) {
          // Lost like any datagram while the device is away; resent while it is (see away()).
          this.away();
          resolve();
        } else if (err) reject(new TransportError(`UDP send failed: ${err.message}`));
        else resolve();
      });
    });
  }

  /** The device refused a datagram: resend what it has not answered until it answers again. */
  private away(): void {
    if (this.closed) return;
    this.onUnreachable?.();
    this.awayTimer ??= setInterval(() => {
      for (const p of this.unanswered) this.socket.send(p, () => undefined);
    }, AWAY_RESEND_MS);
  }

  /** The device answered: it is here, and what was sent before is answered or lost. */
  private back(): void {
    clearInterval(this.awayTimer);
    this.awayTimer = undefined;
    this.unanswered = [];
  }

  onPacket(listener: (packet: Uint8Array) => void): void {
    this.packetListeners.push(listener);
  }

  onClose(listener: (error?: Error) => void): void {
    this.closeListeners.push(listener);
  }

  private finish(error?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.back();
    for (const l of this.closeListeners.splice(0)) l(error);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.finish();
    await new Promise<void>((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}

function isRefusal(err: Error): boolean {
  return (err as NodeJS.ErrnoException).code === 'ECONNREFUSED';
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
