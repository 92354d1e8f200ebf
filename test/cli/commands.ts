/**
 * Every device command of the real `mcumgr` executable against the virtual device: stdout, stderr and exit
 * status, human and --json. Used by commands-udp.test.ts and commands-pty.test.ts.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { beforeAll, describe, expect, test } from 'vitest';
import { createImage, parseImage } from '../../src/image/index.js';
import { hex, run, Simulator, tempDir, type ListedSlot, type RunResult } from './helpers.js';

const IMAGE_LIST = /^Images:\n( image=\d+ slot=\d+\n    version: \S+\n    bootable: (true|false)\n    flags: ((active|confirmed|pending|permanent)( |(?=\n)))*\n    hash: ([0-9a-f]{64}|Unavailable)\n)+Split status: \S+ \(\d+\)\n$/;

function ok(r: RunResult, stdout: string | RegExp): void {
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  if (typeof stdout === 'string') expect(r.stdout).toBe(stdout);
  else expect(r.stdout).toMatch(stdout);
}

/** The --json document of a successful command (nothing on stderr). */
function doc<T = Record<string, unknown>>(r: RunResult): T {
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as T;
}

/** A device error: the Go tool's line on stdout, the code's name and explanation on stderr, exit 2. */
function deviceError(r: RunResult, rc: number, explanation: string): void {
  expect(r).toMatchObject({ code: 2, stdout: `Error: ${rc}\n` });
  expect(r.stderr).toBe(`${explanation}\n`);
}

function jsonDeviceError(r: RunResult, rc: number, code: string): void {
  expect(r).toMatchObject({ code: 2, stdout: '' });
  expect((JSON.parse(r.stderr) as { error: unknown }).error).toMatchObject({ kind: 'device', rc, code });
}

interface Session {
  sim: Simulator;
  cli(args: string[], env?: NodeJS.ProcessEnv): Promise<RunResult>;
  /** Runs the commands in turn (one pseudo-terminal; and it bounds the processes running at once). */
  each(commands: string[][]): Promise<RunResult[]>;
}

