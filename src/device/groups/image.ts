import { createHash } from 'node:crypto';
import * as v from 'valibot';
import { image, uploadRequest } from '../../groups/image.js';
import { McubootMode, modePicksSlot } from '../../groups/bootloader-modes.js';
import { imageSwapType, SwapType } from '../boot.js';
import { GroupError } from '../errors.js';
import { compareVersions, formatVersion, IMAGE_FLAGS, IMAGE_MAGIC, parseHeader, type ImageVersion } from '../../image/index.js';
import { readSlotImage } from '../slot-image.js';
import type { VirtualDevice } from '../device.js';

const G = 1;

type NextType = 'normal' | 'test' | 'revert';

/** Next-boot slot and type of image n, from MCUboot's swap type (§2.2.2). */
function nextBoot(dev: VirtualDevice, n: number): { slot: number; type: NextType } {
  const active = 2 * n;
  switch (imageSwapType(dev.flash, n)) {
    case SwapType.PERM:
      return { slot: active + 1, type: 'normal' };
    case SwapType.REVERT:
      return { slot: active + 1, type: 'revert' };
    case SwapType.TEST:
      return { slot: active + 1, type: 'test' };
    default:
      return { slot: active, type: 'normal' };
  }
}

interface SlotFlags {
  pending: boolean;
  confirmed: boolean;
  active: boolean;
  permanent: boolean;
}

function slotFlags(dev: VirtualDevice, slot: number): SlotFlags {
  if (modePicksSlot(dev.config.mcubootMode)) return pickedSlotFlags(dev, slot);
  const n = slot >> 1;
  const active = 2 * n;
  const next = nextBoot(dev, n);
  const f = { pending: false, confirmed: false, active: false, permanent: false };
  if (slot === active) {
    // Zephyr marks only the running application (image 0) active; other images' primary slots are just confirmed.
    f.active = n === 0;
    f.confirmed = next.type !== 'revert';
  } else if (next.type === 'normal' && next.slot !== active) {
    f.pending = true;
    f.permanent = true;
  } else if (next.type === 'revert') {
    f.confirmed = true;
  } else if (next.type === 'test') {
    f.pending = true;
  }
  return f;
}

/**
 * Direct-XIP and RAM-load (Zephyr subsys/mgmt/mcumgr/grp/img_mgmt/src/img_mgmt_state.c): `active` on the slot the
 * image runs from; each slot's own trailer says the rest, as MCUboot reads it there (bootutil_public.c): marked for
 * test (magic, no copy_done) is pending, with image_ok also permanent; the running slot is confirmed unless, with
 * revert, it runs on test (image_ok not set yet).
 */
function pickedSlotFlags(dev: VirtualDevice, slot: number): SlotFlags {
  const n = slot >> 1;
  const t = dev.flash.readTrailer(slot);
  if (slot === dev.runningSlot(n)) {
    const onTest = dev.config.mcubootMode === McubootMode.DIRECT_XIP_REVERT && t.imageOk !== 'set';
    return { pending: false, confirmed: !onTest, active: n === 0, permanent: false };
  }
  const pending = t.magic === 'good' && t.copyDone !== 'set';
  return { pending, confirmed: false, active: false, permanent: pending && t.imageOk === 'set' };
}

/**
 * Direct-XIP and RAM-load (Zephyr img_mgmt_state.c `img_mgmt_state_set_pending` / `img_mgmt_state_confirm`, MCUboot
 * bootutil_public.c `boot_set_next`): test marks the slot's own trailer (magic), confirm also sets image_ok; a
 * confirm of the running slot sets its image_ok, a test of it is refused.
 */
function setPickedSlot(dev: VirtualDevice, slot: number, confirm: boolean): void {
  const running = slot === dev.runningSlot(slot >> 1);
  if (running && !confirm) throw new GroupError(G, 33);
  const t = dev.flash.readTrailer(slot);
  if (t.magic === 'good') {
    if ((running || confirm) && t.imageOk !== 'set') dev.flash.writeTrailer(slot, { imageOk: true });
  } else if (t.magic === 'unset') {
    dev.flash.writeTrailer(slot, { magic: true, imageOk: confirm || running });
  } else {
    throw new GroupError(G, 29);
  }
}

