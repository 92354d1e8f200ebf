/**
 * Progress for scripts and logs: `--jsonl` events of every long command, a line every few seconds without a
 * terminal, a bar (not a line per chunk) on a terminal. MCUMGR_PROGRESS_INTERVAL_MS=0 writes every update, so
 * the assertions are about structure, never about time.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as nodePty from 'node-pty';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImage } from '../../src/device/firmware.js';
import { BIN, run, Simulator, tempDir } from './helpers.js';

const EVERY_UPDATE = { MCUMGR_PROGRESS_INTERVAL_MS: '0' };

type Event = { event: string; [key: string]: unknown };

/** Every stdout line is one JSON object; returns them. */
function events(stdout: string): Event[] {
  const lines = stdout.split('\n');
  expect(lines.pop()).toBe('');
  return lines.map((l) => JSON.parse(l) as Event);
}

/** start first, then progress with growing `done` up to `total` (rate and ETA numbers), the result last. */
function checkTransfer(list: Event[], operation: string, total: number): void {
  expect(list[0]).toMatchObject({ event: 'start', operation });
  expect(list[list.length - 1]!.event).toBe('result');
  const progress = list.filter((e) => e.event === 'progress');
  expect(progress.length).toBeGreaterThan(1);
  let last = -1;
  for (const p of progress) {
    expect(p).toMatchObject({ operation, total, rate: expect.any(Number) });
    expect(p.eta === null || typeof p.eta === 'number').toBe(true);
    expect(p.done as number).toBeGreaterThan(last);
    last = p.done as number;
  }
  expect(last).toBe(total);
}

function image(size: number, version: string): string {
  const file = join(tempDir(), `app-${version}.bin`);
  writeFileSync(file, buildImage({ version, body: new Uint8Array(randomBytes(size)) }));
  return file;
}

