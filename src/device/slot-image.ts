/** The image in a flash slot, as Zephyr's img_mgmt_read_info sees it. */
import { IMAGE_HEADER_SIZE, IMAGE_MAGIC, parseImage, TLV_TYPES, type McubootImage } from '../image/index.js';

export interface SlotImage extends McubootImage {
  /** The SHA-256 TLV: the image's identity in `image list` and `image test`. */
  hash: Uint8Array;
}

/** The image at the start of a slot, or undefined when the slot holds none (erased, garbage, or no SHA-256 TLV). */
export function readSlotImage(slot: Uint8Array): SlotImage | undefined {
  // Erased and half-written slots are common: answer them without the cost of a parse error.
  if (slot.length < IMAGE_HEADER_SIZE || new DataView(slot.buffer, slot.byteOffset, 4).getUint32(0, true) !== IMAGE_MAGIC) return undefined;
  let img: McubootImage;
  try {
    img = parseImage(slot);
  } catch {
    return undefined;
  }
  const hash = img.unprotectedArea.tlvs.find((t) => t.type === TLV_TYPES.SHA256)?.value;
  return hash?.length === 32 ? { ...img, hash } : undefined;
}
