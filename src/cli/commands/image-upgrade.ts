/** `mcumgr image upgrade`: upload, test, reset, wait for the device, check the new image runs, confirm. */
import { image, os } from '../../groups/index.js';
import type { ImageStateList } from '../../groups/image.js';
import { SmpDeviceError, SmpError, SmpTimeoutError } from '../../protocol/errors.js';
import { parseUint } from '../args.js';
import { UsageError } from '../connect.js';
import type { Ctx } from '../ctx.js';
import { formatImageList, toHex } from '../format.js';
import { parseImageFile } from '../image-file.js';
import { formatBytes } from '../progress.js';
import { uploadImage } from './image-upload.js';

function findSlot(s: ImageStateList, imageNum: number, pred: (x: ImageStateList['images'][number]) => boolean) {
  return s.images.find((x) => (x.image ?? 0) === imageNum && pred(x));
}

export async function upgrade(ctx: Ctx, file: string, o: { image: string; wait: string }): Promise<void> {
  const info = parseImageFile(file);
  const imageNum = parseUint(o.image, 'image number');
  const waitSec = Number(o.wait);
  if (!Number.isFinite(waitSec) || waitSec <= 0) throw new UsageError(`invalid --wait "${o.wait}"`);
  const steps: { step: string; detail?: unknown }[] = [];
  const step = (name: string, text: string, detail?: unknown): void => {
    steps.push({ step: name, ...(detail !== undefined ? { detail } : {}) });
    ctx.say(text);
  };

  let c = await ctx.client();
  const before = await c.call(image.state, {});
  const running = findSlot(before, imageNum, (x) => Boolean(x.active));
  if (info.hash && running?.hash && toHex(running.hash) === toHex(info.hash)) {
    step('check', `Image ${info.version} (${toHex(info.hash)}) is already running; nothing to do`);
    ctx.emit({ steps, version: info.version, hash: info.hash, upgraded: false });
    return;
  }

  step('upload', `[1/5] Uploading ${file} (version ${info.version}, ${formatBytes(info.bytes.length)})`);
  const up = await uploadImage(ctx, info.bytes, imageNum, false, false);
  steps[steps.length - 1]!.detail = { bytes: up.bytes, resumedFrom: up.resumedFrom };

  const after = await c.call(image.state, {});
  const uploaded = info.hash
    ? findSlot(after, imageNum, (x) => Boolean(x.hash && toHex(x.hash) === toHex(info.hash!)))
    : findSlot(after, imageNum, (x) => !x.active);
  if (!uploaded?.hash) throw new SmpError('the uploaded image does not appear in `image list`; the upload did not take');
  const hash = uploaded.hash;
  step('test', `[2/5] Marking image ${toHex(hash)} for test`);
  ctx.doing = 'the image test response';
  await c.call(image.setState, { hash, confirm: false });

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
  const active = findSlot(state, imageNum, (x) => Boolean(x.active));
  if (!active?.hash || toHex(active.hash) !== toHex(hash)) {
    ctx.emit({ steps, state, upgraded: false });
    throw new SmpError(
      `after the reset the device runs ${active ? `version ${active.version} (${active.hash ? toHex(active.hash) : 'no hash'})` : 'no known image'}, ` +
        'not the uploaded image: MCUboot did not swap (is the image signed with the right key? is it built for this board?) or reverted it',
    );
  }
  step('confirm', `[5/5] New image ${active.version} is running; confirming it`);
  ctx.doing = 'the image confirm response';
  const final = await c.call(image.setState, { confirm: true });
  if (!ctx.json) process.stdout.write(formatImageList(final));
  ctx.say('Done');
  ctx.emit({ steps, version: active.version, hash, upgraded: true, state: final });
}
