/** MCUboot swap logic (§4.6): what the bootloader decides and does at reset, per image. */
import { verifyImage, type Trailer } from '../image/index.js';
import { SECTOR_SIZE, type Flash } from './flash.js';
import { readSlotImage } from './slot-image.js';

export const SwapType = { NONE: 1, TEST: 2, PERM: 3, REVERT: 4, FAIL: 5, PANIC: 0xff } as const;

/** `boot_swap_type_multi` (bootutil_public.c, `boot_swap_tables`) for the swap modes. */
export function swapType(primary: Trailer, secondary: Trailer): number {
  if (secondary.magic === 'good' && secondary.imageOk === 'unset') return SwapType.TEST;
  if (secondary.magic === 'good' && secondary.imageOk === 'set') return SwapType.PERM;
  if (primary.magic === 'good' && primary.imageOk === 'unset' && primary.copyDone === 'set' && secondary.magic === 'unset') return SwapType.REVERT;
  return SwapType.NONE;
}

export function imageSwapType(flash: Flash, image: number): number {
  return swapType(flash.readTrailer(2 * image), flash.readTrailer(2 * image + 1));
}

export interface BootValidator {
  /** Extra check of a secondary image before it is swapped in (e.g. signatures); true = valid. */
  (image: Uint8Array): boolean | Promise<boolean>;
}

/**
 * MCUboot's image validation: a readable image with a SHA-256 TLV, the hash always, the signature when `key`
 * (PEM public key) is given. Slot padding and the trailer after the TLVs are cut off before checking.
 */
export function mcubootValidator(key?: string): BootValidator {
  return async (slot: Uint8Array): Promise<boolean> => {
    const image = readSlotImage(slot);
    if (!image) return false;
    const r = await verifyImage(slot.subarray(0, image.size), key !== undefined ? { key } : {});
    if (!r.ok || !r.hashOk) return false;
    if (key !== undefined && !(r.signatureChecked && r.signatureOk)) return false;
    return true;
  };
}

/** Combines validators: all must accept. */
export function allValidators(...validators: (BootValidator | undefined)[]): BootValidator {
  const list = validators.filter((v): v is BootValidator => v !== undefined);
  return async (image) => {
    for (const validate of list) if (!(await validate(image))) return false;
    return true;
  };
}

export interface BootEvent {
  image: number;
  action: 'none' | 'test' | 'perm' | 'revert' | 'rejected';
  /** The slot MCUboot boots the image from (direct-XIP and RAM-load; swap modes always boot the primary). */
  slot?: number;
  /** The swap was one a power cut interrupted, completed at this boot. */
  resumed?: boolean;
}

const ACTIONS: Record<number, BootEvent['action']> = { [SwapType.TEST]: 'test', [SwapType.PERM]: 'perm', [SwapType.REVERT]: 'revert' };

/** Runs MCUboot's decision for every image: finish an interrupted swap, else swap, revert, or refuse an invalid secondary image. */
export async function bootAll(flash: Flash, images: number, validate: BootValidator): Promise<BootEvent[]> {
  const events: BootEvent[] = [];
  for (let n = 0; n < images; n++) events.push(completeInterruptedSwap(flash, n) ?? { image: n, action: await bootImage(flash, n, validate) });
  return events;
}

/** At power-on: finishes every swap a power cut interrupted (and nothing else), as MCUboot's first step at boot does. */
export function completeInterruptedSwaps(flash: Flash, images: number): BootEvent[] {
  const events: BootEvent[] = [];
  for (let n = 0; n < images; n++) {
    const event = completeInterruptedSwap(flash, n);
    if (event) events.push(event);
  }
  return events;
}

async function bootImage(flash: Flash, n: number, validate: BootValidator): Promise<BootEvent['action']> {
  const type = imageSwapType(flash, n);
  if (type !== SwapType.TEST && type !== SwapType.PERM && type !== SwapType.REVERT) return 'none';
  if (type !== SwapType.REVERT && !(await validate(flash.read(2 * n + 1)))) {
    // MCUboot erases an invalid secondary image; the running image stays.
    flash.erase(2 * n + 1);
    return 'rejected';
  }
  const swap = new SwapMove(flash, n);
  const swapSize = swap.imageAreaSize();
  if (!swap.fits(swapSize)) return 'none';
  swap.run({ type, move: 0, swap: 0, swapSize });
  // boot_perform_update: image_ok came from the secondary trailer (swap_status_init), copy_done marks the swap done.
  flash.writeTrailer(2 * n, { copyDone: true });
  return ACTIONS[type]!;
}

function completeInterruptedSwap(flash: Flash, n: number): BootEvent | undefined {
  const swap = new SwapMove(flash, n);
  const progress = swap.readStatus();
  if (!progress) return undefined;
  swap.run(progress);
  // boot_complete_partial_swap: a permanent swap or a revert must not be reverted later.
  if (progress.type === SwapType.PERM || progress.type === SwapType.REVERT) {
    if (flash.readTrailer(2 * n).imageOk === 'unset') flash.writeTrailer(2 * n, { imageOk: true });
  }
  flash.writeTrailer(2 * n, { copyDone: true });
  return { image: n, action: ACTIONS[progress.type] ?? 'none', resumed: true };
}

