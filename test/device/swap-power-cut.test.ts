/**
 * A power cut at every flash change of an MCUboot swap (test, permanent, revert): the next boot must find
 * both images intact and run the one MCUboot's swap status says (mcu-tools/mcuboot swap_move.c, loader.c).
 */
import { cpSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bootAll, mcubootValidator, SwapType } from '../../src/device/boot.js';
import { buildImage } from '../../src/device/firmware.js';
import { Flash, SECTOR_SIZE, type FlashChange } from '../../src/device/flash.js';
import { readSlotImage } from '../../src/device/slot-image.js';
import { tempDir } from './helpers.js';

const SLOT_SIZE = 8 * SECTOR_SIZE;
const validate = mcubootValidator();
const body = (n: number, seed: number) => new Uint8Array(n).map((_, i) => (i * seed + (i >> 8)) & 0xff);
const OLD = buildImage({ version: '1.0.0', body: body(9000, 7) });
const NEW = buildImage({ version: '2.0.0', body: body(13000, 11) });

class PowerCut extends Error {}

const openFlash = (dir: string) => new Flash(dir, 2, SLOT_SIZE);

async function which(flash: Flash, slot: number): Promise<'old' | 'new' | 'neither'> {
  const content = flash.read(slot);
  const image = readSlotImage(content);
  if (!image || !(await validate(content))) return 'neither';
  const bytes = Buffer.from(content.subarray(0, image.size));
  return bytes.equals(Buffer.from(OLD)) ? 'old' : bytes.equals(Buffer.from(NEW)) ? 'new' : 'neither';
}

/** Flash with the old image running and the new one marked for a test or a permanent swap; or, for a revert, after the test swap. */
async function prepare(kind: 'test' | 'perm' | 'revert'): Promise<string> {
  const dir = tempDir('mcumgr-swap-');
  const flash = openFlash(dir);
  flash.write(0, 0, OLD);
  flash.write(1, 0, NEW);
  flash.writeTrailer(1, { magic: true, imageOk: kind === 'perm', swapInfo: kind === 'perm' ? SwapType.PERM : SwapType.TEST });
  if (kind === 'revert') expect(await bootAll(flash, 1, validate)).toEqual([{ image: 0, action: 'test' }]);
  return dir;
}

/** Boots a copy of `dir`, cutting the power before flash change number `cut`; returns the changes made. */
async function bootWithCut(dir: string, cut: number): Promise<{ copy: string; changes: FlashChange[] }> {
  const copy = tempDir('mcumgr-swap-cut-');
  cpSync(dir, copy, { recursive: true });
  const flash = openFlash(copy);
  const changes: FlashChange[] = [];
  flash.beforeChange = (change) => {
    if (changes.length === cut) throw new PowerCut();
    changes.push(change);
  };
  try {
    await bootAll(flash, 1, validate);
  } catch (err) {
    if (!(err instanceof PowerCut)) throw err;
  }
  return { copy, changes };
}

const cases = [
  { kind: 'test', runs: 'new', confirmed: false, window: { runs: 'old', confirmed: false } },
  { kind: 'perm', runs: 'new', confirmed: true, window: { runs: 'old', confirmed: true } },
  { kind: 'revert', runs: 'old', confirmed: true, window: { runs: 'new', confirmed: true } },
] as const;

describe('MCUboot swap after a power cut at every flash change', () => {
  for (const c of cases) {
    it(`${c.kind}: both images stay intact and the swap status decides which runs`, async () => {
      const before = await prepare(c.kind);
      const { changes: all } = await bootWithCut(before, Infinity);
      const statusOffset = SLOT_SIZE - openFlash(before).trailerSize;
      const firstStatus = all.findIndex((ch) => ch.kind === 'write' && ch.slot === 0 && ch.offset === statusOffset);
      const trailerErases = all.flatMap((ch, i) =>
        i < firstStatus && ch.kind === 'erase' && ch.slot === 1 && ch.offset === SLOT_SIZE - SECTOR_SIZE ? [i] : [],
      );
      const secondaryTrailerErased = trailerErases.at(-1) ?? -1;
      expect(firstStatus).toBeGreaterThan(secondaryTrailerErased);
      expect(secondaryTrailerErased).toBeGreaterThan(0);

      for (let cut = 0; cut < all.length; cut++) {
        const { copy } = await bootWithCut(before, cut);
        const flash = openFlash(copy);
        const events = await bootAll(flash, 1, validate);
        // MCUboot's own window: the secondary trailer is erased before the first status entry is written,
        // so a cut there leaves no swap to resume and none to start.
        const inWindow = cut > secondaryTrailerErased && cut <= firstStatus;
        const want = inWindow ? c.window : c;
        const other = want.runs === 'old' ? 'new' : 'old';
        const state = { cut, primary: await which(flash, 0), secondary: await which(flash, 1), confirmed: flash.readTrailer(0).imageOk === 'set' };
        expect(state).toEqual({ cut, primary: want.runs, secondary: other, confirmed: want.confirmed });
        if (cut > firstStatus) expect(events[0]).toMatchObject({ resumed: true });
        if (c.kind === 'test' && !inWindow) {
          // The test image was never confirmed: the boot after reverts to the old one.
          await bootAll(flash, 1, validate);
          expect({ cut, primary: await which(flash, 0), secondary: await which(flash, 1) }).toEqual({ cut, primary: 'old', secondary: 'new' });
        }
      }
    });
  }

  it('the status survives in the slot files: a fresh Flash on the same directory resumes', async () => {
    const before = await prepare('test');
    const { copy } = await bootWithCut(before, 30);
    expect(await which(openFlash(copy), 0)).toBe('neither');
    const events = await bootAll(openFlash(copy), 1, validate);
    expect(events).toEqual([{ image: 0, action: 'test', resumed: true }]);
    expect(await which(openFlash(copy), 0)).toBe('new');
  });
});
