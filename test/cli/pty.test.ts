/** The built CLI against the virtual device over a real pseudo-terminal (SMP console framing). */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, run, Simulator, tempDir } from './helpers.js';

describe('mcumgr over a pseudo-terminal', () => {
  let sim: Simulator;
  let serial: string[];
  let dir: string;

  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'dist/cli/main.js'))) execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: ROOT });
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

  it('echo, image list, stat and shell in the Go formats', async () => {
    expect(await run([...serial, 'echo', 'hello'])).toMatchObject({ code: 0, stdout: 'hello\n' });
    const list = await run([...serial, 'image', 'list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^Images:\n image=0 slot=0\n    version: 1\.0\.0\n    bootable: true\n    flags: active confirmed\n    hash: [0-9a-f]{64}\n/);
    expect((await run([...serial, 'stat', 'my_stats'])).stdout).toMatch(/^stat group: my_stats\n/);
    const sh = await run([...serial, 'shell', 'exec', 'kernel', 'version']);
    expect(sh.stdout).toMatch(/^status=0\n\r?\nZephyr version 3\.4\.99\r?\n$/);
  });

  it('--json and device errors over serial', async () => {
    const doc = JSON.parse((await run([...serial, '--json', 'echo', 'x'])).stdout) as { r: string };
    expect(doc.r).toBe('x');
    const missing = await run([...serial, 'stat', 'no_such_group']);
    expect(missing.code).toBe(2);
    expect(missing.stdout).toMatch(/^Error: \d+\n$/);
  });

  it('uploads an image and round-trips a file through the serial framing', async () => {
    const { createImage } = (await import(join(ROOT, 'dist/image/index.js'))) as {
      createImage(payload: Uint8Array, o: { version: string; padHeader: boolean }): Uint8Array;
    };
    const file = join(dir, 'app.bin');
    writeFileSync(file, createImage(new Uint8Array(30_000).map((_, i) => i & 0xff), { version: '1.4.0', padHeader: true }));
    expect(await run([...serial, 'image', 'upload', file])).toMatchObject({ code: 0, stdout: 'Done\n' });
    const listed = JSON.parse((await run([...serial, '--json', 'image', 'list'])).stdout) as { images: { slot: number; version: string }[] };
    expect(listed.images.find((i) => i.slot === 1)?.version).toBe('1.4.0');

    const local = join(dir, 'data.txt');
    const back = join(dir, 'back.txt');
    writeFileSync(local, 'x'.repeat(3000));
    expect((await run([...serial, 'fs', 'upload', local, '/lfs/data.txt'])).code).toBe(0);
    expect((await run([...serial, 'fs', 'download', '/lfs/data.txt', back])).code).toBe(0);
    expect(readFileSync(back, 'utf8')).toBe('x'.repeat(3000));
  });

  it('uploads an image given as Intel HEX (zephyr.signed.hex) and refuses a HEX file with a gap', async () => {
    const { createImage, binaryToIhex } = (await import(join(ROOT, 'dist/image/index.js'))) as {
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

  it('a missing serial device is a clear transport error', async () => {
    const r = await run(['--conntype', 'serial', '--connstring', 'dev=/dev/ttyNOPE0', 'echo', 'hi']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/\/dev\/ttyNOPE0 not found/);
  });
});
