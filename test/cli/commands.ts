/**
 * Every device command of the real `mcumgr` executable against the virtual device: stdout, stderr and exit
 * status, human and --json. Used by commands-udp.test.ts and commands-pty.test.ts. Every command runs over
 * both links in its human form and over UDP in its --json form too; over the pseudo-terminal only a few --json
 * forms run, since JSON formatting does not depend on the link and each CLI process costs ~0.4 s of CPU.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createImage, parseImage } from '../../src/image/node.js';
import { hex, run, Simulator, tempDir, type ListedSlot, type RunResult } from './helpers.js';

const IMAGE_LIST =
  /^Images:\n( image=\d+ slot=\d+\n {4}version: \S+\n {4}bootable: (true|false)\n {4}flags: ((active|confirmed|pending|permanent)( |(?=\n)))*\n {4}hash: ([0-9a-f]{64}|Unavailable)\n)+Split status: \S+ \(\d+\)\n$/;

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

interface Step {
  args: string[];
  check(r: RunResult): void;
  env?: NodeJS.ProcessEnv;
  /** A --json form whose output does not depend on the link: run over UDP only. */
  udpOnly?: boolean;
}

export function describeEveryCommand(link: 'udp' | 'pty'): void {
  describe(`every command over ${link}, human and --json`, () => {
    let sim: Simulator;
    let dir: string;

    beforeAll(async () => {
      sim = await Simulator.start({ serial: link === 'pty' });
      dir = tempDir();
    });
    afterAll(async () => {
      await sim?.stop();
    });

    const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => run([...(link === 'udp' ? sim.conn : sim.serialConn), ...args], env);

    /** Independent steps: at once over UDP, in turn over the one pseudo-terminal. */
    async function steps(list: Step[]): Promise<void> {
      const chosen = list.filter((s) => link === 'udp' || !s.udpOnly);
      if (link === 'udp') {
        const results = await Promise.all(chosen.map((s) => cli(s.args, s.env)));
        chosen.forEach((s, i) => s.check(results[i]!));
      } else {
        for (const s of chosen) s.check(await cli(s.args, s.env));
      }
    }

    async function reset(args: string[], check: (r: RunResult) => void): Promise<string> {
      const booted = sim.nextReset();
      check(await cli(args));
      return booted;
    }

    function makeImage(version: string): { file: string; hash: string } {
      const bytes = createImage(new Uint8Array(randomBytes(6000)), { version, padHeader: true });
      const file = join(dir, `app-${version}.bin`);
      writeFileSync(file, bytes);
      return { file, hash: hex(parseImage(bytes).hash!) };
    }

    it('os: echo, taskstat, params, info, mpstat (ENOTSUP), reset and reset -f', async () => {
      await steps([
        { args: ['echo', 'hello world'], check: (r) => ok(r, 'hello world\n') },
        { args: ['--json', 'echo', 'hi'], check: (r) => expect(doc(r)).toEqual({ r: 'hi' }) },
        {
          args: ['taskstat'],
          check: (r) => {
            ok(r, /^ {6}task pri tid {2}runtime {6}csw {4}stksz {3}stkuse last_checkin next_checkin\n( +\S+( \S+)? +-?\d+ +\d+( +\d+){6}\n){6}$/);
            expect(r.stdout).toMatch(/\n +idle {2}15 /);
          },
        },
        { args: ['--json', 'taskstat'], check: (r) => expect(Object.keys(doc<{ tasks: object }>(r).tasks)).toContain('main'), udpOnly: true },
        { args: ['params'], check: (r) => ok(r, 'buf_size: 1024\nbuf_count: 4\n') },
        { args: ['--json', 'params'], check: (r) => expect(doc(r)).toEqual({ buf_size: 1024, buf_count: 4 }), udpOnly: true },
        { args: ['info', 'a'], check: (r) => ok(r, 'Zephyr mcumgr-sim v3.4.99 3.4.99 Tue Nov 24 11:09:03 2026 posix unknown native_sim Zephyr\n') },
        { args: ['--json', 'info'], check: (r) => expect(doc(r)).toEqual({ output: 'Zephyr' }), udpOnly: true },
        {
          args: ['mpstat'],
          check: (r) =>
            deviceError(
              r,
              8,
              'MGMT_ERR_ENOTSUP (8): the command is not supported by the device (not enabled in its build); Zephyr has no memory-pool statistics handler (mpstat comes from Apache Mynewt), so no build option enables it',
            ),
        },
        { args: ['--json', 'mpstat'], check: (r) => jsonDeviceError(r, 8, 'MGMT_ERR_ENOTSUP'), udpOnly: true },
      ]);
      await reset(['reset'], (r) => ok(r, 'Done\n'));
      await reset(['--json', 'reset', '-f'], (r) => expect(doc(r)).toEqual({ ok: true, waited: true }));
    });

    it('datetime: get, set VALUE, now and set with the local zone offset', async () => {
      ok(await cli(['datetime', '2031-02-03T04:05:06']), 'Done\n');
      ok(await cli(['datetime']), /^Datetime\(RFC 3339 format\): 2031-02-03T04:0[5-9]:\d\d\n$/);
      await steps([
        {
          args: ['datetime', '2031-02-03', '04:05:06'],
          check: (r) =>
            expect(r).toEqual({ code: 64, stdout: '', stderr: 'Error: datetime takes one VALUE such as 2025-06-01T12:00:00, got "2031-02-03 04:05:06"\n' }),
          udpOnly: true,
        },
        {
          args: ['datetime', 'set', 'tomorrow'],
          check: (r) =>
            expect(r).toEqual({
              code: 64,
              stdout: '',
              stderr: 'Error: invalid datetime "tomorrow": expected YYYY-MM-DDTHH:MM:SS, optionally with .ffffff and Z or +HH:MM (or "now")\n',
            }),
          udpOnly: true,
        },
      ]);

      if (link !== 'udp') return;
      const now = await cli(['datetime', 'now'], { TZ: 'Asia/Kolkata' });
      ok(now, /^Setting time to \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+05:30\nDone\n$/);
      const sent = /to (\S+)\+05:30/.exec(now.stdout)![1]!;
      // Zephyr keeps local time and ignores the zone: the device now reads the Kolkata wall clock.
      const read = doc<{ datetime: string }>(await cli(['--json', 'datetime'])).datetime;
      const ahead = (Date.parse(`${read}Z`) - Date.parse(`${sent}Z`)) / 1000;
      expect(ahead).toBeGreaterThanOrEqual(0);
      expect(ahead).toBeLessThan(600);

      await steps([
        {
          args: ['--json', 'datetime', 'set'],
          env: { TZ: 'America/St_Johns' },
          check: (r) => expect(doc<{ datetime: string }>(r).datetime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d-0[23]:30$/),
          udpOnly: true,
        },
        {
          args: ['datetime', 'set', 'now'],
          env: { TZ: 'UTC' },
          check: (r) => ok(r, /^Setting time to \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\nDone\n$/),
          udpOnly: true,
        },
      ]);
    });

    it('image: list, slotinfo, upload (-w 3), erase, test, confirm, upgrade', async () => {
      const a = makeImage('1.1.0');
      const b = makeImage('1.2.0');
      const slot = (n: number) => ` image=0 slot=${n}\n`;
      await steps([
        {
          args: ['image', 'list'],
          check: (r) =>
            ok(
              r,
              /^Images:\n image=0 slot=0\n {4}version: \S+\n {4}bootable: true\n {4}flags: active confirmed\n {4}hash: [0-9a-f]{64}\nSplit status: N\/A \(0\)\n$/,
            ),
        },
        {
          args: ['--json', 'image', 'list'],
          check: (r) => expect(doc<{ images: ListedSlot[] }>(r).images).toMatchObject([{ slot: 0, active: true, confirmed: true }]),
        },
        {
          args: ['image', 'slotinfo'],
          check: (r) => ok(r, /^image=0 max_image_size=\d+\n {2}slot=0 size=262144\n {2}slot=1 size=262144 upload_image_id=0\n$/),
        },
        {
          args: ['--json', 'image', 'slotinfo'],
          check: (r) => expect(doc<{ images: { slots: unknown[] }[] }>(r).images[0]!.slots).toHaveLength(2),
          udpOnly: true,
        },
      ]);

      ok(await cli(['-w', '3', 'image', 'upload', a.file]), 'Done\n');
      if (link === 'udp') {
        ok(await cli(['image', 'erase']), 'Done\n');
        expect(doc(await cli(['--json', 'image', 'upload', a.file]))).toMatchObject({
          file: a.file,
          version: '1.1.0',
          hash: a.hash,
          bytes: readFileSync(a.file).length,
        });
      }

      const tested = await cli(['image', 'test', a.hash]);
      ok(tested, IMAGE_LIST);
      expect(tested.stdout).toContain(`${slot(1)}    version: 1.1.0\n    bootable: true\n    flags: pending\n    hash: ${a.hash}\n`);
      await steps([
        {
          args: ['--json', 'image', 'test', a.hash],
          check: (r) => expect(doc<{ images: ListedSlot[] }>(r).images[1]).toMatchObject({ slot: 1, hash: a.hash, pending: true }),
          udpOnly: true,
        },
        {
          args: ['image', 'erase'],
          check: (r) => deviceError(r, 9, 'IMG_MGMT_ERR_NO_FREE_SLOT (9): no free slot: an image is pending or in use (reset the device, or erase the slot)'),
        },
      ]);

      expect(await reset(['reset'], (r) => ok(r, 'Done\n'))).toBe('reset: image 0 test');
      const confirmed = await cli(['image', 'confirm']);
      ok(confirmed, IMAGE_LIST);
      expect(confirmed.stdout).toContain(`${slot(0)}    version: 1.1.0\n    bootable: true\n    flags: active confirmed\n    hash: ${a.hash}\n`);

      const up = await cli(['image', 'upgrade', b.file]);
      ok(
        up,
        new RegExp(
          `^\\[1/5\\] Uploading .*\\n\\[2/5\\] Marking image ${b.hash} for test\\n\\[3/5\\] Resetting the device\\n\\[4/5\\] Waiting .*\\n\\[5/5\\] New image 1\\.2\\.0 is running; confirming it\\nImages:\\n[\\s\\S]*Done\\n$`,
        ),
      );
      await steps([
        {
          args: ['--json', 'image', 'upgrade', b.file],
          check: (r) => expect(doc(r)).toMatchObject({ upgraded: false, version: '1.2.0', hash: b.hash, steps: [{ step: 'check' }] }),
          udpOnly: true,
        },
      ]);
    });

    it('fs: upload, download, stat, hash', async () => {
      const data = randomBytes(3000);
      const local = join(dir, 'data.bin');
      writeFileSync(local, data);
      const remote = '/lfs/data.bin';
      const back = join(dir, 'back.bin');
      const backJ = join(dir, 'back.json.bin');
      await steps([
        { args: ['fs', 'upload', local, remote], check: (r) => ok(r, /^(\d+\n)*3000\nDone\n$/) },
        {
          args: ['--json', 'fs', 'upload', local, `${remote}.2`],
          check: (r) => expect(doc(r)).toMatchObject({ remote: `${remote}.2`, bytes: 3000, offsets: expect.arrayContaining([3000]) }),
          udpOnly: true,
        },
      ]);
      await steps([
        { args: ['fs', 'download', remote, back], check: (r) => ok(r, /^0\n(\d+\n)*3000\nDone\n$/) },
        {
          args: ['--json', 'fs', 'download', `${remote}.2`, backJ],
          check: (r) => expect(doc(r)).toEqual({ remote: `${remote}.2`, local: backJ, bytes: 3000 }),
          udpOnly: true,
        },
        { args: ['fs', 'stat', remote], check: (r) => ok(r, `${remote}: 3000 bytes\n`) },
        { args: ['--json', 'fs', 'stat', remote], check: (r) => expect(doc(r)).toEqual({ name: remote, len: 3000 }), udpOnly: true },
        { args: ['fs', 'hash', remote], check: (r) => ok(r, `type: crc32\noff: 0\nlen: 3000\noutput: ${crc32(data).toString(16).padStart(8, '0')}\n`) },
        { args: ['fs', 'hashtypes'], check: (r) => ok(r, 'crc32: 4 bytes, number\nsha256: 32 bytes, byte string\n') },
        {
          args: ['--json', 'fs', 'hashtypes'],
          check: (r) => expect(doc(r)).toEqual({ types: { crc32: { format: 0, size: 4 }, sha256: { format: 1, size: 32 } } }),
          udpOnly: true,
        },
        { args: ['fs', 'close'], check: (r) => ok(r, 'Done\n') },
        {
          args: ['--json', 'fs', 'hash', remote, '-t', 'sha256'],
          check: (r) => expect(doc(r)).toMatchObject({ name: remote, type: 'sha256', len: 3000, output: createHash('sha256').update(data).digest('hex') }),
          udpOnly: true,
        },
      ]);
      expect(readFileSync(back).equals(data)).toBe(true);
      if (link === 'udp') expect(readFileSync(backJ).equals(data)).toBe(true);
    });

    it('shell exec, stat list, stat GROUP, enum', async () => {
      await steps([
        { args: ['shell', 'exec', 'kernel', 'version'], check: (r) => ok(r, 'status=0\n\r\nZephyr version 3.4.99\r\n') },
        {
          args: ['--json', 'shell', 'exec', 'kernel', 'version'],
          check: (r) => expect(doc(r)).toEqual({ status: 0, output: '\r\nZephyr version 3.4.99\r\n' }),
          udpOnly: true,
        },
        { args: ['stat', 'list'], check: (r) => ok(r, 'stat groups:\n    flash_sim_stats\n    my_stats\n    smp_svr_stats\n') },
        {
          args: ['--json', 'stat', 'list'],
          check: (r) => expect(doc(r)).toEqual({ stat_list: ['smp_svr_stats', 'my_stats', 'flash_sim_stats'] }),
          udpOnly: true,
        },
        { args: ['stat', 'my_stats'], check: (r) => ok(r, /^stat group: my_stats\n {0,9}\d+ my_stat_1\n {0,9}\d+ my_stat_2\n {0,9}\d+ my_stat_3\n$/) },
        {
          args: ['--json', 'stat', 'my_stats'],
          check: (r) =>
            expect(doc(r)).toMatchObject({
              name: 'my_stats',
              fields: { my_stat_1: expect.any(Number), my_stat_2: expect.any(Number), my_stat_3: expect.any(Number) },
            }),
          udpOnly: true,
        },
        {
          args: ['enum'],
          check: (r) =>
            ok(
              r,
              /^Groups:\n {4}0 os mgmt \(9 handlers\)\n {4}1 img mgmt \(7 handlers\)\n[\s\S]* {3}10 enum mgmt \(4 handlers\)\n {3}63 zephyr basic mgmt \(1 handlers\)\n$/,
            ),
        },
        {
          args: ['--json', 'enum'],
          check: (r) => expect(doc<{ groups: unknown[] }>(r).groups).toContainEqual({ group: 8, name: 'fs mgmt', handlers: 5 }),
          udpOnly: true,
        },
      ]);
    });

    it('storage erase removes the files and settings', async () => {
      const local = join(dir, 'gone.txt');
      writeFileSync(local, 'soon gone');
      ok(await cli(['fs', 'upload', local, '/lfs/gone.txt']), /Done\n$/);
      ok(await cli(['settings', 'write', 'cli/gone', 'x']), 'Done\n');
      ok(await cli(['storage', 'erase']), 'Done\n');
      await steps([
        { args: ['fs', 'stat', '/lfs/gone.txt'], check: (r) => expect(r.code).toBe(2) },
        { args: ['settings', 'read', 'cli/gone'], check: (r) => deviceError(r, 3, 'SETTINGS_MGMT_ERR_KEY_NOT_FOUND (3): no such setting') },
        { args: ['--json', 'storage', 'erase'], check: (r) => expect(doc(r)).toEqual({ ok: true }), udpOnly: true },
      ]);
    });

    it('settings: write, read, delete, commit, load, save', async () => {
      await steps([
        { args: ['settings', 'write', 'cli/text', 'hello'], check: (r) => ok(r, 'Done\n') },
        { args: ['--json', 'settings', 'write', '--hex', 'cli/raw', '00ff'], check: (r) => expect(doc(r)).toEqual({ ok: true }), udpOnly: true },
      ]);
      await steps([
        { args: ['settings', 'read', 'cli/text'], check: (r) => ok(r, 'Value: 68656c6c6f ("hello")\n') },
        {
          args: ['--json', 'settings', 'read', 'cli/text'],
          check: (r) => expect(doc(r)).toEqual({ name: 'cli/text', val: '68656c6c6f', text: 'hello' }),
          udpOnly: true,
        },
        { args: ['settings', 'read', 'cli/raw'], check: (r) => ok(r, 'Value: 00ff\n'), udpOnly: true },
      ]);
      await steps([
        { args: ['settings', 'delete', 'cli/text'], check: (r) => ok(r, 'Done\n') },
        { args: ['--json', 'settings', 'delete', 'cli/raw'], check: (r) => expect(doc(r)).toEqual({ ok: true }), udpOnly: true },
      ]);
      await steps([
        { args: ['settings', 'read', 'cli/text'], check: (r) => deviceError(r, 3, 'SETTINGS_MGMT_ERR_KEY_NOT_FOUND (3): no such setting') },
        ...['commit', 'load', 'save'].map((verb): Step => ({ args: ['settings', verb], check: (r) => ok(r, 'Done\n') })),
        // The three share one JSON path ({ ok: true }).
        { args: ['--json', 'settings', 'save'], check: (r) => expect(doc(r)).toEqual({ ok: true }), udpOnly: true },
      ]);
    });
  });
}
