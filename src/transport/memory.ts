/** In-memory transport pair (pure, no Node APIs): what one side sends, the other receives. */
import { TransportError, type SmpTransport } from './transport.js';

const defer: (fn: () => void) => void =
  typeof queueMicrotask === 'function' ? queueMicrotask : (fn) => void Promise.resolve().then(fn);

class MemoryTransport implements SmpTransport {
  peer: MemoryTransport | undefined;
  private packetListeners: ((packet: Uint8Array) => void)[] = [];
  private closeListeners: ((error?: Error) => void)[] = [];
  private closed = false;

  readonly framingOverhead = 0;

  constructor(readonly mtu: number) {}

  async send(packet: Uint8Array): Promise<void> {
    if (this.closed) throw new TransportError('Memory transport is closed');
    if (packet.length > this.mtu) {
      throw new TransportError(`SMP packet of ${packet.length} bytes exceeds the transport MTU of ${this.mtu}`);
    }
    const copy = packet.slice();
    const peer = this.peer;
    defer(() => peer?.deliver(copy));
  }

  private deliver(packet: Uint8Array): void {
    if (this.closed) return;
    for (const l of this.packetListeners) l(packet);
  }

  onPacket(listener: (packet: Uint8Array) => void): void {
    this.packetListeners.push(listener);
  }

  onClose(listener: (error?: Error) => void): void {
    this.closeListeners.push(listener);
  }

  /** Marks this side closed and notifies its listeners (asynchronously). */
  shutdown(error?: Error): void {
    if (this.closed) return;
    this.closed = true;
    const listeners = this.closeListeners.splice(0);
    defer(() => {
      for (const l of listeners) l(error);
    });
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