export function imageStateList(dev: VirtualDevice): { images: unknown[]; splitStatus: number } {
  const images: unknown[] = [];
  for (let slot = 0; slot < dev.flash.slotCount; slot++) {
    const info = readSlotImage(dev.flash.read(slot));
    if (!info) continue;
    const { version, flags } = info.header;
    const f = slotFlags(dev, slot);
    images.push({
      image: dev.config.images > 1 ? slot >> 1 : undefined,
      slot: slot & 1,
      version: formatVersion(version),
      hash: info.hash,
      bootable: (flags & IMAGE_FLAGS.NON_BOOTABLE) === 0,
      pending: f.pending,
      confirmed: f.confirmed,
      active: f.active,
      permanent: f.permanent,
    });
  }
  return { images, splitStatus: 0 };
}

function setNextBootSlot(dev: VirtualDevice, slot: number, confirm: boolean): void {
  if (modePicksSlot(dev.config.mcubootMode)) {
    setPickedSlot(dev, slot, confirm);
    return;
  }
  const n = slot >> 1;
  const active = 2 * n;
  const next = nextBoot(dev, n);
  if (!confirm && slot === active) throw new GroupError(G, 33);
  if (next.type === 'test') {
    if (!confirm && slot === next.slot) return;
    throw new GroupError(G, 28);
  }
  if (next.type === 'normal') {
    if (confirm && slot === next.slot) return;
    if ((slot === active && active !== next.slot) || (!confirm && slot !== active && slot === next.slot)) throw new GroupError(G, 28);
  }
  if (next.type === 'revert') {
    if (confirm && slot === next.slot) return;
    if (!confirm) throw new GroupError(G, 28);
  }
  // boot_set_next(fa, active, confirm)
  const isActive = slot === active;
  const t = dev.flash.readTrailer(slot);
  if (t.magic === 'good') {
    if (isActive && t.imageOk === 'unset') dev.flash.writeTrailer(slot, { imageOk: true });
  } else if (t.magic === 'unset') {
    if (!isActive) {
      dev.flash.writeTrailer(slot, {
        magic: true,
        imageOk: confirm,
        swapInfo: (confirm ? SwapType.PERM : SwapType.TEST) | (n << 4),
      });
    }
  } else if (isActive) {
    throw new GroupError(G, 29);
  } else {
    dev.flash.erase(slot);
    throw new GroupError(G, 23);
  }
}

export interface UploadState {
  image: number;
  slot: number;
  off: number;
  len: number;
  /** hex */
  sha: string;
}

function slotInUse(dev: VirtualDevice, slot: number): boolean {
  if (!readSlotImage(dev.flash.read(slot))) return false;
  if (slot === dev.runningSlot(slot >> 1)) return true;
  const f = slotFlags(dev, slot);
  return (slot % 2 === 0 && !modePicksSlot(dev.config.mcubootMode)) || f.pending || f.confirmed;
}

function slotEmpty(dev: VirtualDevice, slot: number): boolean {
  const b = dev.flash.read(slot);
  for (let i = 0; i < b.length; i++) if (b[i] !== 0xff) return false;
  return true;
}

/** Version in the header of the first chunk; a header MCUboot could not read is IMG_MGMT_ERR_INVALID_IMAGE_HEADER. */
function uploadedVersion(firstChunk: Uint8Array): ImageVersion {
  try {
    return parseHeader(firstChunk).version;
  } catch {
    throw new GroupError(G, 23);
  }
}

