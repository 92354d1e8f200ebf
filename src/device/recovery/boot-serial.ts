/**
 * MCUboot's serial recovery command handler: what boot/boot_serial/src/boot_serial.c does with one decoded request
 * (boot_serial_input), checked against the recordings of a real MCUboot in test/fixtures/mcuboot (section A).
 * It shares the virtual device's flash; framing is done by console-input.ts and raw-input.ts.
 */
import { decodeCborMap, encodeCborIndefinite } from '../../protocol/cbor.js';
import { SMP_HEADER_SIZE } from '../../protocol/header.js';
import { compareVersions, formatVersion, IMAGE_FLAGS, type ImageVersion } from '../../image/index.js';
import { McubootMode, modePicksSlot } from '../../groups/bootloader-modes.js';
import { imageSwapType, SwapType, type BootValidator } from '../boot.js';
import type { Flash } from '../flash.js';
import { readSlotImage, type SlotImage } from '../slot-image.js';
import type { RecoveryConfig } from './config.js';

/** MGMT_ERR_* codes boot_serial answers with. */
const RC = { OK: 0, ENOMEM: 2, EINVAL: 3, ENOENT: 5, EBADSTATE: 6, ENOTSUP: 8 } as const;
const OP_READ = 0;
const OP_WRITE = 2;
const GROUP_OS = 0;
const GROUP_IMAGE = 1;

/** What the bootloader works on: the device's flash and how MCUboot was built. */
export interface RecoveryTarget {
  flash: Flash;
  images: number;
  /** MCUboot mode (bootloader-modes.ts). */
  mode: number;
  config: RecoveryConfig;
  /** bootutil_img_validate: hash, and signature when a key is configured. */
  validate: BootValidator;
  /** bs_reset: the answer has gone out; reboot 250 ms later. */
  requestReset(): void;
}

interface UploadState {
  slot: number;
  size: number;
  off: number;
  /** Progressive erase: first byte not erased yet. */
  erasedTo: number;
}

export class BootSerial {
  private upload: UploadState | undefined;
  /** `image` of the last off-0 chunk (boot_serial keeps it in a static). */
  private uploadImage = 0;
  /** Flash erase time of the request being handled (config.sectorEraseMs per sector). */
  private flashBusyMs = 0;

  constructor(private readonly target: RecoveryTarget) {}

  /**
   * boot_serial_input(): answers one decoded request. Returns the response packets (none for a request it drops,
   * two for slot info sent with the write op).
   */
  async handle(packet: Uint8Array): Promise<Uint8Array[]> {
    if (packet.length < SMP_HEADER_SIZE) return [];
    const op = packet[0]! & 0x07;
    const declared = (packet[2]! << 8) | packet[3]!;
    // A header length smaller than the data is dropped; a larger one is handled with what arrived.
    if ((op !== OP_READ && op !== OP_WRITE) || declared < packet.length - SMP_HEADER_SIZE) return [];
    const group = (packet[4]! << 8) | packet[5]!;
    const id = packet[7]!;
    const body = packet.subarray(SMP_HEADER_SIZE);
    const out = new ResponseWriter(packet.subarray(0, SMP_HEADER_SIZE));
    const { config } = this.target;
    if (group === GROUP_IMAGE) {
      if (id === 0) await this.listOrSet(op, body, out);
      else if (id === 1) out.send(this.uploadChunk(body));
      else if (id === 6 && config.slotInfo) this.slotInfo(op, out);
      else out.send({ rc: RC.ENOTSUP });
    } else if (group === GROUP_OS) {
      if (id === 0 && config.echo) out.send(this.echo(body));
      else if (id === 1)
        out.send({ rc: RC.OK }); // console echo control: accepted, nothing to do
      else if (id === 5) {
        out.send({ rc: RC.OK });
        this.target.requestReset();
      } else if (id === 6 && config.mcumgrParams) out.send({ buf_size: config.maxReceiveSize, buf_count: 1 });
      else out.send({ rc: RC.ENOTSUP });
    } else {
      out.send({ rc: RC.ENOTSUP });
    }
    // The erase takes its time before the answer goes out (and the loop reads nothing meanwhile: serial-port.ts).
    const busyMs = this.flashBusyMs;
    this.flashBusyMs = 0;
    if (busyMs > 0) await new Promise((resolve) => setTimeout(resolve, busyMs));
    return out.packets;
  }

  /** Largest reply boot_serial can encode (BOOT_SERIAL_OUT_MAX): the echo's limit. */
  private get outMax(): number {
    const c = this.target.config;
    const message = 128 + (c.imageState ? 48 : 0) + (c.hash ? 36 : 0);
    return Math.max(message, c.slotInfo ? 164 : 0) * this.target.images;
  }

