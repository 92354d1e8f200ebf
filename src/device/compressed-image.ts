/**
 * MCUboot with image decompression (Nordic's MCUboot: CONFIG_BOOT_DECOMPRESSION, i.e. MCUBOOT_DECOMPRESS_IMAGES;
 * nrfconnect/sdk-mcuboot boot/zephyr/decompression.c, boot/bootutil/src/loader.c and image_validate.c) on the
 * virtual device's flash. Nordic documents it for upgrade-only (overwrite-only) mode, without encryption.
 *
 * - loader.c `boot_is_header_valid`: a build without decompression finds a compressed header invalid, so
 *   `boot_validate_slot` erases the secondary image and the running image stays. Nordic supports decompression in
 *   upgrade-only mode only (its documentation: a swap could not move the installed image back compressed), so in
 *   every other mode this model refuses a compressed image the same way (our choice where the sources are silent).
 * - decompression.c `boot_is_compressed_header_valid`: the header, DECOMP_SIZE and the protected TLVs that remain
 *   (without DECOMP_*) must be smaller than the primary slot.
 * - image_validate.c `bootutil_img_validate`: DECOMP_SIZE (4 bytes), DECOMP_SHA (the size of the image hash) and
 *   DECOMP_SIGNATURE must be there; the compressed image's own hash and signature must hold; then a dry run of the
 *   decompression (`bootutil_img_hash_decompress`) must hash to DECOMP_SHA, and DECOMP_SIGNATURE must verify it.
 * - loader.c `boot_copy_image` → decompression.c `boot_copy_region_decompress`: the primary slot is erased and
 *   receives the rebuilt image (src/image/compressed.ts `decompressImage`).
 */
import { describeMcubootMode, McubootMode } from '../groups/bootloader-modes.js';
import { hex } from '../image/errors.js';
import { decompressImage, decompressionTlvs, isCompressedImage, isEncryptedImage } from '../image/node.js';
import { allValidators, type BootValidator } from './boot.js';
import type { ResetEvent } from './encrypted-image.js';
import type { Flash } from './flash.js';
import type { CopyOverride, CopySource } from './recovery/boot-modes.js';
import { readSlotImage, type SlotImage } from './slot-image.js';

/** True when the slot starts with an image whose header says its body is compressed. */
function holdsCompressedImage(slot: Uint8Array): boolean {
  const img = readSlotImage(slot);
  return img !== undefined && isCompressedImage(img.header.flags);
}

/** Why this MCUboot refuses every compressed image, or undefined when it decompresses them. */
function decompressionUnsupported(decompressImages: boolean, mode: number): string | undefined {
  if (!decompressImages) return 'the image is LZMA2-compressed and this MCUboot has no image decompression (config "decompressImages")';
  if (mode !== McubootMode.OVERWRITE_ONLY) {
    return `the image is LZMA2-compressed and MCUboot decompresses images only in overwrite-only mode, not in ${describeMcubootMode(mode)}`;
  }
  return undefined;
}

const refuseCompressedImages: BootValidator = (slot) => !holdsCompressedImage(slot);

/**
 * Runs `boot` as this MCUboot build treats compressed images: with decompression in overwrite-only mode, the copy to
 * the primary slot decompresses them; otherwise they are invalid, and the event of an image whose compressed image
 * was erased as invalid says why.
 */
export async function bootWithDecompression(
  flash: Flash,
  images: number,
  build: { decompressImages: boolean; mcubootMode: number },
  validate: BootValidator,
  boot: (validate: BootValidator, copyOverride?: CopyOverride) => Promise<ResetEvent[]>,
): Promise<ResetEvent[]> {
  const unsupported = decompressionUnsupported(build.decompressImages, build.mcubootMode);
  if (!unsupported) return boot(validate, decompressingCopy(flash, validate));
  const compressedSlots = new Set<number>();
  for (let slot = 0; slot < 2 * images; slot++) if (holdsCompressedImage(flash.read(slot))) compressedSlots.add(slot);
  const events = await boot(allValidators(refuseCompressedImages, validate));
  const refused = (n: number) => [2 * n, 2 * n + 1].some((slot) => compressedSlots.has(slot) && !readSlotImage(flash.read(slot)));
  return events.map((e) => (e.action === 'rejected' && !e.reason && refused(e.image) ? { ...e, reason: unsupported } : e));
}

/**
 * What MCUboot with decompression copies to the primary slot for the compressed image `img` in a secondary slot:
 * the rebuilt image, or why the image is refused. `validate` is the device's check of an image (hash, signature).
 * Decompression never produces more than the primary slot holds below its trailer.
 */
async function decompressSecondaryImage(
  secondary: Uint8Array,
  img: SlotImage,
  primary: { slotSize: number; trailerSize: number },
  validate: BootValidator,
): Promise<CopySource> {
  if (isEncryptedImage(img.header.flags)) return { reason: "the image is compressed and encrypted: MCUboot's decompression takes images in clear only" };
  const { size: decompressedSize, sha, signature, keptProtected } = decompressionTlvs(img);
  if (decompressedSize === undefined || sha?.length !== img.hash.length || !signature) {
    return { reason: 'the compressed image needs DECOMP_SIZE, DECOMP_SHA and DECOMP_SIGNATURE TLVs of the right sizes (sign it with a key)' };
  }
  const keptSize = keptProtected.length ? 4 + keptProtected.reduce((n, t) => n + 4 + t.value.length, 0) : 0;
  const needed = img.header.hdrSize + decompressedSize + keptSize;
  if (needed >= primary.slotSize) {
    return {
      reason: `the image decompresses to ${hex(needed)} bytes with its header and protected TLVs, too large for the ${hex(primary.slotSize)}-byte primary slot`,
    };
  }
  if (!(await validate(secondary))) return { reason: "the compressed image's hash or signature does not verify" };
  // MCUboot's size check leaves out the unprotected TLVs; the rebuilt image must also stay clear of the trailer.
  const room = primary.slotSize - primary.trailerSize;
  let rebuilt: Uint8Array;
  try {
    rebuilt = await decompressImage(secondary.subarray(0, img.size), room - img.header.hdrSize);
  } catch (err) {
    return { reason: `cannot decompress the image: ${(err as Error).message}` };
  }
  if (rebuilt.length > room) return { reason: `the decompressed image (${hex(rebuilt.length)} bytes) reaches into the primary slot's trailer` };
  if (!(await validate(rebuilt))) return { reason: "the decompressed image does not verify: its DECOMP_SIGNATURE is not a signature by this device's key" };
  return { image: rebuilt };
}

/** The overwrite copy of a build with decompression: compressed images are decompressed, others copied as they are. */
function decompressingCopy(flash: Flash, validate: BootValidator): CopyOverride {
  return async (secondary) => {
    const img = readSlotImage(secondary);
    return img && isCompressedImage(img.header.flags) ? decompressSecondaryImage(secondary, img, flash, validate) : undefined;
  };
}
