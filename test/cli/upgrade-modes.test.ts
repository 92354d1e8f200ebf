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
