/** MCUboot's decision at reset (swap type per trailers), the swap itself, and image validation before a swap. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allValidators, bootAll, imageSwapType, mcubootValidator, swapType, SwapType } from '../../src/device/boot.js';
import { buildImage } from '../../src/device/firmware.js';
import { Flash } from '../../src/device/flash.js';
import { createImage, generateKey, publicKeyPem, type Trailer } from '../../src/image/node.js';

const SLOT = 0x8000;

function flashWith(images: Uint8Array[][]): Flash {
  const flash = new Flash(mkdtempSync(join(tmpdir(), 'boot-')), 2 * images.length, SLOT);
  images.forEach(([primary, secondary], n) => {
    if (primary) flash.write(2 * n, 0, primary);
    if (secondary) flash.write(2 * n + 1, 0, secondary);
  });
  return flash;
}

/** The image at the start of a slot, `length` bytes of it. */
const slotStart = (flash: Flash, slot: number, length: number): Uint8Array => new Uint8Array(flash.read(slot).subarray(0, length));
const erasedTrailer: Trailer = { magic: 'unset', imageOk: 'unset', copyDone: 'unset', swapInfo: 0xff, swapSize: 0xffffffff };
const trailer = (t: Partial<Trailer>): Trailer => ({ ...erasedTrailer, ...t });
const accept = (): boolean => true;

describe('swapType (boot_swap_type_multi, standard swap)', () => {
  it.each([
    ['secondary good, image_ok unset', {}, { magic: 'good' }, SwapType.TEST],
    ['secondary good, image_ok set', {}, { magic: 'good', imageOk: 'set' }, SwapType.PERM],
    ['secondary good, image_ok bad', {}, { magic: 'good', imageOk: 'bad' }, SwapType.NONE],
    ['secondary magic bad, image_ok set', {}, { magic: 'bad', imageOk: 'set' }, SwapType.NONE],
    ['secondary magic unset, image_ok unset', {}, { magic: 'unset' }, SwapType.NONE],
    ['primary good, copy done, not confirmed', { magic: 'good', copyDone: 'set' }, {}, SwapType.REVERT],
    ['primary good, copy done, confirmed', { magic: 'good', copyDone: 'set', imageOk: 'set' }, {}, SwapType.NONE],
    ['primary good, no copy done', { magic: 'good' }, {}, SwapType.NONE],
    ['primary magic bad, copy done', { magic: 'bad', copyDone: 'set' }, {}, SwapType.NONE],
    ['primary good, image_ok bad, copy done', { magic: 'good', imageOk: 'bad', copyDone: 'set' }, {}, SwapType.NONE],
    ['both erased', {}, {}, SwapType.NONE],
    ['a pending secondary wins over a revert', { magic: 'good', copyDone: 'set' }, { magic: 'good' }, SwapType.TEST],
  ] as const)('%s', (_name, primary, secondary, expected) => {
    expect(swapType(trailer(primary), trailer(secondary))).toBe(expected);
  });
});

