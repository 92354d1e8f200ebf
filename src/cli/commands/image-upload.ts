/** Sends images to the device's secondary slots with a progress bar (used by `image upload` and `image upgrade`). */
import { BOOTLOADER_CHUNK_ALIGN, inSerialRecovery, MCUBOOT_RECEIVE_SIZE, recoveryUploadTarget, slotEraseTimeoutMs } from '../../client/bootloader.js';
import type { SmpClient } from '../../client/client.js';
import { imageUpload, type ImageUploadOptions } from '../../client/upload.js';
import { image } from '../../groups/index.js';
import type { Ctx } from '../ctx.js';
import { keepLink } from '../lost-link.js';
import type { PackagedImage } from '../dfu-package.js';
import { toHex } from '../format.js';
import { formatBytes } from '../progress.js';

const RESUME = 'the device keeps what it received: run the same command again to resume the upload';

/**
 * MCUboot's serial recovery takes one chunk at a time, writes whole flash units only, and erases the whole slot
 * before it answers the first chunk (boot_serial.c bs_upload): what the upload must do differently there.
 */
async function recoveryUploadOptions(ctx: Ctx, c: SmpClient, imageNum: number): Promise<Partial<ImageUploadOptions>> {
  ctx.doing = 'the image list response';
  if (!(await inSerialRecovery(c))) return {};
  const slots = await c.call(image.slotInfo, {}).catch(() => undefined);
  const slotSize = Math.max(0, ...(slots?.images.flatMap((i) => i.slots.map((s) => s.size ?? 0)) ?? [])) || 0x100000;
  if (!ctx.json) ctx.log('The device is in MCUboot serial recovery: the image goes straight to its primary slot, one chunk at a time');
  return {
    image: recoveryUploadTarget(slots, imageNum),
    window: 1,
    alignment: BOOTLOADER_CHUNK_ALIGN,
    maxPacketSize: Math.min(c.transport.mtu, MCUBOOT_RECEIVE_SIZE - c.transport.framingOverhead),
    firstChunkTimeoutMs: slotEraseTimeoutMs(slotSize, ctx.timeoutMs),
  };
}

export async function uploadImage(ctx: Ctx, bytes: Uint8Array, imageNum: number, erase: boolean, upgrade: boolean) {
  const c = await ctx.client();
  const recovery = await recoveryUploadOptions(ctx, c, imageNum);
  // MCUboot's recovery has no image erase: its first chunk erases the slot.
  if (erase && recovery.window === undefined) {
    ctx.doing = 'the image erase response';
    // Slots are numbered across images: image N's secondary slot is 2N + 1.
    await c.call(image.erase, imageNum === 0 ? {} : { slot: 2 * imageNum + 1 });
  }
  const bar = ctx.progress('upload', { image: imageNum, bytes: bytes.length });
  let acked = 0;
  // The device keeps what it received (by the image's hash): after a lost link the upload continues from there.
  return keepLink(ctx, {
    operation: 'upload',
    bar,
    again: RESUME,
    done: () => acked,
    attempt: (client) => {
      ctx.doing = 'an image upload response';
      return imageUpload(client, bytes, {
        image: imageNum,
        upgrade,
        ...ctx.transferWindow,
        ...recovery,
        onProgress: (p) => {
          if (p.resumedFrom !== undefined) {
            bar.finish();
            bar.resumed(p.resumedFrom);
            if (!ctx.json) ctx.log(`Resuming the upload at offset ${p.resumedFrom} (the device already has ${formatBytes(p.resumedFrom)} of this image)`);
          }
          acked = p.done;
          bar.update(p.done, p.total);
        },
        onRetry: (off, reason) => bar.retry(off, reason),
      });
    },
  });
}

/** Uploads every image of a dfu_application.zip to its image number, one report line before each. */
export async function uploadPackage(ctx: Ctx, file: string, images: PackagedImage[], erase: boolean, upgrade: boolean): Promise<void> {
  const uploaded = [];
  for (const img of images) {
    ctx.say(`image ${img.image}: ${img.file}, version ${img.version}, ${formatBytes(img.bytes.length)}${img.hash ? `, hash ${toHex(img.hash)}` : ''}`);
    const result = await uploadImage(ctx, img.bytes, img.image, erase, upgrade);
    uploaded.push({ image: img.image, file: img.file, version: img.version, hash: img.hash, ...result });
  }
  ctx.emit({ file, images: uploaded }, 'Done\n');
}