  /** bs_echo: the first `d` (a text) is echoed; anything else is EINVAL; a reply too large for the buffer ENOMEM. */
  private echo(body: Uint8Array): Record<string, unknown> {
    const map = decodeMap(body);
    if (!map) return { rc: RC.EINVAL };
    const keys = Object.keys(map);
    const at = keys.indexOf('d');
    // The decoder stops at `d` and then expects the end of the map.
    if (at < 0 || at !== keys.length - 1 || typeof map.d !== 'string') return { rc: RC.EINVAL };
    const reply = { r: map.d };
    return encodeCborIndefinite(reply).length > this.outMax ? { rc: RC.ENOMEM } : reply;
  }

  private async listOrSet(op: number, body: Uint8Array, out: ResponseWriter): Promise<void> {
    if (op === OP_READ) {
      out.send(await this.list());
      return;
    }
    const { config, mode } = this.target;
    if (!config.imageState || mode === McubootMode.DIRECT_XIP) {
      out.send({ rc: RC.ENOTSUP });
      return;
    }
    const rc = await this.setState(body);
    out.send(rc === RC.OK ? await this.list() : { rc });
  }

  /** bs_list: every slot holding a valid image, with only the flags that are true. */
  private async list(): Promise<Record<string, unknown>> {
    const { images, config, mode } = this.target;
    const entries: Record<string, unknown>[] = [];
    for (let n = 0; n < images; n++) {
      const valid = [await this.validImage(2 * n), await this.validImage(2 * n + 1)];
      const flags = modePicksSlot(mode)
        ? this.directXipFlags(
            n,
            valid.map((v) => v?.header.version),
          )
        : this.swapFlags(n);
      valid.forEach((info, s) => {
        if (!info) return;
        const f = flags[s]!;
        entries.push({
          image: images > 1 ? n : undefined,
          bootable: (info.header.flags & IMAGE_FLAGS.NON_BOOTABLE) === 0 ? true : undefined,
          ...(config.imageState
            ? { confirmed: f.confirmed || undefined, active: f.active || undefined, pending: f.pending || undefined, permanent: f.permanent || undefined }
            : {}),
          slot: s,
          hash: config.hash ? info.hash : undefined,
          version: formatVersion(info.header.version), // bs_list_img_ver: the build number only when not 0
        });
      });
    }
    return { images: entries };
  }

  /** The image in a slot, when bootutil_img_validate accepts it. */
  private async validImage(slot: number): Promise<SlotImage | undefined> {
    const { flash, validate } = this.target;
    if (!flash.hasSlot(slot)) return undefined;
    const info = readSlotImage(flash.read(slot));
    return info && (await validate(flash.read(slot))) ? info : undefined;
  }

  /**
   * Flags from the swap type (boot_serial.c bs_list). `active` on the primary slot when nothing is pending is what
   * the recorded MCUboot 346f7374 sends (rec_img_state_read_after_upload_v1 against rec_img_state_write_confirm_no_hash_v1).
   */
  private swapFlags(image: number): Flags[] {
    const type = imageSwapType(this.target.flash, image);
    const primary = { ...NO_FLAGS };
    const secondary = { ...NO_FLAGS };
    if (type === SwapType.NONE) Object.assign(primary, { confirmed: true, active: true });
    else if (type === SwapType.TEST) Object.assign(primary, { confirmed: true }), Object.assign(secondary, { pending: true });
    else if (type === SwapType.PERM) Object.assign(primary, { confirmed: true }), Object.assign(secondary, { pending: true, permanent: true });
    else if (type === SwapType.REVERT) Object.assign(secondary, { confirmed: true });
    return [primary, secondary];
  }

  /** Direct-XIP and RAM-load: the slot with the higher version runs (boot_serial.c bs_list, MCUBOOT_DIRECT_XIP[_REVERT]). */
  private directXipFlags(image: number, versions: (ImageVersion | undefined)[]): Flags[] {
    const active = activeXipSlot(versions);
    const flags = [{ ...NO_FLAGS }, { ...NO_FLAGS }];
    if (this.target.mode !== McubootMode.DIRECT_XIP_REVERT) {
      flags[active]!.confirmed = true;
      return flags;
    }
    const inactive = 1 - active;
    const t = this.target.flash.readTrailer(2 * image + active);
    if (t.magic === 'good') {
      if (t.imageOk === 'set') flags[active]!.confirmed = true;
      else if (t.copyDone === 'set') flags[inactive]!.confirmed = true;
      else (flags[active]!.pending = true), (flags[inactive]!.confirmed = true);
    } else {
      const other = this.target.flash.readTrailer(2 * image + inactive);
      if (other.magic === 'good' && other.imageOk === 'set') flags[inactive]!.confirmed = true;
    }
    return flags;
  }

