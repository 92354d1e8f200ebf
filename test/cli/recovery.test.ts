/**
 * The real `mcumgr` executable against `mcumgr-sim --recovery` (MCUboot's serial recovery) over a real
 * pseudo-terminal, in console and in raw framing: upload, list, confirm, reset into the application, and
 * `reset --boot-mode bootloader` back into recovery.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImage } from '../../src/device/firmware.js';
import { decodeCborMap } from '../../src/protocol/cbor.js';
import { decodePacket } from '../../src/protocol/header.js';
import { startSim, tempDir, type SimProcess } from '../device/helpers.js';
import { run } from './helpers.js';

/** Resolves when `condition` holds (checked as the simulator writes its log). */
async function until(sim: SimProcess, condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => sim.proc.stderr!.once('data', resolve));
}

const resets = (sim: SimProcess): string[] =>
  sim
    .stderr()
    .split('\n')
    .filter((l) => l.startsWith('reset:'));

/** The image upload requests a `-l debug` run sent, decoded. */
function uploadRequests(stderr: string): { off: number; data: Uint8Array }[] {
  return [...stderr.matchAll(/^Tx SMP packet \(\d+ bytes\): ([0-9a-f]+)$/gm)]
    .map((m) => decodePacket(new Uint8Array(Buffer.from(m[1]!, 'hex'))))
    .filter((p) => p.header.group === 1 && p.header.id === 1)
    .map((p) => decodeCborMap(p.payload) as { off: number; data: Uint8Array; image?: number });
}

for (const framing of ['console', 'raw'] as const) {
  describe(`mcumgr against MCUboot serial recovery (${framing} framing, real pty)`, () => {
    let sim: SimProcess;
    let conn: string[];
    const dir = tempDir('mcumgr-recovery-');
    const file = join(dir, 'app.bin');
    const image = buildImage({ version: '2.0.0', body: new Uint8Array(20662).map((_, i) => (i * 7) & 0xff) });

    beforeAll(async () => {
      writeFileSync(file, image);
      writeFileSync(join(dir, 'config.json'), JSON.stringify({ resetDelayMs: 50, bootTimeMs: 50 }));
      sim = await startSim(['--serial', 'pty', '--recovery', '--framing', framing, '--state', join(dir, 'state'), '--config', join(dir, 'config.json')]);
      conn = ['--conntype', 'serial', '--connstring', `dev=${sim.pty},framing=${framing}`];
    });
    afterAll(async () => {
      await sim?.stop();
    });

    it('refuses application commands naming the mode, without Kconfig advice', async () => {
      const r = await run([...conn, 'params']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('the device is in MCUboot serial recovery; this command needs the application');
      expect(r.stderr).not.toContain('CONFIG_');
    });

    it("doctor names MCUboot options, not the application's", async () => {
      const r = await run([...conn, 'doctor']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('MCUboot in serial recovery');
      expect(r.stdout).toContain('CONFIG_BOOT_ERASE_PROGRESSIVELY');
      expect(r.stdout).not.toContain('CONFIG_MCUMGR');
    });

    it('uploads to the primary slot one whole-flash-unit chunk at a time, never sending a chunk twice', async () => {
      const r = await run([...conn, '-l', 'debug', 'image', 'upload', file]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain('MCUboot serial recovery');
      const chunks = uploadRequests(r.stderr);
      const offsets = chunks.map((c) => c.off);
      expect(new Set(offsets).size).toBe(offsets.length);
      expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
      for (const c of chunks.slice(1, -1)) expect(c.data.length % 4).toBe(0);
      expect(chunks.reduce((n, c) => n + c.data.length, 0)).toBe(image.length);
      const list = await run([...conn, 'image', 'list']);
      expect(list.stdout).toContain('version: 2.0.0');
      expect(list.stdout).not.toContain('Split status');
    });

    it('does not send a confirm without a hash, and says why', async () => {
      const r = await run([...conn, 'image', 'confirm']);
      expect(r.code).toBe(64);
      expect(r.stderr).toContain('permanent-swap request');
      expect(r.stderr).toContain('mcumgr reset');
    });

    it('resets into the uploaded application, and back into recovery with --boot-mode bootloader', async () => {
      expect((await run([...conn, 'reset'])).code).toBe(0);
      await until(sim, () => resets(sim).length >= 1);
      expect(resets(sim)[0]).not.toContain('serial recovery');
      const app = await run([...conn, 'image', 'list']);
      expect(app.stdout).toContain('version: 2.0.0');
      expect(app.stdout).toContain('Split status');
      const mode = await run([...conn, 'bootloader', 'mode']);
      expect(mode).toMatchObject({ code: 0 });
      expect(mode.stdout).toContain('mode: swap using scratch (1)');

      expect((await run([...conn, 'reset', '--boot-mode', 'bootloader'])).code).toBe(0);
      await until(sim, () => resets(sim).length >= 2);
      expect(resets(sim)[1]).toContain('(MCUboot serial recovery)');
      const info = await run([...conn, 'bootloader']);
      expect(info.code).toBe(2);
      expect(info.stderr).toContain('MCUboot serial recovery');
      expect((await run([...conn, 'echo', 'still here'])).stdout).toBe('still here\n');
    });

    it('upgrades from recovery: upload to the primary slot, reset, check, with nothing to test or confirm', async () => {
      const next = join(dir, 'app3.bin');
      writeFileSync(next, buildImage({ version: '3.0.0' }));
      const r = await run([...conn, 'image', 'upgrade', next, '--wait', '20']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('MCUboot serial recovery');
      expect(r.stdout).toContain('New image 3.0.0 is running');
      expect(r.stdout).not.toMatch(/for test|confirming/);
      expect(resets(sim).at(-1)).not.toContain('serial recovery');
    });
  });
}

describe('mcumgr against MCUboot serial recovery with direct image upload (two images)', () => {
  let sim: SimProcess;
  const dir = tempDir('mcumgr-recovery-direct-');
  beforeAll(async () => {
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ images: 2, recovery: { directImageUpload: true } }));
    sim = await startSim(['--serial', 'pty', '--recovery', '--state', join(dir, 'state'), '--config', join(dir, 'config.json')]);
  });
  afterAll(async () => {
    await sim?.stop();
  });

  it('sends image 1 to its primary slot with the upload id slot info names for it', async () => {
    const conn = ['--conntype', 'serial', '--connstring', `dev=${sim.pty}`];
    const file = join(dir, 'net.bin');
    writeFileSync(file, buildImage({ version: '5.0.0', image: 1 }));
    const r = await run([...conn, '-l', 'debug', 'image', 'upload', '-n', '1', file]);
    expect(r.code, r.stderr).toBe(0);
    expect(uploadRequests(r.stderr)[0]).toMatchObject({ image: 3 });
    const list = await run([...conn, '--json', 'image', 'list']);
    const images = (JSON.parse(list.stdout) as { images: { image: number; slot: number; version: string }[] }).images;
    expect(images.find((i) => i.image === 1 && i.slot === 0)?.version).toBe('5.0.0');
    expect(images.find((i) => i.image === 0 && i.slot === 0)?.version).toBe('1.0.0');
  });
});
