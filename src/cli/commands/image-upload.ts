/** Sends images to the device's secondary slots with a progress bar (used by `image upload` and `image upgrade`). */
import { BOOTLOADER_CHUNK_ALIGN, inSerialRecovery, MCUBOOT_RECEIVE_SIZE, recoveryUploadTarget, slotEraseTimeoutMs } from '../../client/bootloader.js';
import type { SmpClient } from '../../client/client.js';
import { imageUpload, type ImageUploadOptions } from '../../client/upload.js';
import { image } from '../../groups/index.js';
import { SmpAbortError, SmpDeviceError, SmpError } from '../../protocol/errors.js';
import { TransportError } from '../../transport/transport.js';
import type { Ctx } from '../ctx.js';
import type { PackagedImage } from '../dfu-package.js';
import { toHex } from '../format.js';
import { formatBytes } from '../progress.js';

const RESUME = 'the device keeps what it received: run the same command again to resume the upload';

/**
 * Reopens a lost link (a UDP device restarting, a USB CDC port re-enumerating) until it works or `budgetMs`
 * has passed; then a clear error that says how to resume.
 */
async function reopen(ctx: Ctx, lost: Error, budgetMs: number): Promise<SmpClient> {
  const deadline = performance.now() + budgetMs;
  for (let pause = 100; ; pause = Math.min(2 * pause, 1000)) {
    try {
      return await ctx.reconnect();
    } catch (err) {
      if (performance.now() + pause >= deadline) {
        throw new TransportError(
          `the link to the device was lost (${lost.message}) and could not be reopened within ${budgetMs / 1000} s ` +
            `(${(err as Error).message}); ${RESUME}`,
        );
      }
    }
    await pace(pause);
  }
}

/** A pause between attempts to reach a device that is away; no outcome depends on its length. */
function pace(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

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
  let c = await ctx.client();
  const recovery = await recoveryUploadOptions(ctx, c, imageNum);
  // MCUboot's recovery has no image erase: its first chunk erases the slot.
  if (erase && recovery.window === undefined) {
    ctx.doing = 'the image erase response';
    // Slots are numbered across images: image N's secondary slot is 2N + 1.
    await c.call(image.erase, imageNum === 0 ? {} : { slot: 2 * imageNum + 1 });
  }
  const bar = ctx.progress('upload', { image: imageNum, bytes: bytes.length });
  // The timeout budget counts from the moment the link was lost, and starts again once the upload progresses.
  let lostAt: number | undefined;
  let acked = 0;
  let ackedAtLoss = -1;
  for (;;) {
    ctx.doing = 'an image upload response';
    try {
      return await imageUpload(c, bytes, {
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
    } catch (err) {
      // The device keeps what it received (by the image's hash): reopen the link and continue from there.
      // A link that closed, or one that failed a write before its close was noticed (a pty gone: EIO).
      const lost = c.closeReason ?? (err instanceof TransportError ? err : undefined);
      if (!lost) {
        // Unanswered requests (the device away, or dropping them): what it received so far is kept.
        if (err instanceof SmpError && !(err instanceof SmpDeviceError) && !(err instanceof SmpAbortError)) err.message += `; ${RESUME}`;
        throw err;
      }
      bar.finish();
      if (lostAt === undefined || acked > ackedAtLoss) lostAt = performance.now();
      ackedAtLoss = acked;
      const left = ctx.timeoutMs - (performance.now() - lostAt);
      if (left <= 0) {
        throw new TransportError(`the link to the device was lost (${lost.message}) and did not come back within ${ctx.timeoutMs / 1000} s; ${RESUME}`);
      }
      bar.reconnect(lost.message);
      if (!ctx.json) ctx.log(`The link was lost (${lost.message}); reconnecting to resume the upload`);
      // A UDP link reopens at once even while the device is down: don't spin on its refusals.
      await pace(100);
      c = await reopen(ctx, lost, left);
    } finally {
      bar.finish();
    }
  }
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
