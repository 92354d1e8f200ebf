/** A transport moves whole SMP packets (header + CBOR payload) between two peers. It never decodes CBOR. */
export interface SmpTransport {
  /** Largest SMP packet (header + payload) this transport can carry in one frame. */
  readonly mtu: number;
  /**
   * Bytes the transport's framing adds to a packet inside the device's SMP receive buffer: serial keeps the
   * 2-byte length and 2-byte CRC there (4); UDP and BLE deliver the bare packet (0).
   */
  readonly framingOverhead: number;
  /**
   * How long the device keeps a partial packet before it throws it away (raw serial framing: its input timeout).
   * A client resending after a lost answer waits this long first, so the resent packet is not appended to the
   * remains of the lost one. Absent or 0: resend at once.
   */
  readonly resendQuietMs?: number;
  /** Sends one SMP packet. Rejects with a TransportError when the link is down or the packet is larger than `mtu`. */
  send(packet: Uint8Array): Promise<void>;
  /** Registers the receiver of whole SMP packets arriving from the peer. */
  onPacket(listener: (packet: Uint8Array) => void): void;
  /** Registers a listener called once when the link closes (by either side or on error). */
  onClose(listener: (error?: Error) => void): void;
  close(): Promise<void>;
}

export class TransportError extends Error {
  override readonly name = 'TransportError';
}