  /**
   * bs_set. The recorded MCUboot looks for a hash only in the secondary slots (the primary's hash is ENOENT), and
   * without a hash marks image 0's secondary slot for a test or, with confirm, a permanent swap, even when that slot
   * is empty (rec_img_state_write_confirm_no_hash_v1).
   */
  private async setState(body: Uint8Array): Promise<number> {
    const map = decodeMap(body);
    if (!map || (map.confirm !== undefined && typeof map.confirm !== 'boolean') || (map.hash !== undefined && !(map.hash instanceof Uint8Array))) {
      return RC.EINVAL;
    }
    const confirm = map.confirm === true;
    const hash = this.target.config.hash ? (map.hash as Uint8Array | undefined) : undefined;
    const { flash, images } = this.target;
    if ((hash && hash.length !== 32 && hash.length !== 0) || ((!hash || hash.length === 0) && images > 1)) return RC.EINVAL;
    let image = 0;
    if (hash && hash.length > 0) {
      let found: number | undefined;
      for (let n = 0; n < images && found === undefined; n++) {
        const info = await this.validImage(2 * n + 1);
        if (info && Buffer.from(info.hash).equals(Buffer.from(hash))) found = n;
      }
      if (found === undefined) return RC.ENOENT;
      const type = imageSwapType(flash, found);
      if (type === SwapType.TEST || type === SwapType.PERM || type === SwapType.REVERT) return RC.EBADSTATE;
      image = found;
    }
    // boot_set_pending: a secondary trailer already marked stays as it is.
    const secondary = 2 * image + 1;
    if (flash.readTrailer(secondary).magic === 'unset') {
      flash.writeTrailer(secondary, { magic: true, imageOk: confirm, swapInfo: (confirm ? SwapType.PERM : SwapType.TEST) | (image << 4) });
    }
    return RC.OK;
  }

  /** The flash slot an upload with this `image` writes, or an rc (bs_upload: flash_area_id_from_[multi_image_slot|direct_image]). */
  private uploadSlot(image: number): number | { rc: number } {
    const { flash, images, config } = this.target;
    if (config.directImageUpload) {
      const slot = Math.max(0, image - 1);
      return flash.hasSlot(slot) ? slot : { rc: RC.EINVAL };
    }
    if (image > images) return { rc: RC.ENOENT };
    return image < images ? 2 * image : { rc: RC.EINVAL };
  }

  /** bs_upload: only `image`, `data`, `len` and `off` are read; whole write units are written and `off` says so. */
  private uploadChunk(body: Uint8Array): Record<string, unknown> {
    const map = decodeMap(body);
    if (!map) return { rc: RC.EINVAL };
    const { image, data, len, off } = map;
    if ((image !== undefined && !isUint(image)) || (len !== undefined && !isUint(len)) || (off !== undefined && !isUint(off))) return { rc: RC.EINVAL };
    if (data !== undefined && !(data instanceof Uint8Array)) return { rc: RC.EINVAL };
    if (off === undefined || data === undefined) return { rc: RC.EINVAL };
    if (off === 0) this.uploadImage = image ?? 0;
    const slot = this.uploadSlot(this.uploadImage);
    if (typeof slot !== 'number') return slot;
    const { flash, config } = this.target;
    let up = this.upload;
    if (off === 0) {
      if (len === undefined || len > flash.slotSize) return { rc: RC.EINVAL };
      if (!config.progressiveErase) {
        flash.erase(slot);
        this.flashBusyMs += (flash.slotSize / config.sectorSize) * config.sectorEraseMs;
      }
      up = { slot, size: len, off: 0, erasedTo: 0 };
      this.upload = up;
    } else if (!up || off !== up.off) {
      // Any other offset: "pretend success" and name the expected one.
      return { rc: RC.OK, off: up?.off ?? 0 };
    } else if (up.off + data.length > up.size) {
      return { rc: RC.EINVAL };
    }
    if (config.progressiveErase) this.eraseUpTo(up, up.off + data.length);
    const align = config.writeAlign;
    let length = data.length - (data.length % align);
    let write = data.subarray(0, length);
    if (up.off + data.length >= up.size && length < data.length) {
      // The last chunk: its tail is padded with the erased value to a whole write unit.
      const padded = new Uint8Array(length + align).fill(0xff);
      padded.set(data);
      write = padded;
      length = data.length;
    }
    if (write.length > 0) flash.write(up.slot, up.off, write);
    up.off += length;
    if (config.progressiveErase && up.off === up.size) this.eraseTrailerSector(up.slot);
    return { rc: RC.OK, off: up.off };
  }

