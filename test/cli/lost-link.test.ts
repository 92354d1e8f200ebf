/**
 * A device that goes away in the middle of `mcumgr image upload`, `fs upload` or `fs download` (a UDP device
 * restarting, a USB CDC port that disappears and comes back under the same name) does not end the transfer: the CLI
 * reopens the link within its timeout budget and goes on; when the device stays away it says what a new run does.
 */
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { readFileSync, watch, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildImage } from '../../src/device/firmware.js';
import { startSim, type SimProcess } from '../device/helpers.js';
import { BIN, tempDir, type RunResult } from './helpers.js';

const sims: SimProcess[] = [];
afterEach(async () => {
  for (const s of sims.splice(0)) await s.stop();
});

const img = buildImage({ version: '3.0.0', body: new Uint8Array(120_000).map((_, i) => (i * 17 + (i >> 9)) & 0xff) });

/** Runs `mcumgr`; `onStdout` sees its output as it comes (for --jsonl progress). */
function mcumgr(args: string[], onStdout: (soFar: string) => void = () => undefined): Promise<RunResult> {
  return new Promise((resolve) => {
    const env = { ...process.env, MCUMGR_PROGRESS_INTERVAL_MS: '0' };
    const proc = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      onStdout(stdout);
    });
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    proc.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Resolves when the device starts keeping an upload (its upload record appears in the state directory). */
function uploadStarted(state: string): Promise<void> {
  return new Promise((resolve) => {
    const watcher = watch(state, (_event, name) => {
      if (name === 'upload.json') {
        watcher.close();
        resolve();
      }
    });
  });
}

async function freePort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function start(args: string[]): Promise<SimProcess> {
  const sim = await startSim(args);
  sims.push(sim);
  return sim;
}

/** A device over UDP on a fixed port, or behind a /dev/ttyACM0-style link name, with its state directory. */
async function device(kind: 'udp' | 'serial') {
  const state = tempDir();
  const file = join(state, '..', `${state.split('/').pop()}.bin`);
  writeFileSync(file, img);
  const where = kind === 'udp' ? `127.0.0.1:${await freePort()}` : join(tempDir(), 'ttyACM0');
  const simArgs = kind === 'udp' ? ['--udp', where, '--state', state, '--link', 'udp-20ms'] : ['--serial', where, '--state', state];
  const conn = kind === 'udp' ? ['--conntype', 'udp', '--connstring', where] : ['--conntype', 'serial', '--connstring', `dev=${where},baud=115200,mtu=512`];
  return { state, file, simArgs, conn };
}

/** Starts `mcumgr image upload` and kills the device (SIGKILL) once it has started keeping the upload; `restart` brings it back. */
async function uploadThroughKill(kind: 'udp' | 'serial', timeoutSec: number, restart: boolean) {
  const d = await device(kind);
  const first = await start(d.simArgs);
  const started = uploadStarted(d.state);
  const upload = mcumgr([...d.conn, '-t', String(timeoutSec), 'image', 'upload', d.file]);
  await started;
  await first.stop('SIGKILL');
  if (restart) await start(d.simArgs);
  return { result: await upload, conn: d.conn };
}

async function secondSlot(conn: string[]) {
  const list = await mcumgr([...conn, '--json', 'image', 'list']);
  return (JSON.parse(list.stdout) as { images: { slot: number; version: string }[] }).images[1];
}

describe('mcumgr image upload across a lost link', () => {
  // Over UDP nothing closes: the window's retransmissions, and the transport's own while the device refuses, carry the upload over the gap.
  it('UDP: the device is killed mid-upload and restarted on the same port; the upload resumes and completes', async () => {
    const { result, conn } = await uploadThroughKill('udp', 8, true);
    expect(result.code, result.stderr).toBe(0);
    expect(await secondSlot(conn)).toMatchObject({ slot: 1, version: '3.0.0' });
  }, 120_000);

  it('serial: the port disappears and comes back under the same name (as USB CDC does); the upload resumes', async () => {
    const { result, conn } = await uploadThroughKill('serial', 30, true);
    expect(result.stderr).toContain('The link was lost');
    expect(result.code, result.stderr).toBe(0);
    expect(await secondSlot(conn)).toMatchObject({ slot: 1, version: '3.0.0' });
  }, 120_000);

  it('serial: a device that stays away ends with a clear message within the budget, exit 3, and how to resume', async () => {
    const { result } = await uploadThroughKill('serial', 2, false);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/the link to the device was lost .* run the same command again to resume the upload/);
  }, 120_000);

  it('UDP: a device that stays away ends in a timeout that says how to resume', async () => {
    const { result } = await uploadThroughKill('udp', 1, false);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(
      /^Error: .*no response from the device.*; the device keeps what it received: run the same command again to resume the upload\n$/,
    );
  }, 120_000);
});

