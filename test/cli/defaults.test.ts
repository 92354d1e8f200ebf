/** What `mcumgr` does without options: requests fill the device's buffer, and the window's cap per link. */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_WINDOW, defaultWindowCap as transferWindow, windowFor } from '../../src/client/params.js';
import { createImage } from '../../src/image/node.js';
import { run, Simulator, tempDir } from './helpers.js';

/** Sizes of the SMP requests `-l debug` reports. */
function sentSizes(stderr: string): number[] {
  return [...stderr.matchAll(/^Tx SMP packet \((\d+) bytes\)/gm)].map((m) => Number(m[1]));
}

describe('defaults of the mcumgr command', () => {
  let sim: Simulator;
  let image: string;
  let other: string;

  beforeAll(async () => {
    // As the recorded Zephyr 3.4 smp_svr: 1024-byte buffers, requests over 1020 bytes (+ length and CRC) dropped.
    sim = await Simulator.start({ serial: true, config: { bufSize: 1024, bufCount: 2, maxRequestSize: 1020 } });
    image = join(tempDir(), 'app.bin');
    writeFileSync(image, createImage(new Uint8Array(randomBytes(30_000)), { version: '1.0.1', padHeader: true }));
    other = join(tempDir(), 'other.bin');
    writeFileSync(other, createImage(new Uint8Array(randomBytes(30_000)), { version: '1.0.2', padHeader: true }));
  });
  afterAll(async () => {
    await sim?.stop();
  });

  it('serial without mtu: requests fill the buffer os params reports, less the frame length and CRC', async () => {
    const r = await run(['--conntype', 'serial', '--connstring', `dev=${sim.ptyPath}`, '-l', 'debug', '--json', 'image', 'upload', image]);
    expect(r.code, r.stderr).toBe(0);
    expect(Math.max(...sentSizes(r.stderr))).toBe(1020);
    // Serial without -w: no more chunks in flight than the device has buffers.
    expect((JSON.parse(r.stdout) as { window: number }).window).toBeLessThanOrEqual(2);
  });

  it('serial with -w: the window stays within the device buffer count (-w only caps)', async () => {
    const file = join(tempDir(), 'data.bin');
    writeFileSync(file, randomBytes(20_000));
    const r = await run(['--conntype', 'serial', '--connstring', `dev=${sim.ptyPath}`, '-w', '8', '--json', 'fs', 'upload', file, '/lfs/w8.bin']);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { window: number }).window).toBeLessThanOrEqual(2);
  });

  it('serial with mtu=512 keeps requests within it', async () => {
    const r = await run(['--conntype', 'serial', '--connstring', `dev=${sim.ptyPath},mtu=512`, '-l', 'debug', 'image', 'upload', other]);
    expect(r.code, r.stderr).toBe(0);
    expect(Math.max(...sentSizes(r.stderr))).toBe(512);
  });

  it('the window cap: -w when given, else 20, else on serial the device buffer count', () => {
    expect(DEFAULT_MAX_WINDOW).toBe(20);
    expect(transferWindow('udp', undefined)).toBe(20);
    expect(transferWindow('ble', undefined)).toBe(20);
    expect(transferWindow('serial', undefined)).toBeUndefined();
    expect(transferWindow('serial', 3)).toBe(3);
    expect(transferWindow('udp', 7)).toBe(7);
    // -w caps; on serial (withinBuffers) never above the device's buffer count, which is used when -w is larger.
    expect(windowFor(8, 2, true)).toEqual({ start: 2, max: 2 });
    expect(windowFor(1, 2, true)).toEqual({ start: 1, max: 1 });
    expect(windowFor(8, undefined, true)).toEqual({ start: 8, max: 8 });
    expect(windowFor(8, 2, false)).toEqual({ start: 2, max: 8 });
  });
});
