/** `image upgrade` picks its steps by MCUboot's mode; direct-XIP takes the build for the slot the device does not run. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImage } from '../../src/device/firmware.js';
import { createImage } from '../../src/image/node.js';
import { UsageError } from '../../src/cli/connect.js';
import { pickForSlot, upgradePlan } from '../../src/cli/upgrade-plan.js';
import { McubootMode } from '../../src/groups/bootloader-modes.js';
import { startSim, tempDir, type SimProcess } from '../device/helpers.js';
import { run } from './helpers.js';

describe('upgrade steps by MCUboot mode', () => {
  it('swaps test and confirm; overwrite-only tests but does not confirm; direct-XIP neither; recovery neither', () => {
    expect(upgradePlan(McubootMode.SWAP_MOVE, false)).toMatchObject({ markBeforeReset: 'test', confirmAfterBoot: true });
    expect(upgradePlan(undefined, false)).toMatchObject({ markBeforeReset: 'test', confirmAfterBoot: true });
    expect(upgradePlan(McubootMode.OVERWRITE_ONLY, false)).toMatchObject({ markBeforeReset: 'test', confirmAfterBoot: false });
    expect(upgradePlan(McubootMode.DIRECT_XIP, false)).toMatchObject({ markBeforeReset: 'none', confirmAfterBoot: false });
    expect(upgradePlan(McubootMode.DIRECT_XIP_REVERT, false)).toMatchObject({ markBeforeReset: 'test', confirmAfterBoot: true });
    expect(upgradePlan(McubootMode.SWAP_MOVE, true)).toMatchObject({ markBeforeReset: 'none', confirmAfterBoot: false });
    expect(() => upgradePlan(McubootMode.SINGLE_APP, false)).toThrow(/reset --boot-mode bootloader/);
  });

  const build = (file: string, loadAddress?: number) => ({
    file,
    bytes: createImage(new Uint8Array(64), {
      version: '1.0.0',
      headerSize: 0x200,
      padHeader: true,
      ...(loadAddress !== undefined ? { loadAddress, romFixed: true } : {}),
    }),
  });

  it('direct-XIP: sends the build linked for the slot the device does not run, and refuses one without a fixed address', () => {
    const low = build('slot0.bin', 0x10000);
    const high = build('slot1.bin', 0x90000);
    expect(pickForSlot(McubootMode.DIRECT_XIP, [high, low], 1).file).toBe('slot1.bin');
    expect(pickForSlot(McubootMode.DIRECT_XIP, [high, low], 0).file).toBe('slot0.bin');
    expect(() => pickForSlot(McubootMode.DIRECT_XIP, [build('plain.bin')], 1)).toThrow(/--rom-fixed/);
    expect(() => pickForSlot(McubootMode.DIRECT_XIP, [low, build('same.bin', 0x10000)], 1)).toThrow(UsageError);
    expect(() => pickForSlot(McubootMode.SWAP_MOVE, [low, high], 1)).toThrow(/only taken in MCUboot direct-XIP/);
  });
});

describe('image upgrade against an overwrite-only MCUboot (mcumgr-sim, UDP)', () => {
  let sim: SimProcess;
  const dir = tempDir('mcumgr-overwrite-');
  beforeAll(async () => {
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ mcubootMode: 2, resetDelayMs: 50, bootTimeMs: 50 }));
    sim = await startSim(['--udp', '127.0.0.1:0', '--state', join(dir, 'state'), '--config', join(dir, 'config.json')]);
  });
  afterAll(async () => {
    await sim?.stop();
  });

  it('tests, resets and checks, and does not confirm: the copy is permanent', async () => {
    const file = join(dir, 'app.bin');
    writeFileSync(file, buildImage({ version: '4.0.0' }));
    const conn = ['--conntype', 'udp', '--connstring', sim.udp!];
    const r = await run([...conn, 'image', 'upgrade', file, '--wait', '20']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('overwrite only');
    expect(r.stdout).toContain('for test');
    expect(r.stdout).not.toContain('confirming');
    const list = await run([...conn, 'image', 'list']);
    expect(list.stdout).toContain('version: 4.0.0');
    expect(list.stdout).not.toContain('slot=1');
    expect(sim.stderr()).toContain('reset: image 0 perm');
  });
});

describe('image upgrade against a direct-XIP MCUboot (mcumgr-sim, UDP)', () => {
  /** With the sim's default flash map slot s lies at 0x10000 + s × 0x40000 (config `firstSlotOffset`, `slotSize`). */
  const slotOffset = (slot: number) => 0x10000 + slot * 0x40000;
  const dir = tempDir('mcumgr-direct-xip-');
  const write = (name: string, version: string, slot?: number): string => {
    const file = join(dir, name);
    const fixed = slot !== undefined ? { loadAddress: slotOffset(slot), romFixed: true } : {};
    writeFileSync(file, createImage(new Uint8Array(512).fill(slot ?? 9), { version, headerSize: 0x200, padHeader: true, ...fixed }));
    return file;
  };
  const sims: SimProcess[] = [];
  afterAll(async () => {
    for (const sim of sims) await sim.stop();
  });
  const start = async (mode: number, name: string): Promise<{ sim: SimProcess; conn: string[] }> => {
    writeFileSync(join(dir, `${name}.json`), JSON.stringify({ mcubootMode: mode, resetDelayMs: 50, bootTimeMs: 50 }));
    const sim = await startSim(['--udp', '127.0.0.1:0', '--state', join(dir, name), '--config', join(dir, `${name}.json`)]);
    sims.push(sim);
    return { sim, conn: ['--conntype', 'udp', '--connstring', sim.udp!] };
  };

  it('sends the build for the slot not running, resets and checks; the next upgrade goes to the other slot', async () => {
    const { sim, conn } = await start(McubootMode.DIRECT_XIP, 'plain');
    const r = await run([...conn, 'image', 'upgrade', write('a1.bin', '2.0.0', 1), write('a0.bin', '2.0.0', 0), '--wait', '20']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('a1.bin is the build for slot 1');
    expect(r.stdout).not.toContain('for test');
    expect(r.stdout).not.toContain('confirming');
    expect(sim.stderr()).toContain('reset: image 0 perm (slot 1)');
    const again = await run([...conn, 'image', 'upgrade', write('b0.bin', '3.0.0', 0), write('b1.bin', '3.0.0', 1), '--wait', '20']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('b0.bin is the build for slot 0');
    const list = await run([...conn, 'image', 'list', '--json']);
    const images = JSON.parse(list.stdout).images as { slot: number; version: string; active: boolean }[];
    expect(images.map((i) => [i.slot, i.version, i.active])).toEqual([
      [0, '3.0.0', true],
      [1, '2.0.0', false],
    ]);
  });

  it('with revert: tests, resets, checks and confirms the image in slot 1', async () => {
    const { sim, conn } = await start(McubootMode.DIRECT_XIP_REVERT, 'revert');
    const r = await run([...conn, 'image', 'upgrade', write('c0.bin', '2.0.0', 0), write('c1.bin', '2.0.0', 1), '--wait', '20']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('c1.bin is the build for slot 1');
    expect(r.stdout).toContain('for test');
    expect(r.stdout).toContain('confirming');
    expect(sim.stderr()).toContain('reset: image 0 test (slot 1)');
    const list = JSON.parse((await run([...conn, 'image', 'list', '--json'])).stdout).images as { slot: number; active: boolean; confirmed: boolean }[];
    expect(list.find((i) => i.slot === 1)).toMatchObject({ active: true, confirmed: true });
  });

  it('refuses a build without a fixed address before sending it, and a build for the running slot does not boot', async () => {
    const { sim, conn } = await start(McubootMode.DIRECT_XIP, 'wrong');
    const loose = await run([...conn, 'image', 'upgrade', write('loose.bin', '2.0.0'), '--wait', '20']);
    expect(loose.code).toBe(64);
    expect(loose.stderr).toContain('--rom-fixed');
    const wrongSlot = await run([...conn, 'image', 'upgrade', write('d0.bin', '2.0.0', 0), '--wait', '20']);
    expect(wrongSlot.code).not.toBe(0);
    expect(wrongSlot.stderr).toContain('not the uploaded image');
    expect(sim.stderr()).toContain('reset: image 0 rejected (slot 0)');
    const list = JSON.parse((await run([...conn, 'image', 'list', '--json'])).stdout).images as { slot: number; version: string; active: boolean }[];
    expect(list.find((i) => i.active)).toMatchObject({ slot: 0, version: '1.0.0' });
  });
});