  private eraseUpTo(up: UploadState, end: number): void {
    const sector = this.target.config.sectorSize;
    const to = Math.min(this.target.flash.slotSize, Math.ceil(end / sector) * sector);
    if (to > up.erasedTo) {
      this.target.flash.erase(up.slot, up.erasedTo, to - up.erasedTo);
      this.flashBusyMs += ((to - up.erasedTo) / sector) * this.target.config.sectorEraseMs;
    }
    up.erasedTo = Math.max(up.erasedTo, to);
  }

  private eraseTrailerSector(slot: number): void {
    const { flash, config } = this.target;
    const start = flash.slotSize - config.sectorSize;
    flash.erase(slot, start, config.sectorSize);
  }

  /** bs_slot_info. Sent with the write op it answers twice: `rc 8`, then a second frame (see ResponseWriter.sendAgain). */
  private slotInfo(op: number, out: ResponseWriter): void {
    const { flash, images, config } = this.target;
    const info = [];
    for (let n = 0; n < images; n++) {
      const slots = [0, 1].map((s) => ({
        slot: s,
        size: flash.slotSize,
        // Direct upload: image × 2 + slot + 1. Otherwise the recorded MCUboot names 2 × image + 1 on the secondary slot
        // (rec_img_slot_info_v1), although its uploads go to the primary slot.
        upload_image_id: config.directImageUpload ? n * 2 + s + 1 : s === 1 ? n * 2 + 1 : undefined,
      }));
      info.push({ image: n, slots, max_image_size: this.maxImageSize() });
    }
    if (op !== OP_READ) {
      out.send({ rc: RC.ENOTSUP });
      out.sendAgain({ images: info });
      return;
    }
    out.send({ images: info });
  }

  /** boot_get_max_app_size: swap using move or offset keeps a sector free and the trailer's sector; the others the trailer's. */
  private maxImageSize(): number {
    const { flash, mode, config } = this.target;
    const reserved = mode === McubootMode.SWAP_MOVE || mode === McubootMode.SWAP_OFFSET ? 2 : 1;
    return flash.slotSize - reserved * config.sectorSize;
  }
}

interface Flags {
  confirmed: boolean;
  active: boolean;
  pending: boolean;
  permanent: boolean;
}
const NO_FLAGS: Flags = { confirmed: false, active: false, pending: false, permanent: false };

/** The slot direct-XIP boots: the secondary when its version is higher. */
export function activeXipSlot(versions: (ImageVersion | undefined)[]): number {
  const [a, b] = versions;
  if (!b) return 0;
  if (!a) return 1;
  return compareVersions(a, b) < 0 ? 1 : 0;
}

function isUint(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

function decodeMap(body: Uint8Array): Record<string, unknown> | undefined {
  try {
    return decodeCborMap(body);
  } catch {
    return undefined;
  }
}

/**
 * boot_serial_output(): the reply reuses the request header, with op + 1 (the version bits and the rest of the
 * first byte kept), flags 0 and the group written back in network order.
 */
class ResponseWriter {
  readonly packets: Uint8Array[] = [];
  private readonly header: Uint8Array;
  /** Encoded so far: boot_serial does not reset its encoder between the two outputs of slot info's write op. */
  private encoded: Uint8Array = new Uint8Array(0);

  constructor(requestHeader: Uint8Array) {
    this.header = Uint8Array.from(requestHeader);
  }

  send(body: Record<string, unknown>): void {
    this.encoded = encodeCborIndefinite(body);
    this.emit();
  }

  /**
   * The second output: the op is incremented again (4) and the group byte-swapped again (1 → 256); the payload
   * is the first reply's map followed by this one.
   */
  sendAgain(body: Record<string, unknown>): void {
    const more = encodeCborIndefinite(body);
    const both = new Uint8Array(this.encoded.length + more.length);
    both.set(this.encoded);
    both.set(more, this.encoded.length);
    this.encoded = both;
    const [hi, lo] = [this.header[4]!, this.header[5]!];
    this.header[4] = lo;
    this.header[5] = hi;
    this.emit();
  }

  private emit(): void {
    const h = this.header;
    h[0] = (h[0]! & ~0x07) | ((h[0]! + 1) & 0x07);
    h[1] = 0;
    h[2] = this.encoded.length >> 8;
    h[3] = this.encoded.length & 0xff;
    const packet = new Uint8Array(SMP_HEADER_SIZE + this.encoded.length);
    packet.set(h);
    packet.set(this.encoded, SMP_HEADER_SIZE);
    this.packets.push(packet);
  }
}
