import type { SmpTransport } from '../../transport/transport.js';

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
  /** Framing bytes the device keeps in its SMP buffer with each packet (serial: length and CRC). */
  framingOverhead?: number;
  /** One-way latency added after the last byte left the sender. */
  latencyMs: number;
  /** Extra one-way delay, uniform in 0..jitterMs; packets keep their order. */
  jitterMs?: number;
  /** Probabilities per packet, 0..1. */
  loss?: number;
  duplicate?: number;
  /** A reordered packet is held back by up to two latencies. */
  reorder?: number;
  /** A corrupted packet fails the receiver's check (serial CRC16, UDP checksum) and is discarded. */
  corrupt?: number;
}

/** Bytes of SMP console framing for one packet: base64 of length+packet+CRC, 3 bytes of marker and newline per 124 characters. */
export function serialWireBytes(size: number): number {
  const base64 = Math.ceil((size + 4) / 3) * 4;
  return base64 + Math.ceil(base64 / 124) * 3;
}

export const LINK_PROFILES: Record<string, LinkProfile> = {
  'uart-115200': {
    name: 'uart-115200',
    description: 'UART at 115200 baud (8N1: 11520 bytes/s), SMP console framing',
    bytesPerSecond: 11_520,
    wireBytes: serialWireBytes,
    mtu: 1024,
    latencyMs: 1,
    framingOverhead: 4,
  },
  'uart-1M': {
    name: 'uart-1M',
    description: 'UART at 1 Mbaud (100 000 bytes/s), SMP console framing',
    bytesPerSecond: 100_000,
    wireBytes: serialWireBytes,
    mtu: 1024,
    latencyMs: 1,
    framingOverhead: 4,
  },
  'uart-115200-raw': {
    name: 'uart-115200-raw',
    description: 'UART at 115200 baud, raw SMP packets (Zephyr CONFIG_MCUMGR_TRANSPORT_RAW_UART)',
    bytesPerSecond: 11_520,
    wireBytes: (size) => size,
    mtu: 1024,
    latencyMs: 1,
    framingOverhead: 0,
  },
  'uart-1M-raw': {
    name: 'uart-1M-raw',
    description: 'UART at 1 Mbaud, raw SMP packets (Zephyr CONFIG_MCUMGR_TRANSPORT_RAW_UART)',
    bytesPerSecond: 100_000,
    wireBytes: (size) => size,
    mtu: 1024,
    latencyMs: 1,
    framingOverhead: 0,
  },
  'udp-20ms': {
    name: 'udp-20ms',
    description: 'UDP over a 20 ms round-trip network at 10 Mbit/s (IP fragments above 1472 bytes)',
    bytesPerSecond: 1_250_000,
    wireBytes: (size) => size + 42 * Math.ceil((size + 8) / 1480),
    mtu: 2048,
    latencyMs: 10,
    jitterMs: 2,
  },
};

/** A small seeded generator so that emulated losses repeat from run to run. */
export function seededRandom(seed: number): () => number {
  // Spread small seeds over the state: xorshift starting from 1, 2 ... yields tiny numbers for a while.
  let s = Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x1_0000_0000;
  };
}

interface Timed {
  at: number;
  fn: () => void;
  owner: TimedQueue;
}

/**
 * One timeline for every emulated event of the process (both directions of every link, the device's handling):
 * callbacks run strictly in order of time, ties in the order they were added. Separate timers do not: when
 * two fall due in the same late wake-up, the one that fires first would run all its events before the other's
 * earlier ones (a packet arriving at the device before the buffer freed earlier is released, say), and a
 * shorter timer set later in the same millisecond can fire first, which would reorder the fragments of a packet.
 */
class Timeline {
  private items: Timed[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private armedFor = Number.POSITIVE_INFINITY;

  add(item: Timed): void {
    let i = this.items.length;
    while (i > 0 && this.items[i - 1]!.at > item.at) i--;
    this.items.splice(i, 0, item);
    this.arm();
  }

  remove(owner: TimedQueue): void {
    this.items = this.items.filter((x) => x.owner !== owner);
    if (this.items.length === 0 && this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.armedFor = Number.POSITIVE_INFINITY;
    }
  }

  private arm(): void {
    const head = this.items[0];
    if (!head || (this.timer && this.armedFor <= head.at)) return;
    if (this.timer) clearTimeout(this.timer);
    this.armedFor = head.at;
    this.timer = setTimeout(() => this.fire(), Math.max(0, head.at - performance.now()));
  }

  private fire(): void {
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
    const due = performance.now();
    while (this.items.length > 0 && this.items[0]!.at <= due) this.items.shift()!.fn();
    this.arm();
  }
}

const timeline = new Timeline();

/** Callbacks at given times (on the `performance.now()` clock), on the process's one emulation timeline. */
export class TimedQueue {
  at(time: number, fn: () => void): void {
    timeline.add({ at: time, fn, owner: this });
  }

  /** Drops this queue's callbacks that have not run yet. */
  clear(): void {
    timeline.remove(this);
  }
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
  readonly framingOverhead: number;
  readonly stats: LinkStats = { packets: 0, bytes: 0, lost: 0, duplicated: 0, reordered: 0, corrupted: 0 };
  private wireFreeAt = 0;
  private lastArrival = 0;
  private readonly arrivals = new TimedQueue();

  constructor(
    private readonly inner: SmpTransport,
    readonly profile: LinkProfile,
    private readonly random: () => number = seededRandom(1),
  ) {
    this.mtu = Math.min(inner.mtu, profile.mtu);
    this.framingOverhead = profile.framingOverhead ?? inner.framingOverhead;
  }

  async send(packet: Uint8Array): Promise<void> {
    this.sendAt(packet, performance.now());
  }

  /** Sends a packet that is ready at `time` (the device's answers: when its handling ends on its timeline). */
  sendAt(packet: Uint8Array, time: number): void {
    const departure = Math.max(time, this.wireFreeAt);
    this.wireFreeAt = departure + (this.profile.wireBytes(packet.length) / this.profile.bytesPerSecond) * 1000;
    this.stats.packets++;
    this.stats.bytes += packet.length;
    if (this.random() < (this.profile.loss ?? 0)) {
      this.stats.lost++;
      return;
    }
    // Jitter varies the delay but keeps the order, as one path's queues do; overtaking is `reorder`'s.
    let arrival = Math.max(this.lastArrival, this.wireFreeAt + this.profile.latencyMs + (this.profile.jitterMs ?? 0) * this.random());
    this.lastArrival = arrival;
    if (this.random() < (this.profile.reorder ?? 0)) {
      this.stats.reordered++;
      arrival += 2 * this.profile.latencyMs * this.random() + 1;
    }
    if (this.random() < (this.profile.corrupt ?? 0)) {
      this.stats.corrupted++;
      return;
    }
    const bytes = packet.slice();
    const deliver = (): void => void this.inner.send(bytes).catch(() => undefined);
    this.arrivals.at(arrival, deliver);
    if (this.random() < (this.profile.duplicate ?? 0)) {
      this.stats.duplicated++;
      this.arrivals.at(arrival + this.profile.latencyMs * this.random(), deliver);
    }
  }

  onPacket(listener: (packet: Uint8Array) => void): void {
    this.inner.onPacket(listener);
  }

  onClose(listener: (error?: Error) => void): void {
    this.inner.onClose(listener);
  }

  async close(): Promise<void> {
    this.arrivals.clear();
    await this.inner.close();
  }
}