export function describeEveryCommand(link: 'udp' | 'pty'): void {
  // The groups run at once, each against its own simulator: the commands, not the test, wait on each other.
  (Simulator.available() ? describe.concurrent : describe.skip)(`every command over ${link}, human and --json`, () => {
    let dir: string;
    beforeAll(() => {
      dir = tempDir();
    });

    function it(title: string, body: (s: Session) => Promise<void>): void {
      test(title, async () => {
        const sim = await Simulator.start({ serial: link === 'pty' });
        const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => run([...(link === 'udp' ? sim.conn : sim.serialConn), ...args], env);
        const each = async (commands: string[][]) => {
          const out: RunResult[] = [];
          for (const c of commands) out.push(await cli(c));
          return out;
        };
        try {
          await body({ sim, cli, each });
        } finally {
          await sim.stop();
        }
      });
    }

    function makeImage(version: string): { file: string; hash: string } {
      const bytes = createImage(new Uint8Array(randomBytes(6000)), { version, padHeader: true });
      const file = join(dir, `app-${version}.bin`);
      writeFileSync(file, bytes);
      return { file, hash: hex(parseImage(bytes).hash!) };
    }

    it('os: echo, taskstat, params, info, mpstat (ENOTSUP), reset and reset -f', async ({ sim, cli, each }) => {
      const [echo, echoJ, ts, tsJ, params, paramsJ, info, infoJ, mp, mpJ] = await each([
        ['echo', 'hello world'],
        ['--json', 'echo', 'hi'],
        ['taskstat'],
        ['--json', 'taskstat'],
        ['params'],
        ['--json', 'params'],
        ['info', 'a'],
        ['--json', 'info'],
        ['mpstat'],
        ['--json', 'mpstat'],
      ]);
      ok(echo!, 'hello world\n');
      expect(doc(echoJ!)).toEqual({ r: 'hi' });
      ok(ts!, /^ {6}task pri tid  runtime      csw    stksz   stkuse last_checkin next_checkin\n( +\S+( \S+)? +-?\d+ +\d+( +\d+){6}\n){6}$/);
      expect(ts!.stdout).toMatch(/\n +idle  15 /);
      expect(Object.keys(doc<{ tasks: object }>(tsJ!).tasks)).toContain('main');
      ok(params!, 'buf_size: 1024\nbuf_count: 4\n');
      expect(doc(paramsJ!)).toEqual({ buf_size: 1024, buf_count: 4 });
      ok(info!, 'Zephyr mcumgr-sim v3.4.99 3.4.99 Tue Nov 24 11:09:03 2026 posix unknown native_sim Zephyr\n');
      expect(doc(infoJ!)).toEqual({ output: 'Zephyr' });
      deviceError(mp!, 8, 'MGMT_ERR_ENOTSUP (8): the command is not supported by the device (not enabled in its build); enable CONFIG_MCUMGR_GRP_OS_MPSTAT in the device build');
      jsonDeviceError(mpJ!, 8, 'MGMT_ERR_ENOTSUP');

      let booted = sim.nextReset();
      ok(await cli(['reset']), 'Done\n');
      await booted;
      booted = sim.nextReset();
      expect(doc(await cli(['--json', 'reset', '-f']))).toEqual({ ok: true });
      await booted;
      ok(await cli(['echo', 'back']), 'back\n');
    });

    it('datetime: get, set VALUE, now and set with the local zone offset', async ({ cli }) => {
      ok(await cli(['datetime', '2031-02-03T04:05:06']), 'Done\n');
      ok(await cli(['datetime']), /^Datetime\(RFC 3339 format\): 2031-02-03T04:0[5-9]:\d\d\n$/);
      expect(doc(await cli(['--json', 'datetime', 'set', '2032-12-31T23:00:00+01:00']))).toEqual({ datetime: '2032-12-31T23:00:00+01:00' });
      expect(doc<{ datetime: string }>(await cli(['--json', 'datetime', 'get'])).datetime).toMatch(/^2032-12-31T23:0\d:\d\d$/);

      const now = await cli(['datetime', 'now'], { TZ: 'Asia/Kolkata' });
      ok(now, /^Setting time to \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+05:30\nDone\n$/);
      const sent = /to (\S+)\+05:30/.exec(now.stdout)![1]!;
      // Zephyr keeps local time and ignores the zone: the device now reads the Kolkata wall clock.
      const read = doc<{ datetime: string }>(await cli(['--json', 'datetime'])).datetime;
      const ahead = (Date.parse(`${read}Z`) - Date.parse(`${sent}Z`)) / 1000;
      expect(ahead).toBeGreaterThanOrEqual(0);
      expect(ahead).toBeLessThan(600);

      const stJohns = await cli(['--json', 'datetime', 'set'], { TZ: 'America/St_Johns' });
      const utc = await cli(['datetime', 'set', 'now'], { TZ: 'UTC' });
      expect(doc<{ datetime: string }>(stJohns).datetime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d-0[23]:30$/);
      ok(utc, /^Setting time to \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\nDone\n$/);

      const bad = await cli(['datetime', '2031-02-03 04:05:06']);
      expect(bad).toMatchObject({ code: 64, stdout: '' });
      expect(bad.stderr).toMatch(/^Error: invalid datetime "2031-02-03 04:05:06": expected YYYY-MM-DDTHH:MM:SS/);
    });

    it('image: list, slotinfo, upload, erase, test, confirm, upgrade', async ({ sim, cli, each }) => {
      const a = makeImage('1.1.0');
      const b = makeImage('1.2.0');
      const [list, listJ, slots, slotsJ] = await each([['image', 'list'], ['--json', 'image', 'list'], ['image', 'slotinfo'], ['--json', 'image', 'slotinfo']]);
      ok(list!, IMAGE_LIST);
      expect(list!.stdout).toMatch(/^Images:\n image=0 slot=0\n    version: \S+\n    bootable: true\n    flags: active confirmed\n/);
      expect(doc<{ images: ListedSlot[] }>(listJ!).images[0]).toMatchObject({ slot: 0, active: true, confirmed: true });
      ok(slots!, /^image=0 max_image_size=\d+\n  slot=0 size=262144\n  slot=1 size=262144 upload_image_id=0\n$/);
      expect(doc<{ images: { slots: unknown[] }[] }>(slotsJ!).images[0]!.slots).toHaveLength(2);

      ok(await cli(['image', 'upload', a.file]), 'Done\n');
      ok(await cli(['image', 'erase']), 'Done\n');
      expect(doc<{ images: ListedSlot[] }>(await cli(['--json', 'image', 'list'])).images.map((i) => i.slot)).toEqual([0]);
      expect(doc(await cli(['--json', 'image', 'upload', a.file]))).toMatchObject({ file: a.file, version: `1.1.0`, hash: a.hash, bytes: readFileSync(a.file).length });

      const tested = await cli(['image', 'test', a.hash]);
      ok(tested, IMAGE_LIST);
      expect(tested.stdout).toContain(` image=0 slot=1\n    version: 1.1.0\n    bootable: true\n    flags: pending\n    hash: ${a.hash}\n`);
      expect(doc<{ images: ListedSlot[] }>(await cli(['--json', 'image', 'test', a.hash])).images[1]).toMatchObject({ slot: 1, hash: a.hash, pending: true });
      const [erase, eraseJ] = await each([['image', 'erase'], ['--json', 'image', 'erase']]);
      deviceError(erase!, 9, 'IMG_MGMT_ERR_NO_FREE_SLOT (9): no free slot: an image is pending or in use (reset the device, or erase the slot)');
      jsonDeviceError(eraseJ!, 9, 'IMG_MGMT_ERR_NO_FREE_SLOT');

      const booted = sim.nextReset();
      ok(await cli(['reset']), 'Done\n');
      expect(await booted).toBe('reset: image 0 test');
      const confirmed = await cli(['image', 'confirm']);
      ok(confirmed, IMAGE_LIST);
      expect(confirmed.stdout).toContain(` image=0 slot=0\n    version: 1.1.0\n    bootable: true\n    flags: active confirmed\n    hash: ${a.hash}\n`);
      expect(doc<{ images: ListedSlot[] }>(await cli(['--json', 'image', 'confirm', a.hash])).images[0]).toMatchObject({ version: `1.1.0`, active: true, confirmed: true });

      const up = await cli(['image', 'upgrade', b.file]);
      ok(up, new RegExp(`^\\[1/5\\] Uploading .*\\n\\[2/5\\] Marking image ${b.hash} for test\\n\\[3/5\\] Resetting the device\\n\\[4/5\\] Waiting .*\\n\\[5/5\\] New image 1\\.2\\.0 is running; confirming it\\nImages:\\n[\\s\\S]*Done\\n$`));
      expect(doc(await cli(['--json', 'image', 'upgrade', b.file]))).toMatchObject({ upgraded: false, version: `1.2.0`, hash: b.hash, steps: [{ step: 'check' }] });
    });

    it('fs: upload, download, stat, hash', async ({ cli, each }) => {
      const data = randomBytes(3000);
      const local = join(dir, `data-${link}.bin`);
      writeFileSync(local, data);
      const remote = `/lfs/data-${link}.bin`;
      const upload = await cli(['fs', 'upload', local, remote]);
      ok(upload, /^(\d+\n)+Done\n$/);
      expect(upload.stdout).toMatch(/\n3000\nDone\n$/);
      expect(doc(await cli(['--json', 'fs', 'upload', local, `${remote}.2`]))).toMatchObject({ remote: `${remote}.2`, bytes: 3000 });

      const back = join(dir, `back-${link}.bin`);
      const backJ = join(dir, `back-${link}.json.bin`);
      const crc = crc32(data).toString(16).padStart(8, '0');
      const sha = createHash('sha256').update(data).digest('hex');
      const [down, downJ, st, stJ, hash, hashJ] = await each([
        ['fs', 'download', remote, back],
        ['--json', 'fs', 'download', `${remote}.2`, backJ],
        ['fs', 'stat', remote],
        ['--json', 'fs', 'stat', remote],
        ['fs', 'hash', remote],
        ['--json', 'fs', 'hash', remote, '-t', 'sha256'],
      ]);
      ok(down!, /^0\n(\d+\n)*3000\nDone\n$/);
      expect(readFileSync(back).equals(data)).toBe(true);
      expect(doc(downJ!)).toEqual({ remote: `${remote}.2`, local: backJ, bytes: 3000 });
      expect(readFileSync(backJ).equals(data)).toBe(true);
      ok(st!, `${remote}: 3000 bytes\n`);
      expect(doc(stJ!)).toEqual({ name: remote, len: 3000 });
      ok(hash!, `type: crc32\noff: 0\nlen: 3000\noutput: ${crc}\n`);
      expect(doc(hashJ!)).toMatchObject({ name: remote, type: 'sha256', len: 3000, output: sha });
    });

    it('shell exec, stat list, stat GROUP, enum', async ({ each }) => {
      const [sh, shJ, list, listJ, group, groupJ, en, enJ] = await each([
        ['shell', 'exec', 'kernel', 'version'],
        ['--json', 'shell', 'exec', 'kernel', 'version'],
        ['stat', 'list'],
        ['--json', 'stat', 'list'],
        ['stat', 'my_stats'],
        ['--json', 'stat', 'my_stats'],
        ['enum'],
        ['--json', 'enum'],
      ]);
      ok(sh!, 'status=0\n\r\nZephyr version 3.4.99\r\n');
      expect(doc(shJ!)).toEqual({ status: 0, output: '\r\nZephyr version 3.4.99\r\n' });
      ok(list!, 'stat groups:\n    flash_sim_stats\n    my_stats\n    smp_svr_stats\n');
      expect(doc(listJ!)).toEqual({ stat_list: ['smp_svr_stats', 'my_stats', 'flash_sim_stats'] });
      ok(group!, /^stat group: my_stats\n {0,9}\d+ my_stat_1\n {0,9}\d+ my_stat_2\n {0,9}\d+ my_stat_3\n$/);
      expect(doc(groupJ!)).toMatchObject({ name: 'my_stats', fields: { my_stat_1: expect.any(Number), my_stat_2: expect.any(Number), my_stat_3: expect.any(Number) } });
      ok(en!, /^Groups:\n    0 os mgmt \(9 handlers\)\n    1 img mgmt \(7 handlers\)\n[\s\S]*   10 enum mgmt \(4 handlers\)\n   63 zephyr basic mgmt \(1 handlers\)\n$/);
      expect(doc<{ groups: unknown[] }>(enJ!).groups).toContainEqual({ group: 8, name: 'fs mgmt', handlers: 5 });
    });

    it('settings: write, read, delete, commit, load, save', async ({ cli, each }) => {
      const key = `cli/${link}`;
      ok(await cli(['settings', 'write', key, 'hello']), 'Done\n');
      expect(doc(await cli(['--json', 'settings', 'write', '--hex', `${key}/raw`, '00ff']))).toEqual({ ok: true });
      const [read, readJ, readRaw] = await each([['settings', 'read', key], ['--json', 'settings', 'read', key], ['settings', 'read', `${key}/raw`]]);
      ok(read!, 'Value: 68656c6c6f ("hello")\n');
      expect(doc(readJ!)).toEqual({ name: key, val: '68656c6c6f', text: 'hello' });
      ok(readRaw!, 'Value: 00ff\n');
      const [del, delJ] = await each([['settings', 'delete', key], ['--json', 'settings', 'delete', `${key}/raw`]]);
      ok(del!, 'Done\n');
      expect(doc(delJ!)).toEqual({ ok: true });
      const [gone, goneJ] = await each([['settings', 'read', key], ['--json', 'settings', 'read', `${key}/raw`]]);
      deviceError(gone!, 3, 'SETTINGS_MGMT_ERR_KEY_NOT_FOUND (3): no such setting');
      jsonDeviceError(goneJ!, 3, 'SETTINGS_MGMT_ERR_KEY_NOT_FOUND');

      const verbs = ['commit', 'load', 'save'];
      const results = await each(verbs.flatMap((v) => [['settings', v], ['--json', 'settings', v]]));
      results.forEach((r, i) => (i % 2 === 0 ? ok(r, 'Done\n') : expect(doc(r)).toEqual({ ok: true })));
    });
  });
}

