/** MCUboot swap logic (§4.6): what the bootloader decides and does at reset, per image. */
import { verifyImage, type Trailer } from '../image/index.js';
import type { Flash } from './flash.js';
import { readSlotImage } from './slot-image.js';

export const SwapType = { NONE: 1, TEST: 2, PERM: 3, REVERT: 4, FAIL: 5, PANIC: 0xff } as const;

/** `boot_swap_type_multi` for standard swap mode. */
export function swapType(primary: Trailer, secondary: Trailer): number {
  if (secondary.magic === 'good' && secondary.imageOk === 'unset') return SwapType.TEST;
  if (secondary.magic === 'good' && secondary.imageOk === 'set') return SwapType.PERM;
  if (primary.magic === 'good' && primary.imageOk === 'unset' && primary.copyDone === 'set') return SwapType.REVERT;
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
}

/** Runs MCUboot's decision for every image: swap, revert, or refuse an invalid secondary image. */
export async function bootAll(flash: Flash, images: number, validate: BootValidator): Promise<BootEvent[]> {
  const events: BootEvent[] = [];
  for (let n = 0; n < images; n++) events.push({ image: n, action: await bootImage(flash, n, validate) });
  return events;
}

async function bootImage(flash: Flash, n: number, validate: BootValidator): Promise<BootEvent['action']> {
  const p = 2 * n;
  const s = p + 1;
  const type = imageSwapType(flash, n);
  if (type === SwapType.TEST || type === SwapType.PERM) {
    if (!(await validate(flash.read(s)))) {
      // MCUboot erases an invalid secondary image; the running image stays.
      flash.erase(s);
      return 'rejected';
    }
    swapContents(flash, p, s);
    flash.writeTrailer(p, { magic: true, copyDone: true, imageOk: type === SwapType.PERM });
    return type === SwapType.TEST ? 'test' : 'perm';
  }
  if (type === SwapType.REVERT) {
    swapContents(flash, p, s);
    // After the revert the restored image is marked as confirmed.
    flash.writeTrailer(p, { magic: true, copyDone: true, imageOk: true });
    return 'revert';
  }
  return 'none';
}

/** Exchanges the image areas of two slots; both trailers end up erased. */
function swapContents(flash: Flash, a: number, b: number): void {
  const area = flash.slotSize - flash.trailerSize;
  const ca = Buffer.from(flash.read(a).subarray(0, area));
  const cb = Buffer.from(flash.read(b).subarray(0, area));
  flash.replace(a, cb);
  flash.replace(b, ca);
}
