/** The built CLI against the virtual device (`mcumgr-sim` over UDP), when it has been built. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { ROOT, run, Simulator, tempDir } from './helpers.js';

const IMAGE_LIST = /^Images:\n( image=\d+ slot=\d+\n    version: \S+\n    bootable: (true|false)\n    flags: ((active|confirmed|pending|permanent)( |(?=\n)))*\n    hash: ([0-9a-f]{64}|Unavailable)\n)+Split status: \S+ \(\d+\)\n$/;

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

  it('echo, image list, stat, taskstat in the Go formats', async () => {
    expect(await run([...conn, 'echo', 'hello'])).toMatchObject({ code: 0, stdout: 'hello\n', stderr: '' });
    const list = await run([...conn, 'image', 'list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(IMAGE_LIST);
    expect(list.stdout).toMatch(/flags: active confirmed\n/);
    const stats = await run([...conn, 'stat', 'list']);
    expect(stats.stdout).toMatch(/^stat groups:\n(    \S+\n)+$/);
    const group = stats.stdout.split('\n')[1]!.trim();
    expect((await run([...conn, 'stat', group])).stdout).toMatch(new RegExp(`^stat group: ${group}\\n(( {0,9}\\d+ \\S+\\n)+|    \\(empty\\)\\n)$`));
    const ts = await run([...conn, 'taskstat']);
    expect(ts.stdout.split('\n')[0]).toBe('      task pri tid  runtime      csw    stksz   stkuse last_checkin next_checkin');
  });

  it('--json image list is one JSON document with hex hashes', async () => {
    const r = await run([...conn, '--json', 'image', 'list']);
    const doc = JSON.parse(r.stdout) as { images: { hash: string; active: boolean }[] };
    expect(doc.images.find((i) => i.active)!.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('unsupported command: exit 2 with an explanation', async () => {
    const r = await run([...conn, 'mpstat']);
    if (r.code === 0) return; // this device build supports it
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/^Error: \d+\n$/);
    expect(r.stderr).toMatch(/\(\d+\): /);
  });

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

  it('image upgrade: upload, test, reset, wait, check, confirm', async () => {
    const file = await makeImage('2.0.0', 30_000);
    const r = await run([...conn, 'image', 'upgrade', file], {}, 90_000);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const s of ['[1/5] Uploading', '[2/5] Marking image', '[3/5] Resetting', '[4/5] Waiting', '[5/5] New image 2.0.0 is running']) {
      expect(r.stdout).toContain(s);
    }
    const list = await run([...conn, '--json', 'image', 'list']);
    const doc = JSON.parse(list.stdout) as { images: { slot: number; version: string; active?: boolean; confirmed?: boolean }[] };
    const active = doc.images.find((i) => i.active)!;
    expect(active).toMatchObject({ version: '2.0.0', confirmed: true });
  });

  it('image confirm without a hash works (sends {confirm: true})', async () => {
    const r = await run([...conn, 'image', 'confirm']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(IMAGE_LIST);
  });

  it('fs upload / download / stat / hash round trip', async () => {
    const data = randomBytes(5000);
    const local = join(dir, 'data.bin');
    writeFileSync(local, data);
    // Find a mount that accepts the file.
    let remote = '';
    for (const m of ['/lfs', '/lfs1']) {
      const r = await run([...conn, 'fs', 'upload', local, `${m}/data.bin`]);
      if (r.code === 0) {
        remote = `${m}/data.bin`;
        expect(r.stdout).toMatch(/^(\d+\n)+Done\n$/);
        expect(r.stdout).toContain('5000\nDone\n');
        break;
      }
    }
    expect(remote).not.toBe('');
    const back = join(dir, 'back.bin');
    const d = await run([...conn, 'fs', 'download', remote, back]);
    expect(d.code).toBe(0);
    expect(d.stdout).toMatch(/^0\n(\d+\n)*5000\nDone\n$/);
    expect(readFileSync(back).equals(data)).toBe(true);
    expect((await run([...conn, 'fs', 'stat', remote])).stdout).toBe(`${remote}: 5000 bytes\n`);
    const h = await run([...conn, '--json', 'fs', 'hash', remote, '-t', 'sha256']);
    if (h.code === 0) expect((JSON.parse(h.stdout) as { output: string }).output).toBe(createHash('sha256').update(data).digest('hex'));
    const missing = await run([...conn, 'fs', 'download', `${remote}.nope`, join(dir, 'x')]);
    expect(missing.code).toBe(2);
  });

  it('settings write / read / delete', async () => {
    expect((await run([...conn, 'settings', 'write', 'cli/test', 'hello'])).code).toBe(0);
    const r = await run([...conn, 'settings', 'read', 'cli/test']);
    expect(r.stdout).toBe('Value: 68656c6c6f ("hello")\n');
    expect((await run([...conn, 'settings', 'delete', 'cli/test'])).code).toBe(0);
  });

  it('shell exec, enum, params, info, datetime', async () => {
    const sh = await run([...conn, 'shell', 'exec', 'kernel', 'version']);
    expect(sh.stdout).toMatch(/^status=0\n[\s\S]*Zephyr version/);
    expect((await run([...conn, 'enum'])).stdout).toMatch(/^Groups:\n/);
    expect((await run([...conn, 'params'])).stdout).toMatch(/^buf_size: \d+\nbuf_count: \d+\n$/);
    expect((await run([...conn, 'info'])).code).toBe(0);
    expect((await run([...conn, 'datetime'])).stdout).toMatch(/^Datetime\(RFC 3339 format\): \d{4}-/);
  });
});
