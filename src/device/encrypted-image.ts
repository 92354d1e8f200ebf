/**
 * MCUboot's handling of an encrypted secondary image at swap time (mcu-tools/mcuboot boot/bootutil/src/loader.c:
 * boot_validate_slot and boot_copy_region with MUST_DECRYPT; image_validate.c hashes the decrypted body): the
 * image key comes out of the ENC TLV with the device's private key, and the hash and signature are checked over the
 * plaintext. Modelled as decrypting the secondary slot's body in place before the swap validates and copies it
 * (MCUboot decrypts while copying and re-encrypts the image it moves out; this model keeps that one in clear).
 */
import { createHash } from 'node:crypto';
import { decryptImage, isEncryptedImage } from '../image/node.js';
import { SwapType, imageSwapType, type BootEvent } from './boot.js';
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

/**
 * Decrypts a pending encrypted image in the secondary slot of image `n`. Returns why it cannot be decrypted
 * (MCUboot's validation then refuses the image), or undefined.
 */
export function decryptPendingImage(flash: Flash, n: number, decryptionKey: string | Uint8Array | undefined): string | undefined {
  const type = imageSwapType(flash, n);
  if (type !== SwapType.TEST && type !== SwapType.PERM) return undefined;
  const slot = flash.read(2 * n + 1);
  const img = readSlotImage(slot);
  if (!img || !isEncryptedImage(img.header.flags)) return undefined;
  const image = slot.subarray(0, img.size);
  // Already decrypted (a power cut after this step, before the swap): the hash holds as it is.
  if (hashMatches(image)) return undefined;
  if (decryptionKey === undefined) return 'the image is encrypted and this device has no encryption key (encryptionKeyFile)';
  let plain: Uint8Array;
  try {
    plain = decryptImage(image, decryptionKey);
  } catch (err) {
    return `cannot decrypt the image: ${(err as Error).message}`;
  }
  if (!hashMatches(plain)) return 'the decrypted image does not match its hash: it was encrypted for another key, or is damaged';
  const { hdrSize, imgSize } = img.header;
  flash.write(2 * n + 1, hdrSize, plain.subarray(hdrSize, hdrSize + imgSize));
  return undefined;
}

/** Runs `boot` after decrypting every pending encrypted image; a refused image's event carries the reason. */
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
  return (await boot()).map((e) => (e.action === 'rejected' && reasons.has(e.image) ? { ...e, reason: reasons.get(e.image)! } : e));
}