/** Where a swap is: `move` sectors moved up, then `swap` steps of the second phase done (two per sector). */
interface SwapProgress {
  type: number;
  move: number;
  swap: number;
  swapSize: number;
}

/** BOOT_MAX_IMG_SECTORS: the status area holds one move entry and two swap entries per sector. */
const MAX_IMG_SECTORS = 128;

/**
 * MCUboot's swap using move (mcu-tools/mcuboot boot/bootutil/src/swap_move.c, swap_misc.c, loader.c):
 * the primary image moves up one sector, then sector by sector the secondary sector i goes to primary i and
 * the moved primary sector i+1 to secondary i. Before the first step the primary trailer gets the swap type,
 * size and magic; after every step a status entry is written to the primary trailer, so a boot after a power
 * cut knows where to go on. Every step only reads regions no later step has overwritten, so redoing an
 * interrupted step is safe.
 */
class SwapMove {
  private readonly primary: number;
  private readonly secondary: number;

  constructor(
    private readonly flash: Flash,
    private readonly image: number,
  ) {
    this.primary = 2 * image;
    this.secondary = 2 * image + 1;
  }

  /** The larger of the two images, with its TLVs (`boot_swap_image`: `copy_size`). */
  imageAreaSize(): number {
    const sizes = [this.primary, this.secondary].map((slot) => readSlotImage(this.flash.read(slot))?.size ?? 0);
    return Math.max(...sizes);
  }

  /** `swap_run`'s check: the moved image must stay below the sectors that hold the trailer. */
  fits(swapSize: number): boolean {
    const trailerSectors = Math.ceil(this.flash.trailerSize / SECTOR_SIZE);
    const firstTrailerSector = this.flash.slotSize / SECTOR_SIZE - trailerSectors;
    return this.lastSector(swapSize) < firstTrailerSector;
  }

  private lastSector(swapSize: number): number {
    return Math.max(1, Math.ceil(swapSize / SECTOR_SIZE));
  }

  /**
   * `swap_read_status`: a swap is under way when the primary trailer has its magic but no copy_done and the
   * secondary has no magic (`swap_status_source`), and at least one status entry is written.
   */
  readStatus(): SwapProgress | undefined {
    const p = this.flash.readTrailer(this.primary);
    const s = this.flash.readTrailer(this.secondary);
    if (p.magic !== 'good' || p.copyDone !== 'unset' || s.magic === 'good') return undefined;
    const last = this.flash.lastStatusEntry(this.primary, 3 * MAX_IMG_SECTORS);
    if (last < 0) return undefined;
    const type = p.swapInfo & 0x0f;
    const progress = { type, swapSize: p.swapSize };
    if (last < MAX_IMG_SECTORS) return { ...progress, move: last + 1, swap: 0 };
    return { ...progress, move: this.lastSector(p.swapSize), swap: last - MAX_IMG_SECTORS + 1 };
  }

  run(progress: SwapProgress): void {
    const { flash, primary, secondary } = this;
    const last = this.lastSector(progress.swapSize);
    if (progress.type === SwapType.REVERT && progress.move === 0) this.fixupRevert(progress.swapSize);
    for (let done = progress.move; done < last; done++) {
      const sector = last - done;
      if (done === 0) this.initStatus(progress);
      flash.erase(primary, sector * SECTOR_SIZE, SECTOR_SIZE);
      flash.copy(primary, (sector - 1) * SECTOR_SIZE, primary, sector * SECTOR_SIZE, SECTOR_SIZE);
      flash.writeStatusEntry(primary, done, 1);
    }
    for (let step = progress.swap; step < 2 * last; step++) {
      const sector = step >> 1;
      if (step % 2 === 0) {
        flash.erase(primary, sector * SECTOR_SIZE, SECTOR_SIZE);
        flash.copy(secondary, sector * SECTOR_SIZE, primary, sector * SECTOR_SIZE, SECTOR_SIZE);
      } else {
        flash.erase(secondary, sector * SECTOR_SIZE, SECTOR_SIZE);
        flash.copy(primary, (sector + 1) * SECTOR_SIZE, secondary, sector * SECTOR_SIZE, SECTOR_SIZE);
      }
      flash.writeStatusEntry(primary, MAX_IMG_SECTORS + step, (step % 2) + 1);
    }
  }

  /**
   * `boot_move_sector_up` at its first sector (a swap with no status yet): a fresh primary trailer
   * (`swap_status_init`: image_ok copied from the secondary, magic last), then the secondary trailer erased.
   */
  private initStatus(progress: SwapProgress): void {
    const { flash, primary, secondary } = this;
    const imageOk = flash.readTrailer(secondary).imageOk === 'set';
    flash.eraseTrailerSectors(primary);
    flash.writeTrailer(primary, { swapInfo: progress.type | (this.image << 4), imageOk, swapSize: progress.swapSize, magic: true });
    flash.eraseTrailerSectors(secondary);
  }

  /**
   * `fixup_revert`: a revert starts from a primary trailer that the first step re-initialises; marking the
   * secondary like a permanent upgrade first means a power cut in between still ends with the old image confirmed.
   */
  private fixupRevert(swapSize: number): void {
    const { flash, secondary } = this;
    if (flash.readTrailer(secondary).magic !== 'unset') return;
    flash.eraseTrailerSectors(secondary);
    flash.writeTrailer(secondary, { imageOk: true, swapSize, magic: true });
  }
}
