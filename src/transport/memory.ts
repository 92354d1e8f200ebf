/** In-memory transport pair (pure, no Node APIs): what one side sends, the other receives. */
import { defer, ListenerTransport } from './listener-transport.js';
import { TransportError, type SmpTransport } from './transport.js';

class MemoryTransport extends ListenerTransport {
  peer: MemoryTransport | undefined;
  readonly framingOverhead = 0;

  constructor(readonly mtu: number) {
    super();
  }

  async send(packet: Uint8Array): Promise<void> {
    if (this.closed) throw new TransportError('Memory transport is closed');
    if (packet.length > this.mtu) {
      throw new TransportError(`SMP packet of ${packet.length} bytes exceeds the transport MTU of ${this.mtu}`);
    }
    const copy = packet.slice();
    const peer = this.peer;
    defer(() => peer?.deliver(copy));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.shutdown();
    this.peer?.shutdown();
  }
}

/** Returns two connected transports. Packets are delivered asynchronously (microtask); close propagates. */
export function createMemoryPair(mtu = 2048): [SmpTransport, SmpTransport] {
  const a = new MemoryTransport(mtu);
  const b = new MemoryTransport(mtu);
  a.peer = b;
  b.peer = a;
  return [a, b];
}
