/** What MCUboot does at reset in each of its modes, on the virtual device's flash. */
import { McubootMode, modePicksSlot, modeSwaps } from '../../groups/bootloader-modes.js';
import { compareVersions, IMAGE_FLAGS } from '../../image/index.js';
import { bootAll, imageSwapType, SwapType, type BootEvent, type BootValidator } from '../boot.js';
import type { ResetEvent } from '../encrypted-image.js';
import type { Flash } from '../flash.js';
import { readSlotImage } from '../slot-image.js';

/** What MCUboot's overwrite copies to the primary slot, or why it refuses the secondary image (when that is known). */
export type CopySource = { image: Uint8Array } | { reason?: string };

/** A copy other than the plain one (MCUboot's decompression) for the images it takes; undefined for the others. */
export type CopyOverride = (secondary: Uint8Array) => Promise<CopySource | undefined>;

/**
 * Swap modes swap (boot.ts). Overwrite-only copies a pending secondary image over the primary and erases the
 * secondary (MCUboot loader.c, MCUBOOT_OVERWRITE_ONLY: no revert, the image is permanent); `copyOverride` takes the
 * images it rebuilds (compressed-image.ts). Direct-XIP, RAM-load, single-app and the firmware loader move nothing:
 * they boot a slot where it is.
 */
export async function bootForMode(
  flash: Flash,
  images: number,
  mode: number,
  validate: BootValidator,
  slots?: PickedSlots,
  copyOverride?: CopyOverride,
): Promise<ResetEvent[]> {
  if (modeSwaps(mode)) return bootAll(flash, images, validate);
  if (modePicksSlot(mode) && slots) return bootNewestSlots(flash, images, mode, validate, slots);
  const events: ResetEvent[] = [];
  for (let n = 0; n < images; n++) {
    if (mode !== McubootMode.OVERWRITE_ONLY) {
      events.push({ image: n, action: 'none' });
      continue;
    }
    const type = imageSwapType(flash, n);
    if (type !== SwapType.TEST && type !== SwapType.PERM) {
      events.push({ image: n, action: 'none' });
      continue;
    }
    const secondary = Buffer.from(flash.read(2 * n + 1));
    const source =
      (await copyOverride?.(secondary)) ?? ((await validate(secondary)) ? { image: secondary.subarray(0, flash.slotSize - flash.trailerSize) } : {});
    if (!('image' in source)) {
      flash.erase(2 * n + 1);
      events.push({ image: n, action: 'rejected', ...(source.reason ? { reason: source.reason } : {}) });
      continue;
    }
    flash.erase(2 * n);
    flash.write(2 * n, 0, source.image);
    flash.writeTrailer(2 * n, { magic: true, copyDone: true, imageOk: true });
    flash.erase(2 * n + 1);
    events.push({ image: n, action: 'perm' });
  }
  return events;
}

/** Where the slots lie and which one each image ran from before this boot (direct-XIP and RAM-load). */
export interface PickedSlots {
  /** Flash offset of a slot (MCUboot compares a ROM-fixed image's load address with it). */
  offsetOf: (slot: number) => number;
  /** The slot image n ran from. */
  running: (image: number) => number;
}

/**
 * MCUboot's direct-XIP and RAM-load (mcu-tools/mcuboot boot/bootutil/src/loader.c, split on main into
 * loader_xip.c, loader_ram_load.c and loader_xip_ram_common.c: `find_slot_with_highest_version`,
 * `boot_load_and_validate_images_xip` / `_ram`, `boot_rom_address_check`, `boot_select_or_erase`;
 * `boot_validate_slot`): per image, the slot with the highest version is tried first. Direct-XIP passes over a slot
 * whose ROM-fixed address is not its own (RAM-load copies the image to RAM and does not check it). With revert, a
 * slot without a good magic, or one already booted once (copy_done) and never confirmed (image_ok), is erased;
 * otherwise copy_done is set as it is selected. An invalid image is erased (the slots are equivalent) and the other
 * slot tried. The event names the slot booted; `revert` when an unconfirmed image was erased, `rejected` when an
 * image was refused.
 */
async function bootNewestSlots(flash: Flash, images: number, mode: number, validate: BootValidator, slots: PickedSlots): Promise<BootEvent[]> {
  const revert = mode === McubootMode.DIRECT_XIP_REVERT;
  const checksAddress = mode !== McubootMode.RAM_LOAD;
  const events: BootEvent[] = [];
  for (let n = 0; n < images; n++) {
    const candidates = [2 * n, 2 * n + 1]
      .map((slot) => ({ slot, info: readSlotImage(flash.read(slot)) }))
      .filter((c) => c.info !== undefined)
      .sort((a, b) => compareVersions(b.info!.header.version, a.info!.header.version));
    let action: BootEvent['action'] = 'none';
    let booted: number | undefined;
    for (const { slot, info } of candidates) {
      const header = info!.header;
      if (checksAddress && (header.flags & IMAGE_FLAGS.ROM_FIXED) !== 0 && header.loadAddr !== slots.offsetOf(slot)) {
        action = 'rejected';
        continue;
      }
      if (revert) {
        const t = flash.readTrailer(slot);
        if (t.magic !== 'good' || (t.copyDone === 'set' && t.imageOk !== 'set')) {
          flash.erase(slot);
          action = t.magic === 'good' ? 'revert' : 'rejected';
          continue;
        }
        if (t.copyDone !== 'set') flash.writeTrailer(slot, { copyDone: true });
      }
      if (!(await validate(flash.read(slot)))) {
        flash.erase(slot);
        action = 'rejected';
        continue;
      }
      booted = slot;
      break;
    }
    if (booted !== undefined && booted !== slots.running(n) && action === 'none') action = revert ? 'test' : 'perm';
    events.push({ image: n, action, ...(booted !== undefined ? { slot: booted } : {}) });
  }
  return events;
}