/** Resolves once a --jsonl progress event of the running command reports data moved. */
function progressed(): { seen: Promise<void>; watch: (soFar: string) => void } {
  let resolve!: () => void;
  const seen = new Promise<void>((r) => (resolve = r));
  return { seen, watch: (soFar) => /"event":"progress"[^\n]*"done":[1-9]/.test(soFar) && resolve() };
}

function events(stdout: string): Record<string, unknown>[] {
  return stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

function lastEvent(stdout: string): Record<string, unknown> | undefined {
  return events(stdout).at(-1);
}

/** The transfer reconnected and went on from where it was, not from the start. */
function expectResumedAfterReconnect(stdout: string): void {
  const all = events(stdout);
  const reconnect = all.findIndex((e) => e.event === 'reconnect');
  expect(reconnect, stdout).toBeGreaterThan(0);
  const next = all.slice(reconnect).find((e) => e.event === 'progress');
  expect(next?.done, stdout).toBeGreaterThan(0);
  expect(all.at(-1)?.event).toBe('result');
}

const file = new Uint8Array(150_000).map((_, i) => (i * 31 + (i >> 7)) & 0xff);

/** Runs `transfer` (a --jsonl fs command) and kills the device once data moved; `restart` brings it back. */
async function fsThroughKill(kind: 'udp' | 'serial', timeoutSec: number, restart: boolean, transfer: string[], before: string[][] = []) {
  const d = await device(kind);
  const first = await start(d.simArgs);
  for (const args of before) expect((await mcumgr([...d.conn, ...args])).code).toBe(0);
  const p = progressed();
  const result = mcumgr([...d.conn, '-t', String(timeoutSec), '--jsonl', ...transfer], p.watch);
  await p.seen;
  await first.stop('SIGKILL');
  if (restart) await start(d.simArgs);
  return { result: await result, conn: d.conn };
}

describe('mcumgr fs upload and fs download across a lost link', () => {
  for (const kind of ['udp', 'serial'] as const) {
    it(`${kind}: the device is killed mid-upload and restarted; the upload goes on and the file is whole`, async () => {
      const local = join(tempDir(), 'up.bin');
      writeFileSync(local, file);
      const { result, conn } = await fsThroughKill(kind, kind === 'udp' ? 8 : 30, true, ['fs', 'upload', local, '/lfs/up.bin']);
      expect(result.code, result.stderr).toBe(0);
      if (kind === 'serial') expectResumedAfterReconnect(result.stdout);
      const back = join(tempDir(), 'back.bin');
      expect((await mcumgr([...conn, 'fs', 'download', '/lfs/up.bin', back])).code).toBe(0);
      expect(new Uint8Array(readFileSync(back))).toEqual(file);
    }, 120_000);

    it(`${kind}: the device is killed mid-download and restarted; the download goes on and the file is whole`, async () => {
      const local = join(tempDir(), 'src.bin');
      writeFileSync(local, file);
      const out = join(tempDir(), 'down.bin');
      const { result } = await fsThroughKill(
        kind,
        kind === 'udp' ? 8 : 30,
        true,
        ['fs', 'download', '/lfs/down.bin', out],
        [['fs', 'upload', local, '/lfs/down.bin']],
      );
      expect(result.code, result.stderr).toBe(0);
      if (kind === 'serial') expectResumedAfterReconnect(result.stdout);
      expect(new Uint8Array(readFileSync(out))).toEqual(file);
    }, 120_000);
  }

  it('serial: a device that stays away ends an fs upload within the budget, exit 3, saying a new run starts the file over', async () => {
    const local = join(tempDir(), 'up.bin');
    writeFileSync(local, file);
    const { result } = await fsThroughKill('serial', 2, false, ['fs', 'upload', local, '/lfs/up.bin']);
    expect(result.code).toBe(3);
    expect(lastEvent(result.stdout)).toMatchObject({ event: 'error' });
    expect(result.stdout).toMatch(/the link to the device was lost .*running the same command again uploads the file again from the start/);
  }, 120_000);

  it('UDP: a device that stays away ends an fs download in a timeout (exit 3) that says a new run starts over', async () => {
    const local = join(tempDir(), 'src.bin');
    writeFileSync(local, file);
    const out = join(tempDir(), 'down.bin');
    const { result } = await fsThroughKill('udp', 1, false, ['fs', 'download', '/lfs/down.bin', out], [['fs', 'upload', local, '/lfs/down.bin']]);
    expect(result.code).toBe(3);
    expect(lastEvent(result.stdout)).toMatchObject({ event: 'error' });
    expect(result.stdout).toMatch(/running the same command again downloads the file again from the start/);
  }, 120_000);
});
