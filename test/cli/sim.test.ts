/** The built CLI against the virtual device (`mcumgr-sim` over UDP): an image upload with a chosen window (-w). */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { ROOT, run, Simulator, tempDir } from './helpers.js';

describe.skipIf(!Simulator.available())('against the virtual device', () => {
  let sim: Simulator;
  let conn: string[];
  let dir: string;

  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'dist/cli/main.js'))) execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: ROOT });
    sim = await Simulator.start();
    conn = sim.conn;
    dir = tempDir();
  });
  afterAll(async () => {
    await sim?.stop();
  });

  async function makeImage(version: string, size: number): Promise<string> {
    const { createImage } = (await import(join(ROOT, 'dist/image/index.js'))) as {
      createImage(payload: Uint8Array, o: { version: string; padHeader: boolean }): Uint8Array;
    };
    const file = join(dir, `app-${version}.bin`);
    writeFileSync(file, createImage(new Uint8Array(randomBytes(size)), { version, padHeader: true }));
    return file;
  }

  it('image upload then list shows the uploaded image in slot 1 with its hash', async () => {
    const file = await makeImage('1.1.0', 40_000);
    const up = await run([...conn, '-w', '3', 'image', 'upload', file]);
    expect(up).toMatchObject({ code: 0, stdout: 'Done\n' });
    const list = await run([...conn, '--json', 'image', 'list']);
    const doc = JSON.parse(list.stdout) as { images: { slot: number; version: string; hash: string }[] };
    expect(doc.images.find((i) => i.slot === 1)?.version).toBe('1.1.0');
    const erase = await run([...conn, 'image', 'erase']);
    expect(erase).toMatchObject({ code: 0, stdout: 'Done\n' });
  });
});
