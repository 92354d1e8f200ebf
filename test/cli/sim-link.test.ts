/** `mcumgr-sim --link`: the virtual device behind an emulated link, driven by the real CLI over UDP and its pty. */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseLinkSpec } from '../../src/device/link-emulation.js';
import { buildImage } from '../../src/device/firmware.js';
import { run, SIM, Simulator, tempDir } from './helpers.js';

const sims: Simulator[] = [];
afterEach(async () => {
  await Promise.all(sims.splice(0).map((s) => s.stop()));
});

async function start(options: Parameters<typeof Simulator.start>[0]): Promise<Simulator> {
  const sim = await Simulator.start(options);
  sims.push(sim);
  return sim;
}

function imageFile(size: number): string {
  const file = join(tempDir(), 'app.signed.bin');
  writeFileSync(file, buildImage({ version: '2.1.0', body: new Uint8Array(size).map((_, i) => (i * 7 + (i >> 9)) & 0xff) }));
  return file;
}

describe('parseLinkSpec', () => {
  it('starts from a named profile and overrides what the settings name', () => {
    const { profile, flash } = parseLinkSpec('uart-115200,baud=9600,loss=0.05,jitter=3,erase=progressive,flash=500000');
    expect(profile).toMatchObject({ name: 'uart-115200', bytesPerSecond: 960, loss: 0.05, jitterMs: 3, latencyMs: 1 });
    expect(flash).toMatchObject({ erase: 'progressive', writeBytesPerSecond: 500_000, sectorEraseMs: 10 });
  });

  it.each([
    ['uart-9', /unknown link profile "uart-9" \(choose uart-115200, uart-1M, uart-115200-raw, uart-1M-raw, udp-20ms\)/],
    ['udp-20ms,speed=3', /bad link setting "speed=3"/],
    ['udp-20ms,loss=2', /loss=2: a probability from 0 to 1/],
    ['udp-20ms,baud=0', /baud=0: must be above 0/],
    ['udp-20ms,erase=sometimes', /at-start or progressive/],
  ])('refuses %s with a message that names the choices', (spec, message) => {
    expect(() => parseLinkSpec(spec)).toThrow(message);
  });

  it('mcumgr-sim exits 1 with that message', () => {
    const r = spawnSync(process.execPath, [SIM, '--link', 'udp-20ms,loss=2'], { encoding: 'utf8', timeout: 15_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('mcumgr-sim: loss=2: a probability from 0 to 1\n');
  });
});

describe('mcumgr-sim --link', () => {
  it('over UDP with loss, corruption, duplication and reordering: an upload completes and the device holds the image', async () => {
    const sim = await start({ link: 'udp-20ms,loss=0.05,corrupt=0.02,duplicate=0.05,reorder=0.05' });
    const file = imageFile(60_000);
    const up = await run([...sim.conn, '-t', '2', '-w', '8', '--json', 'image', 'upload', file], {}, 60_000);
    expect(up.code, up.stderr).toBe(0);
    const list = await run([...sim.conn, '-t', '2', '-r', '5', '--json', 'image', 'list']);
    expect(list.code, list.stderr).toBe(0);
    const slots = (JSON.parse(list.stdout) as { images: { slot: number; version: string }[] }).images;
    expect(slots.find((s) => s.slot === 1)?.version).toBe('2.1.0');
  }, 90_000);

  it('over the pty at 9600 baud: answers take at least their bytes on the wire (a lower bound, never a deadline)', async () => {
    const sim = await start({ serial: true, link: 'uart-115200,baud=9600' });
    const text = 'x'.repeat(300);
    const started = performance.now();
    const r = await run([...sim.serialConn, 'echo', text]);
    const seconds = (performance.now() - started) / 1000;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${text}\n`);
    // Request and answer each carry the 300 characters, base64-framed (4/3 and more) at 960 bytes/s.
    expect(seconds).toBeGreaterThan((2 * 300 * 4) / 3 / 960);
  }, 60_000);

  it('a link that loses everything: the device never answers and the CLI says so', async () => {
    const sim = await start({ link: 'udp-20ms,loss=1' });
    const r = await run([...sim.conn, '-t', '0.5', 'echo', 'hi']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/no response from the device/);
  }, 30_000);
});
