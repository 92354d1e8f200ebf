import type { SmpTransport } from './transport.js';

/** A physical link, as seen by SMP packets crossing it in one direction. */
export interface LinkProfile {
  name: string;
  description: string;
  /** Raw bandwidth of the wire in bytes per second, in each direction. */
  bytesPerSecond: number;
  /** Bytes on the wire for one SMP packet of `size` bytes (framing overhead included). */
  wireBytes(size: number): number;
  /** Largest SMP packet the link carries in one frame. */
  mtu: number;
  /** One-way latency added after the last byte left the sender. */
  latencyMs: number;
  jitterMs?: number;
  /** Probabilities per packet, 0..1. */
  loss?: number;
  duplicate?: number;
  /** A reordered packet is held back by up to two latencies. */
  reorder?: number;
  /** A corrupted packet has one byte flipped (serial framing's CRC turns this into a loss). */
  corrupt?: number;
}

/** Bytes of SMP console framing for one packet: base64 of length+packet+CRC, 3 bytes of marker and newline per 124 characters. */
export function serialWireBytes(size: number): number {
  const base64 = Math.ceil((size + 4) / 3) * 4;
  return base64 + Math.ceil(base64 / 124) * 3;
}

/** BLE: each notification/write carries ATT_MTU − 3 bytes plus about 14 bytes of L2CAP/LL/PHY overhead. */
function bleWireBytes(attMtu: number): (size: number) => number {
  return (size) => {
    const pdus = Math.ceil(size / (attMtu - 3));
    return size + pdus * 14;
  };
}

export const LINK_PROFILES: Record<string, LinkProfile> = {
  'uart-115200': {
    name: 'uart-115200', description: 'UART at 115200 baud (8N1: 11520 bytes/s), SMP console framing',
    bytesPerSecond: 11_520, wireBytes: serialWireBytes, mtu: 1024, latencyMs: 1,
  },
  'uart-1M': {
    name: 'uart-1M', description: 'UART at 1 Mbaud (100 000 bytes/s), SMP console framing',
    bytesPerSecond: 100_000, wireBytes: serialWireBytes, mtu: 1024, latencyMs: 1,
  },
  'udp-20ms': {
    name: 'udp-20ms', description: 'UDP over a 20 ms round-trip network at 10 Mbit/s, 0.5% loss',
    bytesPerSecond: 1_250_000, wireBytes: (size) => size + 28 + 14, mtu: 1472, latencyMs: 10, jitterMs: 2, loss: 0.005,
  },
  'ble-1M': {
    name: 'ble-1M', description: 'BLE 1M PHY, ATT MTU 247, 7.5 ms connection interval (~700 kbit/s usable)',
    bytesPerSecond: 87_000, wireBytes: bleWireBytes(247), mtu: 244, latencyMs: 7.5,
  },
  'ble-2M': {
    name: 'ble-2M', description: 'BLE 2M PHY, ATT MTU 247, 7.5 ms connection interval (~1.3 Mbit/s usable)',
    bytesPerSecond: 165_000, wireBytes: bleWireBytes(247), mtu: 244, latencyMs: 7.5,
  },
};

/** A small seeded generator so that emulated losses repeat from run to run. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x1_0000_0000;
  };
}

/** Counters of what the emulated link did, for tests and benchmarks. */
export interface LinkStats {
  packets: number;
  bytes: number;
  lost: number;
  duplicated: number;
  reordered: number;
  corrupted: number;
}

/**
 * Wraps the sending side of a transport so that packets take the time the profile's wire needs:
 * a packet waits for the wire to be free, occupies it for its framed size, then arrives after the latency.
 */
export class EmulatedLink implements SmpTransport {
  readonly mtu: number;
  readonly stats: LinkStats = { packets: 0, bytes: 0, lost: 0, duplicated: 0, reordered: 0, corrupted: 0 };
  private wireFreeAt = 0;
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();

