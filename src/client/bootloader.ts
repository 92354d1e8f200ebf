/** Telling MCUboot's serial recovery from an application, and what that changes for a client (browser-safe). */
import { image } from '../groups/image.js';
import type { ImageStateList } from '../groups/image.js';
import type { SmpClient } from './client.js';

export const NEEDS_APPLICATION = 'the device is in MCUboot serial recovery; this command needs the application';

/**
 * Zephyr's img_mgmt always puts `splitStatus` in the image list; MCUboot's boot_serial never does
 * (boot_serial.c bs_list; recorded in test/fixtures/mcuboot). One request, answered by both.
 */
export function isRecoveryList(list: ImageStateList): boolean {
  return list.splitStatus === undefined;
}

export async function inSerialRecovery(client: SmpClient, timeoutMs?: number): Promise<boolean> {
  return isRecoveryList(await client.call(image.state, {}, timeoutMs !== undefined ? { timeoutMs } : {}));
}

/**
 * How long the first chunk of an upload may take: boot_serial erases the whole slot before it answers (without
 * CONFIG_BOOT_ERASE_PROGRESSIVELY). Allows 100 ms per 4 KiB sector, slower than common MCU flash.
 */
export function slotEraseTimeoutMs(slotSize: number, timeoutMs: number): number {
  return timeoutMs + Math.ceil(slotSize / 4096) * 100;
}

/** Chunk data in multiples of this reaches whole flash-write units of any MCUboot target (BOOT_MAX_ALIGN is 32). */
export const BOOTLOADER_CHUNK_ALIGN = 32;

/**
 * MCUboot's default CONFIG_BOOT_SERIAL_MAX_RECEIVE_SIZE (boot_serial.c: 512). Its recovery does not report its
 * buffer (no `os params` before MCUboot 2.2), so requests are sized for the default.
 */
export const MCUBOOT_RECEIVE_SIZE = 512;

type SlotInfo = { images: { image: number; slots: { slot: number; size?: number; upload_image_id?: number }[] }[] };

/**
 * The `image` value that writes image `imageNum`'s primary slot in MCUboot's recovery. With
 * CONFIG_MCUBOOT_SERIAL_DIRECT_IMAGE_UPLOAD, slot info names an `upload_image_id` for every slot (image × 2 + slot + 1,
 * boot_serial.c bs_slot_info), and the primary slot's is the one to use; otherwise the image number itself (the
 * recorded MCUboot names an id on the secondary slot only, yet writes `image 0` to the primary).
 */
export function recoveryUploadTarget(slots: SlotInfo | undefined, imageNum: number): number {
  const primary = slots?.images.find((i) => i.image === imageNum)?.slots.find((s) => s.slot === 0);
  return primary?.upload_image_id ?? imageNum;
}