describe('bootAll', () => {
  const v1 = buildImage({ version: '1.0.0' });
  const v2 = buildImage({ version: '2.0.0' });

  it('leaves the slots alone when nothing is pending', async () => {
    const flash = flashWith([[v1, v2]]);
    expect(await bootAll(flash, 1, accept)).toEqual([{ image: 0, action: 'none' }]);
    expect(slotStart(flash, 0, v1.length)).toEqual(v1);
    expect(slotStart(flash, 1, v2.length)).toEqual(v2);
  });

  it('a test swap runs the new image once, then reverts to the old one, which stays confirmed', async () => {
    const flash = flashWith([[v1, v2]]);
    flash.writeTrailer(1, { magic: true });
    expect(imageSwapType(flash, 0)).toBe(SwapType.TEST);

    expect(await bootAll(flash, 1, accept)).toEqual([{ image: 0, action: 'test' }]);
    expect(slotStart(flash, 0, v2.length)).toEqual(v2);
    expect(slotStart(flash, 1, v1.length)).toEqual(v1);
    expect(flash.readTrailer(0)).toMatchObject({ magic: 'good', copyDone: 'set', imageOk: 'unset' });
    expect(flash.readTrailer(1).magic).toBe('unset');

    expect(await bootAll(flash, 1, accept)).toEqual([{ image: 0, action: 'revert' }]);
    expect(slotStart(flash, 0, v1.length)).toEqual(v1);
    expect(slotStart(flash, 1, v2.length)).toEqual(v2);
    expect(flash.readTrailer(0)).toMatchObject({ magic: 'good', copyDone: 'set', imageOk: 'set' });
    expect(flash.readTrailer(1).magic).toBe('unset');

    expect(await bootAll(flash, 1, accept)).toEqual([{ image: 0, action: 'none' }]);
    expect(slotStart(flash, 0, v1.length)).toEqual(v1);
  });

  it('a permanent swap keeps the new image confirmed across later boots', async () => {
    const flash = flashWith([[v1, v2]]);
    flash.writeTrailer(1, { magic: true, imageOk: true });
    expect(await bootAll(flash, 1, accept)).toEqual([{ image: 0, action: 'perm' }]);
    expect(slotStart(flash, 0, v2.length)).toEqual(v2);
    expect(slotStart(flash, 1, v1.length)).toEqual(v1);
    expect(flash.readTrailer(0)).toMatchObject({ magic: 'good', copyDone: 'set', imageOk: 'set' });
    expect(await bootAll(flash, 1, accept)).toEqual([{ image: 0, action: 'none' }]);
    expect(slotStart(flash, 0, v2.length)).toEqual(v2);
  });

  it('a confirmed test image is not reverted', async () => {
    const flash = flashWith([[v1, v2]]);
    flash.writeTrailer(1, { magic: true });
    await bootAll(flash, 1, accept);
    flash.writeTrailer(0, { imageOk: true });
    expect(await bootAll(flash, 1, accept)).toEqual([{ image: 0, action: 'none' }]);
    expect(slotStart(flash, 0, v2.length)).toEqual(v2);
  });

  it('erases a pending image the validator refuses and keeps running the old one', async () => {
    const flash = flashWith([[v1, v2]]);
    flash.writeTrailer(1, { magic: true, imageOk: true });
    const seen: Uint8Array[] = [];
    const refuse = (image: Uint8Array): boolean => {
      seen.push(new Uint8Array(image.subarray(0, v2.length)));
      return false;
    };
    expect(await bootAll(flash, 1, refuse)).toEqual([{ image: 0, action: 'rejected' }]);
    expect(seen).toEqual([v2]);
    expect(flash.read(1).every((b) => b === 0xff)).toBe(true);
    expect(slotStart(flash, 0, v1.length)).toEqual(v1);
    expect(flash.readTrailer(0).magic).toBe('unset');
  });

  it('decides per image: image 1 lives in slots 2 and 3', async () => {
    const w1 = buildImage({ version: '1.0.0', image: 1 });
    const w2 = buildImage({ version: '2.0.0', image: 1 });
    const flash = flashWith([
      [v1, v2],
      [w1, w2],
    ]);
    flash.writeTrailer(3, { magic: true });
    expect(await bootAll(flash, 2, accept)).toEqual([
      { image: 0, action: 'none' },
      { image: 1, action: 'test' },
    ]);
    expect(slotStart(flash, 0, v1.length)).toEqual(v1);
    expect(slotStart(flash, 2, w2.length)).toEqual(w2);
    expect(slotStart(flash, 3, w1.length)).toEqual(w1);
  });
});

describe('mcubootValidator', () => {
  const slotOf = (image: Uint8Array): Uint8Array => {
    const slot = new Uint8Array(SLOT).fill(0xff);
    slot.set(image);
    return slot;
  };

  it('accepts an image whose hash matches, with the slot padding after it', async () => {
    expect(await mcubootValidator()(slotOf(buildImage({ version: '1.0.0' })))).toBe(true);
  });

  it('refuses an erased slot, garbage and an image with a bad hash', async () => {
    expect(await mcubootValidator()(new Uint8Array(SLOT).fill(0xff))).toBe(false);
    expect(await mcubootValidator()(slotOf(new Uint8Array(1000).fill(0x3d)))).toBe(false);
    expect(await mcubootValidator()(slotOf(buildImage({ version: '1.0.0', badHash: true })))).toBe(false);
  });

  it('with a key, accepts only images signed by it', async () => {
    const key = generateKey('ecdsa-p256');
    const other = generateKey('ecdsa-p256');
    const body = buildImage({ version: '1.0.0' }).subarray(0x200, 0x200 + 4096);
    const signed = createImage(body, { key, headerSize: 0x200, padHeader: true });
    const foreign = createImage(body, { key: other, headerSize: 0x200, padHeader: true });
    const check = mcubootValidator(publicKeyPem(key));
    expect(await check(slotOf(signed))).toBe(true);
    expect(await check(slotOf(foreign))).toBe(false);
    expect(await check(slotOf(buildImage({ version: '1.0.0' })))).toBe(false);
    // Without a key the signature is not required.
    expect(await mcubootValidator()(slotOf(foreign))).toBe(true);
  });

  it('allValidators accepts only when every given validator does', async () => {
    const yes = (): boolean => true;
    const no = (): boolean => false;
    const image = new Uint8Array(4);
    expect(await allValidators()(image)).toBe(true);
    expect(await allValidators(undefined, yes)(image)).toBe(true);
    expect(await allValidators(yes, no)(image)).toBe(false);
    expect(await allValidators(no, undefined)(image)).toBe(false);
  });
});
