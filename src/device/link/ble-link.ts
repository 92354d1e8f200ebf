/**
 * Timing of a BLE connection for the simulated GATT peer (pure, no Node APIs): ATT writes and notifications
 * share one half-duplex radio channel that is only open during connection events. Each ATT PDU travels as
 * LL PDUs of at most the data length, each answered by the peer (an empty PDU) after the inter-frame space.
 * A PDU that fails its CRC is sent again by the link layer (BLE never loses an ATT PDU, it delays it).
 */
import { seededRandom, TimedQueue } from './link.js';
import type { SmpCharacteristic } from '../../transport/ble-gatt.js';

export interface BleLinkProfile {
  name: string;
  description: string;
  phyMbps: 1 | 2;
  connIntervalMs: number;
  attMtu: number;
  /** Largest LL payload (251 with data length extension, 27 without). */
  dataLength: number;
  /** Probability that an LL PDU is lost or corrupted and must be sent again. */
  retransmit?: number;
}

export const BLE_LINK_PROFILES: Record<string, BleLinkProfile> = {
  'ble-1M': {
    name: 'ble-1M',
    description: 'BLE 1M PHY, 15 ms connection interval, ATT MTU 247, data length 251',
    phyMbps: 1,
    connIntervalMs: 15,
    attMtu: 247,
    dataLength: 251,
  },
  'ble-2M': {
    name: 'ble-2M',
    description: 'BLE 2M PHY, 7.5 ms connection interval, ATT MTU 498, data length 251',
    phyMbps: 2,
    connIntervalMs: 7.5,
    attMtu: 498,
    dataLength: 251,
  },
};

/** The inter-frame space between LL PDUs (150 µs). */
export const BLE_T_IFS_MS = 0.15;
/** Preamble, access address, LL header and CRC around each LL payload (the 2M preamble is 2 bytes). */
const llOverhead = (phy: number): number => (phy === 2 ? 11 : 10);
/** ATT opcode and handle, and the L2CAP header, around each ATT value. */
const ATT_L2CAP_OVERHEAD = 3 + 4;

/** The radio channel of one connection: when each ATT PDU handed to it arrives at the other side. */
export class BleAir {
  private readonly t0: number;
  private busyUntil = Number.NEGATIVE_INFINITY;
  private eventStart = Number.NEGATIVE_INFINITY;
  private readonly random: () => number;
  /** LL PDUs sent, and sent again. */
  readonly stats = { pdus: 0, retransmitted: 0 };

  constructor(
    readonly profile: BleLinkProfile,
    seed = 1,
    now = 0,
  ) {
    this.t0 = now;
    this.random = seededRandom(seed);
  }

  /** Air time of one LL exchange carrying `payload` bytes: the PDU, the inter-frame space, the peer's empty PDU. */
  exchangeMs(payload: number): number {
    const o = llOverhead(this.profile.phyMbps);
    const us = ((payload + o) * 8 + o * 8) / this.profile.phyMbps;
    return us / 1000 + 2 * BLE_T_IFS_MS;
  }

  /** Air time of an ATT PDU with `value` bytes, when nothing is lost. */
  attMs(value: number): number {
    let total = value + ATT_L2CAP_OVERHEAD;
    let ms = 0;
    while (total > 0) {
      const n = Math.min(total, this.profile.dataLength);
      ms += this.exchangeMs(n);
      total -= n;
    }
    return ms;
  }

  /** Schedules an ATT PDU with `value` bytes handed over at `now`; returns when it has arrived. */
  schedule(now: number, value: number): number {
    let total = value + ATT_L2CAP_OVERHEAD;
    let t = now;
    while (total > 0) {
      const n = Math.min(total, this.profile.dataLength);
      let cost = this.exchangeMs(n);
      this.stats.pdus++;
      while (this.random() < (this.profile.retransmit ?? 0)) {
        this.stats.retransmitted++;
        cost += this.exchangeMs(n);
      }
      t = this.place(t, cost);
      total -= n;
    }
    return t;
  }

  /** Puts `cost` ms of air time at or after `t`: in the open event if it fits, else at the next anchor point. */
  private place(t: number, cost: number): number {
    const ci = this.profile.connIntervalMs;
    let start: number;
    if (t <= this.busyUntil && this.busyUntil + cost <= this.eventStart + ci - BLE_T_IFS_MS) start = this.busyUntil;
    else {
      // The event closed when the channel fell idle (or is full): wait for the next anchor point.
      const from = Math.max(t, this.busyUntil);
      const k = Math.ceil((from - this.t0) / ci - 1e-9);
      start = this.t0 + k * ci;
      this.eventStart = start;
    }
    this.busyUntil = start + cost;
    return this.busyUntil;
  }
}

/**
 * The client's view of a simulated GATT peer through the air: writes reach the peer, and its notifications
 * reach us, when the channel has carried them.
 */
export class TimedGattLink implements SmpCharacteristic {
  private readonly toPeer = new TimedQueue();
  private readonly fromPeer = new TimedQueue();

  constructor(
    private readonly peer: SmpCharacteristic,
    readonly air: BleAir,
  ) {}

  get attMtu(): number {
    return this.peer.attMtu;
  }

  async writeWithoutResponse(data: Uint8Array): Promise<void> {
    if (data.length > this.attMtu - 3) {
      await this.peer.writeWithoutResponse(data); // the peer refuses it with its ATT error
      return;
    }
    const copy = data.slice();
    this.toPeer.at(this.air.schedule(performance.now(), copy.length), () => {
      this.peer.writeWithoutResponse(copy).catch(() => undefined);
    });
  }

  subscribe(onNotify: (data: Uint8Array) => void): Promise<void> {
    return this.peer.subscribe((data) => {
      const copy = data.slice();
      this.fromPeer.at(this.air.schedule(performance.now(), copy.length), () => onNotify(copy));
    });
  }

  onDisconnect(cb: (err?: Error) => void): void {
    this.peer.onDisconnect((err) => {
      this.cancel();
      cb(err);
    });
  }

  disconnect(): Promise<void> {
    this.cancel();
    return this.peer.disconnect();
  }

  private cancel(): void {
    this.toPeer.clear();
    this.fromPeer.clear();
  }
}
