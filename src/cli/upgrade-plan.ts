/** Which steps `image upgrade` takes, by where the device is (application or MCUboot's recovery) and MCUboot's mode. */
import { describeMcubootMode, McubootMode, modePicksSlot } from '../groups/bootloader-modes.js';
import { IMAGE_FLAGS, parseHeader } from '../image/index.js';
import { UsageError } from './connect.js';

export interface UpgradePlan {
  /** Mark the uploaded image for test before the reset. */
  markBeforeReset: 'test' | 'none';
  /** Confirm the new image once it runs (swap modes, direct-XIP with revert). */
  confirmAfterBoot: boolean;
  /** Shown before the upload: what differs from the usual swap. */
  note?: string;
}

/**
 * - MCUboot's serial recovery writes the primary slot itself: upload, reset, check (boot_serial.c).
 * - Swap modes: test, reset, check, confirm (or the image reverts).
 * - Overwrite-only: a test (or confirm) still starts the copy; afterwards the image is permanent, nothing to confirm.
 * - Direct-XIP and RAM-load: the newest valid image runs where it is, no mark needed; with revert it must be marked
 *   and confirmed like a swap.
 */
export function upgradePlan(mode: number | undefined, inRecovery: boolean): UpgradePlan {
  if (inRecovery)
    return {
      markBeforeReset: 'none',
      confirmAfterBoot: false,
      note: 'The device is in MCUboot serial recovery: the image goes to the primary slot and boots after the reset; nothing to test or confirm',
    };
  if (mode === McubootMode.OVERWRITE_ONLY) {
    return {
      markBeforeReset: 'test',
      confirmAfterBoot: false,
      note: `MCUboot ${describeMcubootMode(mode)}: the copy is permanent once done; no confirm after the boot`,
    };
  }
  if (mode === McubootMode.DIRECT_XIP || mode === McubootMode.RAM_LOAD) {
    return { markBeforeReset: 'none', confirmAfterBoot: false, note: `MCUboot ${describeMcubootMode(mode)}: the newest valid image runs; no test or confirm` };
  }
  if (mode === McubootMode.DIRECT_XIP_REVERT) return { markBeforeReset: 'test', confirmAfterBoot: true };
  if (mode === McubootMode.SINGLE_APP || mode === McubootMode.FIRMWARE_LOADER || mode === McubootMode.SINGLE_SLOT_RAM_LOAD) {
    throw new UsageError(
      `MCUboot runs in ${describeMcubootMode(mode)} mode: the application cannot replace itself; ` +
        'reset into the bootloader (`mcumgr reset --boot-mode bootloader`) and run `image upgrade` there',
    );
  }
  return { markBeforeReset: 'test', confirmAfterBoot: true };
}

export interface CandidateImage {
  file: string;
  bytes: Uint8Array;
}

/**
 * Direct-XIP executes an image in place, so it must be linked for the slot it lands in (imgtool `-F/--rom-fixed`
 * puts that address in the header, and MCUboot refuses an image whose address is another slot's). The upload goes to
 * the slot that is not running. Of two builds, the one for the lower address is the primary slot's (slot 0 lies
 * below slot 1 in MCUboot's flash maps); with one build, it must be ROM-fixed, and it is the caller's to know which.
 */
export function pickForSlot<C extends CandidateImage>(mode: number | undefined, candidates: C[], targetSlot: number): C {
  if (!modePicksSlot(mode ?? -1) || mode === McubootMode.RAM_LOAD) {
    if (candidates.length > 1) throw new UsageError('two images are only taken in MCUboot direct-XIP mode (one build per slot)');
    return candidates[0]!;
  }
  const fixed = candidates.map((c) => ({ c, header: parseHeader(c.bytes) }));
  const loose = fixed.find((f) => (f.header.flags & IMAGE_FLAGS.ROM_FIXED) === 0);
  if (loose) {
    throw new UsageError(
      `${loose.c.file} has no fixed address: MCUboot ${describeMcubootMode(mode!)} runs the image where it lies, so build it for ` +
        'each slot and sign each with `imgtool sign -F ADDRESS` (`--rom-fixed`), then give both files',
    );
  }
  if (fixed.length === 1) return fixed[0]!.c;
  if (fixed.length !== 2 || fixed[0]!.header.loadAddr === fixed[1]!.header.loadAddr) {
    throw new UsageError('direct-XIP takes one build per slot: two images with different fixed addresses');
  }
  const [low, high] = [...fixed].sort((a, b) => a.header.loadAddr - b.header.loadAddr);
  return (targetSlot === 0 ? low! : high!).c;
}
