/** Server side of SMP over UDP: one datagram per packet, each answered to its sender. */
import dgram from 'node:dgram';
import type { SmpServer } from './server.js';

export interface UdpServerOptions {
  host?: string;
  port?: number;
}

export class UdpSmpServer {
  private readonly links = new Map<string, object>();
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
    let queue = Promise.resolve();
    socket.on('message', (msg, rinfo) => {
      const key = `${rinfo.address}:${rinfo.port}`;
      let link = udp.links.get(key);
      if (!link) {
        link = { udp: key };
        udp.links.set(key, link);
      }
      const packet = new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength);
      const l = link;
      queue = queue.then(async () => {
        let responses: Uint8Array[] = [];
        try {
          responses = await server.handlePacketAsync(packet, l);
        } catch {
          return;
        }
        for (const r of responses) {
          await new Promise<void>((resolve) => socket.send(r, rinfo.port, rinfo.address, () => resolve()));
        }
      });
    });
    socket.on('error', () => undefined);
    return udp;
  }

  get address(): string {
    return this.host.includes(':') ? `[${this.host}]:${this.port}` : `${this.host}:${this.port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}
