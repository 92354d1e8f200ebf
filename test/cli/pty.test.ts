/** The built CLI against the virtual device over a real pseudo-terminal (SMP console framing); every command: commands-pty.test.ts. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, run, Simulator, tempDir } from './helpers.js';

describe('mcumgr over a pseudo-terminal', () => {
  let sim: Simulator;
  let serial: string[];
  let dir: string;

  beforeAll(async () => {
    sim = await Simulator.start({ serial: true });
    serial = sim.serialConn;
    dir = tempDir();
  });
  afterAll(async () => {
    await sim?.stop();
  });

  it('prints the pseudo-terminal path as a /dev/... serial port', () => {
    expect(sim.ptyPath).toMatch(/^\/dev\/pts\/\d+$/);
  });

  it('uploads an image given as Intel HEX (zephyr.signed.hex) and refuses a HEX file with a gap', async () => {
    const { createImage, binaryToIhex } = (await import(join(ROOT, 'dist/image/node.js'))) as {
      createImage(payload: Uint8Array, o: { version: string; padHeader: boolean }): Uint8Array;
      binaryToIhex(address: number, data: Uint8Array): string;
    };
    const img = createImage(new Uint8Array(5000).fill(7), { version: '1.5.0', padHeader: true });
    const hex = join(dir, 'app.hex');
    writeFileSync(hex, binaryToIhex(0x10000, img));
    expect(await run([...serial, 'image', 'upload', hex])).toMatchObject({ code: 0, stdout: 'Done\n' });
    const listed = JSON.parse((await run([...serial, '--json', 'image', 'list'])).stdout) as { images: { slot: number; version: string }[] };
    expect(listed.images.find((i) => i.slot === 1)?.version).toBe('1.5.0');

    const gap = join(dir, 'gap.hex');
    writeFileSync(gap, binaryToIhex(0x10000, img.subarray(0, 64)).replace(/:00000001FF\s*$/, '') + binaryToIhex(0x20000, img.subarray(64)));
    const r = await run([...serial, 'image', 'upload', gap]);
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/Intel HEX file that cannot be converted/);
  });
});