  constructor(
    private readonly inner: SmpTransport,
    readonly profile: LinkProfile,
    private readonly random: () => number = seededRandom(1),
  ) {
    this.mtu = Math.min(inner.mtu, profile.mtu);
  }

  async send(packet: Uint8Array): Promise<void> {
    const now = performance.now();
    const departure = Math.max(now, this.wireFreeAt);
    this.wireFreeAt = departure + (this.profile.wireBytes(packet.length) / this.profile.bytesPerSecond) * 1000;
    this.stats.packets++;
    this.stats.bytes += packet.length;
    if (this.random() < (this.profile.loss ?? 0)) {
      this.stats.lost++;
      return;
    }
    let arrival = this.wireFreeAt + this.profile.latencyMs + (this.profile.jitterMs ?? 0) * this.random();
    if (this.random() < (this.profile.reorder ?? 0)) {
      this.stats.reordered++;
      arrival += 2 * this.profile.latencyMs * this.random() + 1;
    }
    let bytes = packet.slice();
    if (this.random() < (this.profile.corrupt ?? 0)) {
      this.stats.corrupted++;
      const at = Math.floor(this.random() * bytes.length);
      bytes[at] = bytes[at]! ^ (1 + Math.floor(this.random() * 255));
    }
    this.deliverAt(arrival - now, bytes);
    if (this.random() < (this.profile.duplicate ?? 0)) {
      this.stats.duplicated++;
      bytes = bytes.slice();
      this.deliverAt(arrival - now + this.profile.latencyMs * this.random(), bytes);
    }
  }

  private deliverAt(delayMs: number, packet: Uint8Array): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.inner.send(packet).catch(() => undefined);
    }, Math.max(0, delayMs));
    this.timers.add(timer);
  }

  onPacket(listener: (packet: Uint8Array) => void): void {
    this.inner.onPacket(listener);
  }

  onClose(listener: (error?: Error) => void): void {
    this.inner.onClose(listener);
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await this.inner.close();
  }
}

/** How the emulated device takes packets in: a pool of receive buffers and a flash that writes at a given speed. */
export interface DeviceModel {
  /** Receive buffers (CONFIG_MCUMGR_TRANSPORT_NETBUF_COUNT): a packet arriving while all are busy is dropped. */
  bufferCount: number;
  /** Largest packet a buffer holds; larger packets are dropped silently, as Zephyr does. */
  bufferSize: number;
  /** Flash write speed in bytes per second, applied to each request's payload. */
  flashBytesPerSecond: number;
}

/**
 * The device's end of a link: packets wait in at most `bufferCount` buffers and are handed to the
 * server one at a time, each after the time the flash needs for its payload.
 */
export class DeviceEndpoint implements SmpTransport {
  readonly mtu: number;
  dropped = 0;
  private busy = 0;
  private readonly queue: Uint8Array[] = [];
  private processing = false;
  private listener: (packet: Uint8Array) => void = () => {};

  constructor(
    private readonly inner: SmpTransport,
    readonly model: DeviceModel,
  ) {
    this.mtu = inner.mtu;
    inner.onPacket((packet) => this.arrive(packet));
  }

  private arrive(packet: Uint8Array): void {
    if (packet.length > this.model.bufferSize || this.busy >= this.model.bufferCount) {
      this.dropped++;
      return;
    }
    this.busy++;
    this.queue.push(packet);
    this.pump();
  }

  private pump(): void {
    if (this.processing) return;
    const packet = this.queue.shift();
    if (!packet) return;
    this.processing = true;
    setTimeout(() => {
      this.processing = false;
      this.listener(packet);
      this.pump();
    }, (packet.length / this.model.flashBytesPerSecond) * 1000);
  }

  async send(packet: Uint8Array): Promise<void> {
    this.busy = Math.max(0, this.busy - 1);
    await this.inner.send(packet);
  }

  onPacket(listener: (packet: Uint8Array) => void): void {
    this.listener = listener;
  }

  onClose(listener: (error?: Error) => void): void {
    this.inner.onClose(listener);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
