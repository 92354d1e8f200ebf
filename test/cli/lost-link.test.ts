/**
 * A device that goes away in the middle of `mcumgr image upload` (a UDP device restarting, a USB CDC port that
 * disappears and comes back under the same name) does not end the upload: the CLI reopens the link within its
 * timeout budget and resumes; when the device stays away it says how to resume.
 */
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { watch, writeFileSync } from 'node:fs';
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

function mcumgr(args: string[]): Promise<RunResult> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
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
  // Over UDP nothing closes: the window's retransmissions carry the upload over the gap (ICMP refusals are ignored).
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
    expect(result.stderr).toMatch(/^Error: .*no response from the device.*; the device keeps what it received: run the same command again to resume the upload\n$/);
  }, 120_000);
});
