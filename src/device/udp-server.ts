/** Server side of SMP over UDP: one datagram per packet, each answered to its sender. */
import dgram from 'node:dgram';
import { ListenerTransport } from '../transport/listener-transport.js';
import type { SmpTransport } from '../transport/transport.js';
import type { SmpServer } from './server.js';

export interface UdpServerOptions {
  host?: string;
  port?: number;
  /** Wraps each peer's link before the server attaches it (`mcumgr-sim --link`). */
  wrap?: (peer: SmpTransport) => SmpTransport;
  /** A peer silent this long is forgotten (every CLI run comes from a new port). Default 10 minutes. */
  idleMs?: number;
  /** Peers remembered at most; a new one makes the server forget the one heard from longest ago. Default 64. */
  maxPeers?: number;
}

/** One client (address and port): its datagrams, and the answers sent back to it. */
class UdpPeer extends ListenerTransport {
  readonly mtu = 65_507;
  readonly framingOverhead = 0;
  private idle: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly socket: dgram.Socket,
    private readonly address: string,
    private readonly port: number,
  ) {
    super();
  }

  send(packet: Uint8Array): Promise<void> {
    return new Promise((resolve) => this.socket.send(packet, this.port, this.address, () => resolve()));
  }

  /** Restarts the idle timer: the peer closes after `idleMs` without a datagram. */
  heardFrom(idleMs: number): void {
    clearTimeout(this.idle);
    this.idle = setTimeout(() => void this.close(), idleMs);
    this.idle.unref();
  }

  async close(): Promise<void> {
    clearTimeout(this.idle);
    this.shutdown();
  }
}

export class UdpSmpServer {
  private readonly peers = new Map<string, UdpPeer>();
  private constructor(
    private readonly socket: dgram.Socket,
    readonly host: string,
    readonly port: number,
  ) {}

  static async listen(server: SmpServer, options: UdpServerOptions = {}): Promise<UdpSmpServer> {
    const host = options.host ?? '127.0.0.1';
    const type = host.includes(':') ? 'udp6' : 'udp4';
    const socket = dgram.createSocket({ type, reuseAddr: false });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(options.port ?? 1337, host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    const addr = socket.address();
    const udp = new UdpSmpServer(socket, addr.address, addr.port);
    const idleMs = options.idleMs ?? 600_000;
    const maxPeers = options.maxPeers ?? 64;
    socket.on('message', (msg, rinfo) => {
      const key = `${rinfo.address}:${rinfo.port}`;
      let peer = udp.peers.get(key);
      if (peer) udp.peers.delete(key);
      else {
        // Zephyr answers each datagram to its source and keeps no table: forgetting a peer loses nothing.
        const oldest = udp.peers.size >= maxPeers ? udp.peers.values().next().value : undefined;
        if (oldest) void oldest.close();
        const created = new UdpPeer(socket, rinfo.address, rinfo.port);
        created.onClose(() => {
          if (udp.peers.get(key) === created) udp.peers.delete(key);
        });
        server.attach(options.wrap ? options.wrap(created) : created);
        peer = created;
      }
      // Map order is the order peers were last heard from.
      udp.peers.set(key, peer);
      peer.heardFrom(idleMs);
      peer.deliver(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength));
    });
    socket.on('error', () => undefined);
    return udp;
  }

  get address(): string {
    return this.host.includes(':') ? `[${this.host}]:${this.port}` : `${this.host}:${this.port}`;
  }

  close(): Promise<void> {
    for (const peer of this.peers.values()) void peer.close();
    return new Promise((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}
