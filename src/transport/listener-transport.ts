/** The listener plumbing shared by in-process transports (pure, no Node APIs). */
import type { SmpTransport } from './transport.js';

/** Runs `fn` in a microtask. */
export const defer: (fn: () => void) => void = typeof queueMicrotask === 'function' ? queueMicrotask : (fn) => void Promise.resolve().then(fn);

/** Keeps packet and close listeners; delivers packets until closed and notifies closing once, asynchronously. */
export abstract class ListenerTransport implements SmpTransport {
  abstract readonly mtu: number;
  abstract readonly framingOverhead: number;
  abstract send(packet: Uint8Array): Promise<void>;
  abstract close(): Promise<void>;

  private packetListeners: ((packet: Uint8Array) => void)[] = [];
  private closeListeners: ((error?: Error) => void)[] = [];
  protected closed = false;

  onPacket(listener: (packet: Uint8Array) => void): void {
    this.packetListeners.push(listener);
  }

  onClose(listener: (error?: Error) => void): void {
    this.closeListeners.push(listener);
  }

  /** Hands a packet from the peer to the listeners (dropped once closed). */
  deliver(packet: Uint8Array): void {
    if (this.closed) return;
    for (const l of this.packetListeners) l(packet);
  }

  /** Marks this side closed and notifies its close listeners (asynchronously). */
  shutdown(error?: Error): void {
    if (this.closed) return;
    this.closed = true;
    const listeners = this.closeListeners.splice(0);
    defer(() => {
      for (const l of listeners) l(error);
    });
  }
}
