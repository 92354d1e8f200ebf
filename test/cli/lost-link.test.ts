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

describe('mcumgr image upload across a lost link', () => {
  // Over UDP nothing closes: the window's retransmissions carry the upload over the gap (ICMP refusals are ignored).
  it('UDP: the device is killed mid-upload and restarted on the same port; the upload resumes and completes', async () => {
    const state = tempDir();
    const file = join(state, '..', `${state.split('/').pop()}.bin`);
    writeFileSync(file, img);
    const port = await freePort();
    const simArgs = ['--udp', `127.0.0.1:${port}`, '--state', state, '--link', 'udp-20ms'];
    const first = await start(simArgs);
    const started = uploadStarted(state);
    const upload = mcumgr(['--conntype', 'udp', '--connstring', `127.0.0.1:${port}`, '-t', '8', 'image', 'upload', file]);
    await started;
    await first.stop('SIGKILL');
    await start(simArgs);
    const r = await upload;
    expect(r.code, r.stderr).toBe(0);
    const list = await mcumgr(['--conntype', 'udp', '--connstring', `127.0.0.1:${port}`, '--json', 'image', 'list']);
    expect((JSON.parse(list.stdout) as { images: { slot: number; version: string }[] }).images[1]).toMatchObject({ slot: 1, version: '3.0.0' });
  }, 120_000);

  it('serial: the port disappears and comes back under the same name (as USB CDC does); the upload resumes', async () => {
    const state = tempDir();
    const dev = join(tempDir(), 'ttyACM0');
    const file = join(state, '..', `${state.split('/').pop()}.bin`);
    writeFileSync(file, img);
    const simArgs = ['--serial', dev, '--state', state];
    const first = await start(simArgs);
    const started = uploadStarted(state);
    const conn = ['--conntype', 'serial', '--connstring', `dev=${dev},baud=115200,mtu=512`, '-t', '30'];
    const upload = mcumgr([...conn, 'image', 'upload', file]);
    await started;
    await first.stop('SIGKILL');
    await start(simArgs);
    const r = await upload;
    expect(r.stderr).toContain('The link was lost');
    expect(r.code, r.stderr).toBe(0);
    const list = await mcumgr([...conn, '--json', 'image', 'list']);
    expect((JSON.parse(list.stdout) as { images: { slot: number; version: string }[] }).images[1]).toMatchObject({ slot: 1, version: '3.0.0' });
  }, 120_000);

  it('a device that stays away: a clear message within the budget, exit 3, and how to resume', async () => {
    const state = tempDir();
    const dev = join(tempDir(), 'ttyACM0');
    const file = join(state, '..', `${state.split('/').pop()}.bin`);
    writeFileSync(file, img);
    const first = await start(['--serial', dev, '--state', state]);
    const started = uploadStarted(state);
    const upload = mcumgr(['--conntype', 'serial', '--connstring', `dev=${dev},baud=115200,mtu=512`, '-t', '2', 'image', 'upload', file]);
    await started;
    await first.stop('SIGKILL');
    const r = await upload;
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/the link to the device was lost .* run the same command again to resume the upload/);
  }, 120_000);

  it('UDP: a device that stays away ends in a timeout that says how to resume', async () => {
    const state = tempDir();
    const file = join(state, '..', `${state.split('/').pop()}.bin`);
    writeFileSync(file, img);
    const port = await freePort();
    const first = await start(['--udp', `127.0.0.1:${port}`, '--state', state, '--link', 'udp-20ms']);
    const started = uploadStarted(state);
    const upload = mcumgr(['--conntype', 'udp', '--connstring', `127.0.0.1:${port}`, '-t', '1', 'image', 'upload', file]);
    await started;
    await first.stop('SIGKILL');
    const r = await upload;
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^Error: .*no response from the device.*; the device keeps what it received: run the same command again to resume the upload\n$/);
  }, 120_000);
});