describe('--jsonl and progress without a terminal', () => {
  let sim: Simulator;
  let dir: string;

  beforeAll(async () => {
    sim = await Simulator.start({ serial: true, config: { fs: { capacity: 64 * 1024 } } });
    dir = tempDir();
  });
  afterAll(async () => {
    await sim?.stop();
  });

  it('image upload, fs upload and fs download: start, progress, result', async () => {
    const img = image(20_000, '1.0.5');
    const data = randomBytes(9000);
    writeFileSync(join(dir, 'data.bin'), data);
    const [up, fsUp] = await Promise.all([
      run([...sim.conn, '--jsonl', 'image', 'upload', img], EVERY_UPDATE),
      run([...sim.conn, '--jsonl', 'fs', 'upload', join(dir, 'data.bin'), '/lfs/data.bin'], EVERY_UPDATE),
    ]);
    expect(up).toMatchObject({ code: 0, stderr: '' });
    const upEvents = events(up.stdout);
    checkTransfer(upEvents, 'upload', readFileSync(img).length);
    expect(upEvents[0]).toMatchObject({ image: 0, bytes: readFileSync(img).length });
    expect(upEvents[upEvents.length - 1]!.result).toMatchObject({ file: img, version: '1.0.5', bytes: readFileSync(img).length });

    expect(fsUp).toMatchObject({ code: 0, stderr: '' });
    const fsUpEvents = events(fsUp.stdout);
    checkTransfer(fsUpEvents, 'upload', 9000);
    expect(fsUpEvents[fsUpEvents.length - 1]!.result).toMatchObject({ remote: '/lfs/data.bin', bytes: 9000 });

    const down = await run([...sim.conn, '--jsonl', 'fs', 'download', '/lfs/data.bin', join(dir, 'back.bin')], EVERY_UPDATE);
    expect(down).toMatchObject({ code: 0, stderr: '' });
    checkTransfer(events(down.stdout), 'download', 9000);
    expect(readFileSync(join(dir, 'back.bin')).equals(data)).toBe(true);
  });

  it('any other command gives its result as one line; --json with --jsonl is a usage error', async () => {
    expect(await run([...sim.conn, '--jsonl', 'echo', 'hi'])).toEqual({ code: 0, stderr: '', stdout: '{"event":"result","result":{"r":"hi"}}\n' });
    const both = await run([...sim.conn, '--json', '--jsonl', 'echo', 'hi']);
    expect(both).toMatchObject({ code: 64, stdout: '' });
    expect(both.stderr).toContain('--json and --jsonl exclude each other');
  });

  it('image upgrade: its steps, the upload progress, and the result', async () => {
    const img = image(8000, '1.0.6');
    const r = await run([...sim.conn, '--jsonl', 'image', 'upgrade', img], EVERY_UPDATE);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const list = events(r.stdout);
    expect(list.filter((e) => e.event === 'step').map((e) => e.step)).toEqual(['upload', 'test', 'reset', 'wait', 'confirm']);
    checkTransfer(list.slice(list.findIndex((e) => e.event === 'start')), 'upload', readFileSync(img).length);
    expect(list[list.length - 1]).toMatchObject({ event: 'result', result: { upgraded: true, version: '1.0.6' } });
  });

  it('a lossy link shows retry events; an error is the last event', async () => {
    const lossy = await Simulator.start({ link: 'udp-20ms,loss=0.2', config: { fs: { capacity: 16 * 1024 } } });
    try {
      writeFileSync(join(dir, 'big.bin'), randomBytes(40_000));
      const up = await run([...lossy.conn, '--jsonl', '-t', '1', 'image', 'upload', image(30_000, '1.0.7')], EVERY_UPDATE);
      expect(up.code, up.stdout).toBe(0);
      const list = events(up.stdout);
      const retries = list.filter((e) => e.event === 'retry');
      expect(retries.length).toBeGreaterThan(0);
      for (const e of retries)
        expect(e).toMatchObject({ operation: 'upload', offset: expect.any(Number), reason: expect.stringMatching(/^(timeout|missing)$/) });
      expect(list[list.length - 1]!.event).toBe('result');

      // The file does not fit the device's 16 KiB: FS_MGMT_ERR_FILE_FULL after a few chunks.
      const full = await run([...lossy.conn, '--jsonl', '-t', '1', 'fs', 'upload', join(dir, 'big.bin'), '/lfs/big.bin'], EVERY_UPDATE);
      expect(full.code).toBe(2);
      const fullEvents = events(full.stdout);
      expect(fullEvents[0]).toMatchObject({ event: 'start', operation: 'upload' });
      expect(fullEvents[fullEvents.length - 1]).toMatchObject({ event: 'error', error: { kind: 'device', group: 8 } });
      // In human form the error says what became of the partial file.
      const human = await run([...lossy.conn, '-t', '1', 'fs', 'upload', join(dir, 'big.bin'), '/lfs/big2.bin']);
      expect(human.code).toBe(2);
      expect(human.stderr).toContain('The device may keep a partial /lfs/big2.bin. Its fs group has no delete command');
    } finally {
      await lossy.stop();
    }
  });

  it('without a terminal, human output gets progress lines on stderr; the result stays on stdout', async () => {
    const img = image(20_000, '1.0.8');
    const r = await run([...sim.serialConn.slice(0, 3), `dev=${sim.ptyPath}`, 'image', 'upload', img], EVERY_UPDATE);
    expect(r).toMatchObject({ code: 0, stdout: 'Done\n' });
    const lines = r.stderr.split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(1);
    for (const l of lines) expect(l).toMatch(/^upload: \d+(\.\d\d)? (B|KiB) \/ \d+\.\d\d KiB +\d+\.\d\d% \d+(\.\d\d)? (B|KiB)\/s (--m--s|\d\dm\d\ds)$/);
    expect(lines[lines.length - 1]).toContain('100.00%');
    // Without the interval setting a short upload leaves the log alone.
    expect(await run([...sim.conn, 'image', 'upload', image(20_000, '1.0.9')])).toMatchObject({ code: 0, stdout: 'Done\n', stderr: '' });
  });
});

describe('fs upload on a terminal', () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await Simulator.start();
  });
  afterAll(async () => {
    await sim?.stop();
  });

  it('draws the bar, and prints no line per chunk', async () => {
    const local = join(tempDir(), 'data.bin');
    writeFileSync(local, randomBytes(20_000));
    const term = nodePty.spawn(process.execPath, [BIN, ...sim.conn, 'fs', 'upload', local, '/lfs/tty.bin'], {
      cols: 120,
      rows: 30,
      env: { ...process.env, ...EVERY_UPDATE } as Record<string, string>,
    });
    let out = '';
    term.onData((d) => (out += d));
    const code = await new Promise<number>((resolve) => term.onExit((e) => resolve(e.exitCode)));
    expect(code, out).toBe(0);
    expect(out).toMatch(/\rupload \[#+-*\] /);
    expect(out).toMatch(/Done\r?\n$/);
    // A line holding only an offset is what a script reading stdout gets; a terminal does not.
    expect(out.split(/\r?\n/).filter((l) => /^\d+$/.test(l))).toEqual([]);
  });
});
