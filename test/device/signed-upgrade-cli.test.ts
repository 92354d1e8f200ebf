/** Images made by `mcumgr image sign` against a device that checks signatures, all through the real executables. */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run as mcumgr, type ListedSlot } from '../cli/helpers.js';
import { startSim, tempDir, type SimProcess } from './helpers.js';

describe('signed images from `mcumgr image sign` on a device that checks signatures', () => {
  const dir = tempDir();
  const key = join(dir, 'device-key.pem');
  const otherKey = join(dir, 'other-key.pem');
  let sim: SimProcess;
  let conn: string[];

  const list = async (): Promise<ListedSlot[]> => {
    const r = await mcumgr([...conn, '--json', 'image', 'list']);
    expect(r.code, r.stderr).toBe(0);
    return (JSON.parse(r.stdout) as { images: ListedSlot[] }).images;
  };

  /** Uploads, marks for test, resets and waits for the device to answer again; returns the slots after the boot. */
  const tryUpgrade = async (file: string): Promise<ListedSlot[]> => {
    expect((await mcumgr([...conn, 'image', 'upload', file])).code).toBe(0);
    const uploaded = (await list()).find((i) => i.slot === 1)!;
    expect((await mcumgr([...conn, 'image', 'test', uploaded.hash])).code).toBe(0);
    expect((await mcumgr([...conn, 'reset'])).code).toBe(0);
    expect((await mcumgr([...conn, '-t', '1', '-r', '5', 'echo', 'back'])).stdout).toBe('back\n');
    return list();
  };

  beforeAll(async () => {
    expect((await mcumgr(['image', 'keygen', '--type', 'ecdsa-p256', '--key', key])).code).toBe(0);
    expect((await mcumgr(['image', 'keygen', '--type', 'ecdsa-p256', '--key', otherKey])).code).toBe(0);
    writeFileSync(join(dir, 'app.bin'), randomBytes(20_000));
    for (const [k, out] of [
      [key, 'good.bin'],
      [otherKey, 'foreign.bin'],
    ] as const) {
      const r = await mcumgr(['image', 'sign', '--key', k, '--version', '1.1.0', '--pad-header', join(dir, 'app.bin'), join(dir, out)]);
      expect(r.code, r.stderr).toBe(0);
    }
    writeFileSync(join(dir, 'sim.json'), JSON.stringify({ verificationKeyFile: 'device-key.pem' }));
    sim = await startSim(['--udp', '127.0.0.1:0', '--state', join(dir, 'state'), '--config', join(dir, 'sim.json')]);
    conn = ['--conntype', 'udp', '--connstring', sim.udp!];
  });
  afterAll(() => sim?.stop());

  it('verify with the device key accepts ours and refuses the foreign one', async () => {
    expect((await mcumgr(['image', 'verify', '-k', key, join(dir, 'good.bin')])).code).toBe(0);
    const foreign = await mcumgr(['image', 'verify', '-k', key, join(dir, 'foreign.bin')]);
    expect(foreign.code).toBe(64);
    expect(foreign.stderr).toMatch(/key/i);
  });

  it('the device refuses an image signed with another key and keeps running the old one', async () => {
    const after = await tryUpgrade(join(dir, 'foreign.bin'));
    expect(after.find((i) => i.slot === 0)).toMatchObject({ version: '1.0.0', active: true, confirmed: true });
    expect(sim.stderr()).toMatch(/reset: .*image 0/);
  });

  it('the device boots an image signed with its key, and it can be confirmed', async () => {
    const after = await tryUpgrade(join(dir, 'good.bin'));
    expect(after.find((i) => i.slot === 0)).toMatchObject({ version: '1.1.0', active: true });
    expect(after.find((i) => i.slot === 0)?.confirmed).toBeFalsy();
    expect((await mcumgr([...conn, 'image', 'confirm'])).code).toBe(0);
    expect((await list()).find((i) => i.slot === 0)).toMatchObject({ version: '1.1.0', confirmed: true });
  });
});
