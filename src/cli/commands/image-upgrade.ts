/**
 * `mcumgr image upgrade`: upload, test, reset, wait for the device, check the new image runs, confirm; the steps
 * follow MCUboot's mode and whether the device is in its serial recovery (upgrade-plan.ts).
 */
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
import { isRecoveryList } from '../../client/bootloader.js';
import type { SmpClient } from '../../client/client.js';
import { pickForSlot, upgradePlan } from '../upgrade-plan.js';
import { installedImageHash, parseImage } from '../../image/index.js';

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

/** MCUboot's mode as the application reports it (`os bootloader` query "mode"), when it does. */
async function bootloaderMode(c: SmpClient): Promise<number | undefined> {
  try {
    return (await c.call(os.bootloaderInfo, { query: 'mode' }, { tries: 1 })).mode;
  } catch (err) {
    if (err instanceof SmpDeviceError) return undefined;
    throw err;
  }
}

/** `other`: MCUboot direct-XIP, the build for the other slot. */
export async function upgrade(ctx: Ctx, file: string, o: { image?: string; wait: string }, other?: string): Promise<void> {
  let all = await imagesOf(file, o.image);
  const builds = other ? [...all, ...(await imagesOf(other, o.image))] : all;
  if (builds.length > 1 && other && builds.length !== 2)
    throw new UsageError('a second file is one build of the same image for the other slot (direct-XIP), not a dfu_application.zip');
  const waitSec = Number(o.wait);
  if (!Number.isFinite(waitSec) || waitSec <= 0) throw new UsageError(`invalid --wait "${o.wait}"`);
  const steps: { step: string; detail?: unknown }[] = [];
  const step = (name: string, text: string, detail?: unknown): void => {
    steps.push({ step: name, ...(detail !== undefined ? { detail } : {}) });
    ctx.say(text);
    ctx.event({ event: 'step', step: name, message: text });
  };
  const summaryOf = (): typeof summary =>
    all.length === 1
      ? { version: all[0]!.info.version, hash: all[0]!.info.hash }
      : { images: all.map((x) => ({ image: x.image, version: x.info.version, hash: x.info.hash })) };
  let summary =
    all.length === 1
      ? { version: all[0]!.info.version, hash: all[0]!.info.hash }
      : { images: all.map((x) => ({ image: x.image, version: x.info.version, hash: x.info.hash })) };

  let c = await ctx.client();
  const before = await c.call(image.state, {});
  const inRecovery = isRecoveryList(before);
  const mode = inRecovery ? undefined : await bootloaderMode(c);
  const plan = upgradePlan(mode, inRecovery);
  if (other) {
    const target = 1 - (findSlot(before, builds[0]!.image, (x) => Boolean(x.active))?.slot ?? 0);
    const chosen = pickForSlot(
      mode,
      builds.map((b) => ({ file: b.name, bytes: b.info.bytes, build: b })),
      target,
    );
    all = [chosen.build];
    summary = summaryOf();
    ctx.say(`${chosen.file} is the build for slot ${target}, the one the device does not run`);
  } else {
    pickForSlot(
      mode,
      all.slice(0, 1).map((b) => ({ file: b.name, bytes: b.info.bytes })),
      1,
    );
  }
  if (plan.note) ctx.say(plan.note);
  const total = 3 + (plan.markBeforeReset !== 'none' ? 1 : 0) + (plan.confirmAfterBoot ? 1 : 0);
  let stepNo = 0;
  const n = (): string => `[${++stepNo}/${total}]`;
  // In recovery the primary slot's image is not running: upload it again whatever it holds.
  // What `image list` shows once the image is installed (a compressed image runs decompressed).
  const installedHash = (info: ImageFileInfo) => installedImageHash(parseImage(info.bytes));
  const todo = inRecovery ? all : all.filter((x) => !sameHash(runningSlot(before, x.image)?.hash, installedHash(x.info)));
  if (todo.length === 0) {
    const what = all.map((x) => `${x.info.version} (${toHex(x.info.hash!)})`).join(', ');
    step('check', `Image ${what} is already running; nothing to do`);
    ctx.emit({ steps, ...summary, upgraded: false });
    return;
  }

  const uploadedHashes: { image: number; hash: Uint8Array; installed: Uint8Array }[] = [];
  const uploadStep = n();
  for (const { image: imageNum, name, info } of todo) {
    const which = todo.length > 1 || imageNum !== 0 ? ` as image ${imageNum}` : '';
    step('upload', `${uploadStep} Uploading ${name}${which} (version ${info.version}, ${formatBytes(info.bytes.length)})`);
    const up = await uploadImage(ctx, info.bytes, imageNum, false, false);
    steps[steps.length - 1]!.detail = { image: imageNum, bytes: up.bytes, resumedFrom: up.resumedFrom };
    const after = await c.call(image.state, {});
    const uploaded = info.hash ? findSlot(after, imageNum, (x) => sameHash(x.hash, info.hash)) : findSlot(after, imageNum, (x) => !x.active && x.slot !== 0);
    if (!uploaded?.hash) throw new SmpError('the uploaded image does not appear in `image list`; the upload did not take');
    uploadedHashes.push({ image: imageNum, hash: uploaded.hash, installed: installedHash(info) ?? uploaded.hash });
  }
  const testStep = plan.markBeforeReset === 'test' ? n() : '';
  for (const { hash } of plan.markBeforeReset === 'test' ? uploadedHashes : []) {
    step('test', `${testStep} Marking image ${toHex(hash)} for test`);
    ctx.doing = 'the image test response';
    await c.call(image.setState, { hash, confirm: false });
  }

  step('reset', `${n()} Resetting the device`);
  ctx.doing = 'the reset response';
  try {
    await c.call(os.reset, {}, { timeoutMs: Math.min(ctx.timeoutMs, 3000), tries: 1 });
  } catch (err) {
    if (err instanceof SmpDeviceError) throw err;
    // The device may go down before it answers: carry on and wait for it.
  }

  step('wait', `${n()} Waiting for the device to come back (up to ${waitSec} s)`);
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
  for (const { image: imageNum, installed } of uploadedHashes) {
    const running = runningSlot(state, imageNum);
    if (!sameHash(running?.hash, installed)) {
      ctx.emit({ steps, state, upgraded: false });
      throw new SmpError(
        `after the reset the device runs ${running ? `version ${running.version} (${running.hash ? toHex(running.hash) : 'no hash'})` : 'no known image'} as image ${imageNum}, ` +
          'not the uploaded image: MCUboot did not swap (is the image signed with the right key? is it built for this board?) or reverted it',
      );
    }
  }
  if (!plan.confirmAfterBoot) {
    for (const { image: imageNum } of uploadedHashes) ctx.say(`New image ${runningSlot(state, imageNum)!.version} is running`);
    ctx.emit({ steps, ...summary, ...(all.length === 1 ? { hash: uploadedHashes[0]!.hash } : {}), upgraded: true, state });
    return;
  }
  let final = state;
  const confirmStep = n();
  for (const { image: imageNum, installed: hash } of uploadedHashes) {
    const running = runningSlot(state, imageNum)!;
    step('confirm', `${confirmStep} New image ${running.version} is running; confirming it`);
    ctx.doing = 'the image confirm response';
    // Without a hash Zephyr confirms the image it runs from, image 0; the others are confirmed by their hash.
    final = await c.call(image.setState, imageNum === 0 ? { confirm: true } : { hash, confirm: true });
  }
  if (!ctx.json) process.stdout.write(formatImageList(final));
  ctx.say('Done');
  ctx.emit({ steps, ...summary, ...(all.length === 1 ? { hash: uploadedHashes[0]!.hash } : {}), upgraded: true, state: final });
}
