/** What MCUboot does at reset in each of its modes, on the virtual device's flash. */
import { McubootMode, modeSwaps } from '../../groups/bootloader-modes.js';
import { bootAll, imageSwapType, SwapType, type BootEvent, type BootValidator } from '../boot.js';
import type { Flash } from '../flash.js';

/**
 * Swap modes swap (boot.ts). Overwrite-only copies a pending secondary image over the primary and erases the
 * secondary (MCUboot loader.c, MCUBOOT_OVERWRITE_ONLY: no revert, the image is permanent). Direct-XIP, RAM-load,
 * single-app and the firmware loader move nothing: they boot a slot where it is.
 */
export async function bootForMode(flash: Flash, images: number, mode: number, validate: BootValidator): Promise<BootEvent[]> {
  if (modeSwaps(mode)) return bootAll(flash, images, validate);
  const events: BootEvent[] = [];
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
    if (!(await validate(secondary))) {
      flash.erase(2 * n + 1);
      events.push({ image: n, action: 'rejected' });
      continue;
    }
    secondary.fill(0xff, flash.slotSize - flash.trailerSize);
    flash.erase(2 * n);
    flash.write(2 * n, 0, secondary);
    flash.writeTrailer(2 * n, { magic: true, copyDone: true, imageOk: true });
    flash.erase(2 * n + 1);
    events.push({ image: n, action: 'perm' });
  }
  return events;
}
