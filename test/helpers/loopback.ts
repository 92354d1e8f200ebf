import type { SmpTransport } from '../../src/transport/transport.js';

/** A transport whose peer is a function of the test: it sees each packet sent and may answer. */
export class ScriptedTransport implements SmpTransport {
  readonly mtu = 2048;
  readonly framingOverhead = 0;
  readonly sent: Uint8Array[] = [];
  private packetListener: (p: Uint8Array) => void = () => {};
  private closeListeners: ((e?: Error) => void)[] = [];

  constructor(private readonly answer: (packet: Uint8Array, t: ScriptedTransport) => void = () => {}) {}

  async send(packet: Uint8Array): Promise<void> {
    this.sent.push(packet);
    queueMicrotask(() => this.answer(packet, this));
  }
  deliver(packet: Uint8Array): void {
    this.packetListener(packet);
  }
  onPacket(listener: (p: Uint8Array) => void): void {
    this.packetListener = listener;
  }
  onClose(listener: (e?: Error) => void): void {
    this.closeListeners.push(listener);
  }
  async close(): Promise<void> {
    for (const l of this.closeListeners) l();
  }
}
