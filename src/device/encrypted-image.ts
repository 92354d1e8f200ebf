/**
 * MCUboot's handling of an encrypted secondary image at swap time (mcu-tools/mcuboot boot/bootutil/src/loader.c:
 * boot_validate_slot and boot_copy_region with MUST_DECRYPT; image_validate.c hashes the decrypted body): the
 * image key comes out of the ENC TLV with the device's private key, and the hash and signature are checked over the
 * plaintext. Modelled as decrypting the secondary slot's body in place before the swap validates and copies it
 * (MCUboot decrypts while copying). The image a swap moves out of the primary slot is encrypted again with its own
 * key, as MCUboot's copy to the secondary slot does for an image flagged encrypted (boot_copy_region's encryption of
 * what it writes to slot 1), so that slot holds it as it was uploaded and a revert decrypts it again.
 */
import { createHash } from 'node:crypto';
import { decryptImage, isEncryptedImage, type ImageHeader } from '../image/node.js';
import { SwapType, imageSwapType, type BootEvent, type BootValidator } from './boot.js';
import type { Flash } from './flash.js';
import { readSlotImage } from './slot-image.js';

/** A boot event, with why MCUboot refused the image when the reason is known. */
export type ResetEvent = BootEvent & { reason?: string };

function hashMatches(bytes: Uint8Array): boolean {
  const img = readSlotImage(bytes);
  if (!img?.hashAlgorithm || !img.hash) return false;
  const computed = createHash(img.hashAlgorithm).update(bytes.subarray(0, img.signedSize)).digest();
  return computed.equals(Buffer.from(img.hash));
}

/** An image flagged encrypted at the start of `slot`, cut to its size, and whether its body is in clear (its hash holds). */
function encryptedImageIn(slot: Uint8Array): { image: Uint8Array; header: ImageHeader; inClear: boolean } | undefined {
  const img = readSlotImage(slot);
  if (!img || !isEncryptedImage(img.header.flags)) return undefined;
  const image = slot.subarray(0, img.size);
  return { image, header: img.header, inClear: hashMatches(image) };
}

/** Writes the body of `image` (laid out as `header` says) over the body in the secondary slot of image `n`. */
function writeSecondaryBody(flash: Flash, n: number, header: ImageHeader, image: Uint8Array): void {
  flash.write(2 * n + 1, header.hdrSize, image.subarray(header.hdrSize, header.hdrSize + header.imgSize));
}

/**
 * Decrypts a pending encrypted image in the secondary slot of image `n`. Returns why it cannot be decrypted
 * (MCUboot's validation then refuses the image), or undefined.
 */
export function decryptPendingImage(flash: Flash, n: number, decryptionKey: string | Uint8Array | undefined): string | undefined {
  const type = imageSwapType(flash, n);
  if (type !== SwapType.TEST && type !== SwapType.PERM && type !== SwapType.REVERT) return undefined;
  const found = encryptedImageIn(flash.read(2 * n + 1));
  // Already decrypted (a power cut after this step, before the swap): the hash holds as it is.
  if (!found || found.inClear) return undefined;
  if (decryptionKey === undefined) return 'the image is encrypted and this device has no encryption key (encryptionKeyFile)';
  let plain: Uint8Array;
  try {
    plain = decryptImage(found.image, decryptionKey);
  } catch (err) {
    return `cannot decrypt the image: ${(err as Error).message}`;
  }
  if (!hashMatches(plain)) return 'the decrypted image does not match its hash: it was encrypted for another key, or is damaged';
  writeSecondaryBody(flash, n, found.header, plain);
  return undefined;
}

/**
 * A validator that sees an encrypted image as MCUboot validates it, decrypted with the device's key (boot_serial.c
 * lists an encrypted secondary image through boot_image_validate_encrypted); other images as they are.
 */
export function decryptingValidator(validate: BootValidator, decryptionKey: string | Uint8Array | undefined): BootValidator {
  if (decryptionKey === undefined) return validate;
  return (slot) => {
    const found = encryptedImageIn(slot);
    if (!found || found.inClear) return validate(slot);
    try {
      return validate(decryptImage(found.image, decryptionKey));
    } catch {
      return false;
    }
  };
}

/**
 * Encrypts, with its own key, an image flagged encrypted that a swap left in clear in the secondary slot of image
 * `n` (AES-CTR: the same operation as decrypting). Nothing happens without the device's key or an ENC TLV it opens.
 */
function encryptSwappedOutImage(flash: Flash, n: number, decryptionKey: string | Uint8Array | undefined): void {
  if (decryptionKey === undefined) return;
  const found = encryptedImageIn(flash.read(2 * n + 1));
  if (!found?.inClear) return;
  let encrypted: Uint8Array;
  try {
    encrypted = decryptImage(found.image, decryptionKey);
  } catch {
    return;
  }
  writeSecondaryBody(flash, n, found.header, encrypted);
}

/**
 * Runs `boot` after decrypting every pending encrypted image (and an encrypted image a revert brings back); a refused
 * image's event carries the reason. Images a swap moved out of the primary slot are encrypted again.
 */
export async function bootWithDecryption(
  flash: Flash,
  images: number,
  decryptionKey: string | Uint8Array | undefined,
  boot: () => Promise<BootEvent[]>,
): Promise<ResetEvent[]> {
  const reasons = new Map<number, string>();
  for (let n = 0; n < images; n++) {
    const reason = decryptPendingImage(flash, n, decryptionKey);
    if (reason) reasons.set(n, reason);
  }
  const events = await boot();
  for (const e of events) if (e.action === 'test' || e.action === 'perm' || e.action === 'revert') encryptSwappedOutImage(flash, e.image, decryptionKey);
  return events.map((e) => (e.action === 'rejected' && reasons.has(e.image) ? { ...e, reason: reasons.get(e.image)! } : e));
}
