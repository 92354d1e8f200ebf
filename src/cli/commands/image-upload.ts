/** Sends one image to the device's secondary slot with a progress bar (used by `image upload` and `image upgrade`). */
import { imageUpload } from '../../client/upload.js';
import { image } from '../../groups/index.js';
import type { Ctx } from '../ctx.js';
import { formatBytes } from '../progress.js';

export async function uploadImage(ctx: Ctx, bytes: Uint8Array, imageNum: number, erase: boolean, upgrade: boolean) {
  const c = await ctx.client();
  if (erase) {
    ctx.doing = 'the image erase response';
    await c.call(image.erase, {});
  }
  const bar = ctx.progress('upload');
  ctx.doing = 'an image upload response';
  try {
    return await imageUpload(c, bytes, {
      image: imageNum,
      upgrade,
      window: ctx.window,
      onProgress: (p) => {
        if (p.resumedFrom !== undefined && !ctx.json) {
          bar.finish();
          ctx.log(`Resuming the upload at offset ${p.resumedFrom} (the device already has ${formatBytes(p.resumedFrom)} of this image)`);
        }
        bar.update(p.done, p.total);
      },
    });
  } finally {
    bar.finish();
  }
}
