/** `mcumgr image upgrade`: upload, test, reset, wait for the device, check the new image runs, confirm. */
import { image, os } from '../../groups/index.js';
import type { ImageStateList } from '../../groups/image.js';
import { SmpDeviceError, SmpError, SmpTimeoutError } from '../../protocol/errors.js';
import { parseUint } from '../args.js';
import { UsageError } from '../connect.js';
import type { Ctx } from '../ctx.js';
import { formatImageList, toHex } from '../format.js';
import { isZip, parseDfuPackage } from '../dfu-package.js';
import { parseImageBytes, readLocalFile, type ImageFileInfo } from '../image-file.js';
import { formatBytes } from '../progress.js';
import { uploadImage } from './image-upload.js';

function findSlot(s: ImageStateList, imageNum: number, pred: (x: ImageStateList['images'][number]) => boolean) {
  return s.images.find((x) => (x.image ?? 0) === imageNum && pred(x));
}

/** What runs as image N: its active slot (Zephyr marks only image 0 active), else its primary slot. */
function runningSlot(s: ImageStateList, imageNum: number) {
  return findSlot(s, imageNum, (x) => Boolean(x.active)) ?? findSlot(s, imageNum, (x) => x.slot === 0);
}

const sameHash = (a: Uint8Array | undefined, b: Uint8Array | undefined): boolean => Boolean(a && b && toHex(a) === toHex(b));

/** The images a file holds: one MCUboot image (.bin, .hex) to `-n`, or each image of a dfu_application.zip to its number. */
async function imagesOf(file: string, imageOption: string | undefined): Promise<{ image: number; name: string; info: ImageFileInfo }[]> {
  const bytes = readLocalFile(file);
  if (isZip(bytes)) {
    if (imageOption !== undefined) throw new UsageError('-n does not apply to a dfu_application.zip: its manifest gives each image its number');
    return (await parseDfuPackage(file, bytes)).map((p) => ({ image: p.image, name: `${file}: ${p.file}`, info: p }));
  }
  return [{ image: imageOption === undefined ? 0 : parseUint(imageOption, 'image number'), name: file, info: parseImageBytes(file, bytes) }];
}

export async function upgrade(ctx: Ctx, file: string, o: { image?: string; wait: string }): Promise<void> {
  const all = await imagesOf(file, o.image);
  const waitSec = Number(o.wait);
  if (!Number.isFinite(waitSec) || waitSec <= 0) throw new UsageError(`invalid --wait "${o.wait}"`);
  const steps: { step: string; detail?: unknown }[] = [];
  const step = (name: string, text: string, detail?: unknown): void => {
    steps.push({ step: name, ...(detail !== undefined ? { detail } : {}) });
    ctx.say(text);
    ctx.event({ event: 'step', step: name, message: text });
  };
  const summary = all.length === 1 ? { version: all[0]!.info.version, hash: all[0]!.info.hash } : { images: all.map((x) => ({ image: x.image, version: x.info.version, hash: x.info.hash })) };

  let c = await ctx.client();
  const before = await c.call(image.state, {});
  const todo = all.filter((x) => !(x.info.hash && sameHash(runningSlot(before, x.image)?.hash, x.info.hash)));
  if (todo.length === 0) {
    const what = all.map((x) => `${x.info.version} (${toHex(x.info.hash!)})`).join(', ');
    step('check', `Image ${what} is already running; nothing to do`);
    ctx.emit({ steps, ...summary, upgraded: false });
    return;
  }

  const uploadedHashes: { image: number; hash: Uint8Array }[] = [];
  for (const { image: imageNum, name, info } of todo) {
    const which = todo.length > 1 || imageNum !== 0 ? ` as image ${imageNum}` : '';
    step('upload', `[1/5] Uploading ${name}${which} (version ${info.version}, ${formatBytes(info.bytes.length)})`);
    const up = await uploadImage(ctx, info.bytes, imageNum, false, false);
    steps[steps.length - 1]!.detail = { image: imageNum, bytes: up.bytes, resumedFrom: up.resumedFrom };
    const after = await c.call(image.state, {});
    const uploaded = info.hash
      ? findSlot(after, imageNum, (x) => sameHash(x.hash, info.hash))
      : findSlot(after, imageNum, (x) => !x.active && x.slot !== 0);
    if (!uploaded?.hash) throw new SmpError('the uploaded image does not appear in `image list`; the upload did not take');
    uploadedHashes.push({ image: imageNum, hash: uploaded.hash });
  }
  for (const { hash } of uploadedHashes) {
    step('test', `[2/5] Marking image ${toHex(hash)} for test`);
    ctx.doing = 'the image test response';
    await c.call(image.setState, { hash, confirm: false });
  }

  step('reset', '[3/5] Resetting the device');
  ctx.doing = 'the reset response';
  try {
    await c.call(os.reset, {}, { timeoutMs: Math.min(ctx.timeoutMs, 3000), tries: 1 });
  } catch (err) {
    if (err instanceof SmpDeviceError) throw err;
    // The device may go down before it answers: carry on and wait for it.
  }

  step('wait', `[4/5] Waiting for the device to come back (up to ${waitSec} s)`);
  try {
    c = await ctx.waitForReboot(waitSec * 1000);
  } catch (err) {
    if (!(err instanceof SmpTimeoutError)) throw err;
    throw new SmpTimeoutError(
      `the device did not answer within ${waitSec} s after the reset (waited for an echo reply); ` +
        'check it booted, then run `mcumgr image list` (raise the wait with --wait SEC)',
    );
  }
  const state = await c.call(image.state, {});
  for (const { image: imageNum, hash } of uploadedHashes) {
    const running = runningSlot(state, imageNum);
    if (!sameHash(running?.hash, hash)) {
      ctx.emit({ steps, state, upgraded: false });
      throw new SmpError(
        `after the reset the device runs ${running ? `version ${running.version} (${running.hash ? toHex(running.hash) : 'no hash'})` : 'no known image'} as image ${imageNum}, ` +
          'not the uploaded image: MCUboot did not swap (is the image signed with the right key? is it built for this board?) or reverted it',
      );
    }
  }
  let final = state;
  for (const { image: imageNum, hash } of uploadedHashes) {
    const running = runningSlot(state, imageNum)!;
    step('confirm', `[5/5] New image ${running.version} is running; confirming it`);
    ctx.doing = 'the image confirm response';
    // Without a hash Zephyr confirms the image it runs from, image 0; the others are confirmed by their hash.
    final = await c.call(image.setState, imageNum === 0 ? { confirm: true } : { hash, confirm: true });
  }
  if (!ctx.json) process.stdout.write(formatImageList(final));
  ctx.say('Done');
  ctx.emit({ steps, ...summary, ...(all.length === 1 ? { hash: uploadedHashes[0]!.hash } : {}), upgraded: true, state: final });
}
