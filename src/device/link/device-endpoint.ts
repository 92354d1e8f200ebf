/**
 * The emulated device's side of a link: its receive buffers, its request time and its flash. Unlike the link, it
 * reads the requests (flash time depends on the command and its offset).
 */
import type { CommandDef } from '../../groups/define.js';
import { fs } from '../../groups/fs.js';
import { image } from '../../groups/image.js';
import { decodeCborMap } from '../../protocol/cbor.js';
import { decodePacket, type SmpHeader } from '../../protocol/header.js';
import type { SmpTransport } from '../../transport/transport.js';
import { EmulatedLink, TimedQueue } from './link.js';

/** The device's flash as the upload handlers use it. */
export interface FlashModel {
  /** Programming speed in bytes per second. */
  writeBytesPerSecond: number;
  sectorSize: number;
  sectorEraseMs: number;
  /**
   * `progressive` (CONFIG_IMG_ERASE_PROGRESSIVELY=y): each sector is erased when the upload first writes
   * into it; `at-start`: the first chunk of an image upload erases the whole image area first.
   */
  erase: 'progressive' | 'at-start';
}

/** A typical MCU flash: 1 MB/s programming, 4 KiB sectors erased in 10 ms, the image area at upload start (Zephyr's default). */
export const TYPICAL_FLASH: FlashModel = { writeBytesPerSecond: 1_000_000, sectorSize: 4096, sectorEraseMs: 10, erase: 'at-start' };

/** How the emulated device takes packets in: a pool of receive buffers, a CPU cost per request and a flash. */
export interface DeviceModel {
  /** Receive buffers (CONFIG_MCUMGR_TRANSPORT_NETBUF_COUNT): a packet arriving while all are busy is dropped. */
  bufferCount: number;
  /** Largest packet a buffer holds; larger packets are dropped silently, as Zephyr does. */
  bufferSize: number;
  /** Time to handle one request apart from flash work. Default 0. */
  requestMs?: number;
  flash: FlashModel;
}

function isRequest(header: Pick<SmpHeader, 'group' | 'id' | 'op'>, command: CommandDef): boolean {
  return header.group === command.group && header.id === command.id && header.op === command.op;
}

/**
 * Flash time of one request: image upload chunks erase (per the model) and program; fs uploads program. An image
 * chunk at another offset than the one the device expects is refused without touching flash (Zephyr's img_mgmt
 * answers it with the offset it wants), so it costs nothing.
 */
export class FlashTimer {
  private erasedTo = 0;
  /** The image offset the device expects next, once an upload has begun. */
  private expected: number | undefined;

  constructor(readonly model: FlashModel) {}

  /** Milliseconds the device spends on flash for this request. */
  cost(packet: Uint8Array): number {
    let req: { header: { group: number; id: number; op: number }; body: Record<string, unknown> };
    try {
      const { header, payload } = decodePacket(packet);
      req = { header, body: payload.length ? decodeCborMap(payload, { rejectDuplicateKeys: false }) : {} };
    } catch {
      return 0;
    }
    const data = req.body.data instanceof Uint8Array ? req.body.data.length : 0;
    const off = typeof req.body.off === 'number' ? req.body.off : 0;
    const write = (data / this.model.writeBytesPerSecond) * 1000;
    if (isRequest(req.header, fs.upload)) return write;
    if (!isRequest(req.header, image.upload)) return 0;
    let sectors = 0;
    if (off === 0 && typeof req.body.len === 'number') {
      this.erasedTo = 0;
      if (this.model.erase === 'at-start') {
        sectors = Math.ceil(req.body.len / this.model.sectorSize);
        this.erasedTo = sectors * this.model.sectorSize;
      }
    } else if (this.expected !== undefined && off !== this.expected) return 0;
    this.expected = off + data;
    const endSector = Math.ceil((off + data) / this.model.sectorSize) * this.model.sectorSize;
    if (endSector > this.erasedTo) {
      sectors += (endSector - this.erasedTo) / this.model.sectorSize;
      this.erasedTo = endSector;
    }
    return sectors * this.model.sectorEraseMs + write;
  }
}

/**
 * The device's end of a link: packets wait in at most `bufferCount` buffers and are handed to the
 * server one at a time, each after the time the device needs for it; the buffer is free again, and the
 * response leaves, when that time ends. The server's own run time in this process is not the device's: over an
 * `EmulatedLink` the response departs at the modelled end of handling, so that the emulation's timer
 * lateness and CPU time do not add up from one request to the next.
 */
export class DeviceEndpoint implements SmpTransport {
  readonly mtu: number;
  readonly framingOverhead: number;
  /** Packets dropped because they were larger than a buffer, and because every buffer was busy. */
  readonly dropped = { tooLarge: 0, busy: 0 };
  /** When each held buffer is free again (requests are handled in order, so ascending). */
  private readonly holding: number[] = [];
  /** When the device has finished the requests it holds: each request is handled on this timeline. */
  private busyUntil = 0;
  /** When the request being answered finished on the device's timeline. */
  private answeredAt = 0;
  private readonly handled = new TimedQueue();
  private readonly flash: FlashTimer;
  private listener: (packet: Uint8Array) => void = () => {};

  constructor(
    private readonly inner: SmpTransport,
    readonly model: DeviceModel,
  ) {
    this.mtu = inner.mtu;
    this.framingOverhead = inner.framingOverhead;
    this.flash = new FlashTimer(model.flash);
    inner.onPacket((packet) => this.arrive(packet));
  }

  private arrive(packet: Uint8Array): void {
    if (packet.length > this.model.bufferSize) {
      this.dropped.tooLarge++;
      return;
    }
    // Buffers are freed at the modelled end of handling, not when the emulation gets round to it: several
    // packets can arrive in one late timer wake-up.
    const now = performance.now();
    while (this.holding.length > 0 && this.holding[0]! <= now) this.holding.shift();
    if (this.holding.length >= this.model.bufferCount) {
      this.dropped.busy++;
      return;
    }
    // Absolute times, so that timer lateness does not add up from one request to the next.
    this.busyUntil = Math.max(now, this.busyUntil) + (this.model.requestMs ?? 0) + this.flash.cost(packet);
    const done = this.busyUntil;
    this.holding.push(done);
    this.handled.at(done, () => {
      this.answeredAt = done;
      this.listener(packet);
    });
  }

  async send(packet: Uint8Array): Promise<void> {
    if (this.inner instanceof EmulatedLink) this.inner.sendAt(packet, this.answeredAt);
    else await this.inner.send(packet);
  }

  onPacket(listener: (packet: Uint8Array) => void): void {
    this.listener = listener;
  }

  onClose(listener: (error?: Error) => void): void {
    this.inner.onClose(listener);
  }

  close(): Promise<void> {
    this.handled.clear();
    return this.inner.close();
  }
}