export function registerImage(dev: VirtualDevice): void {
  const { server, config, flash } = dev;
  server.setGroupName(G, 'img mgmt');

  server.register(image.state, () => imageStateList(dev) as never);

  server.register(image.setState, (req) => {
    const confirm = req.confirm ?? false;
    let slot: number;
    if (req.hash === undefined) {
      if (!confirm) throw new GroupError(G, 24);
      slot = dev.runningSlot(0);
    } else {
      if (req.hash.length !== 32) throw new GroupError(G, 24);
      const want = Buffer.from(req.hash);
      slot = -1;
      for (let s = 0; s < flash.slotCount; s++) {
        const info = readSlotImage(flash.read(s));
        if (info && want.equals(Buffer.from(info.hash))) {
          slot = s;
          break;
        }
      }
      if (slot < 0) throw new GroupError(G, 8);
    }
    setNextBootSlot(dev, slot, confirm);
    return imageStateList(dev) as never;
  });

  server.register(
    image.upload,
    (req) => {
      if (req.off === undefined) throw new GroupError(G, 20);
      const data = req.data ?? new Uint8Array(0);
      let up = dev.upload;
      if (req.off === 0) {
        if (req.data === undefined || data.length < 32) throw new GroupError(G, 22);
        if (req.len === undefined) throw new GroupError(G, 21);
        if (new DataView(data.buffer, data.byteOffset, 4).getUint32(0, true) !== IMAGE_MAGIC) throw new GroupError(G, 23);
        const sha = req.sha ?? new Uint8Array(0);
        if (sha.length > 32) throw new GroupError(G, 24);
        const shaHex = Buffer.from(sha).toString('hex');
        if (sha.length > 0 && up && up.sha === shaHex) return { off: up.off };
        let n = req.image ?? 0;
        if (config.images === 1) n = 0;
        else if (n >= config.images) throw new GroupError(G, 14);
        // Direct-XIP and RAM-load: the slot the image does not run from (Zephyr img_mgmt.c, `img_mgmt_get_unused_slot_area_id`).
        const running = dev.runningSlot(n);
        const slot = running ^ 1;
        if (slotInUse(dev, slot)) throw new GroupError(G, 9);
        if (req.len > flash.slotSize) throw new GroupError(G, 30);
        if (req.upgrade) {
          const runningImage = readSlotImage(flash.read(running));
          if (!runningImage) throw new GroupError(G, 26);
          if (compareVersions(runningImage.header.version, uploadedVersion(data)) >= 0) throw new GroupError(G, 27);
        }
        if (config.imageCheck && sha.length === 32) {
          const current = createHash('sha256').update(flash.read(slot).subarray(0, req.len)).digest();
          if (current.equals(Buffer.from(sha))) {
            dev.setUpload(undefined);
            return { off: req.len, match: true };
          }
        }
        flash.erase(slot);
        up = { image: n, slot, off: 0, len: req.len, sha: shaHex };
      } else if (!up || req.off !== up.off) {
        return { off: up?.off ?? 0 };
      }
      if (up.off + data.length > up.len) {
        dev.setUpload(undefined);
        throw new GroupError(G, 31);
      }
      if (data.length > 0) flash.write(up.slot, up.off, data);
      up = { ...up, off: up.off + data.length };
      if (up.off >= up.len) {
        dev.setUpload(undefined);
        if (config.imageCheck && up.sha.length === 64) {
          const got = createHash('sha256').update(flash.read(up.slot).subarray(0, up.len)).digest('hex');
          return { off: up.off, match: got === up.sha };
        }
        return { off: up.off };
      }
      dev.setUpload(up);
      return { off: up.off };
    },
    { request: v.partial(uploadRequest) },
  );

  server.register(image.erase, (req) => {
    const slot = req.slot ?? 1;
    if (!flash.hasSlot(slot)) throw new GroupError(G, 10);
    if (slotInUse(dev, slot)) throw new GroupError(G, 9);
    if (slotEmpty(dev, slot)) throw new GroupError(G, 1);
    flash.erase(slot);
    dev.setUpload(undefined);
    return {};
  });

  server.register(image.slotInfo, () => {
    const images = [];
    for (let n = 0; n < config.images; n++) {
      images.push({
        image: n,
        slots: [
          { slot: 0, size: flash.slotSize },
          { slot: 1, size: flash.slotSize, upload_image_id: n },
        ],
        max_image_size: flash.slotSize - flash.trailerSize,
      });
    }
    return { images };
  });
}
