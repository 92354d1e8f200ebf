/** Upgrades of a `mcumgr-sim` child through the real `mcumgr` executable over UDP, for the end-to-end tests. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { run as mcumgr, type ListedSlot } from '../cli/helpers.js';
import { startSim, type SimProcess } from './helpers.js';

/** A running mcumgr-sim, its connection options, and how many resets it has reported. */
export interface SimDevice {
  sim: SimProcess;
  conn: string[];
  resets: number;
}

export async function listImages(d: SimDevice): Promise<ListedSlot[]> {
  const r = await mcumgr([...d.conn, '--json', 'image', 'list']);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { images: ListedSlot[] }).images;
}

/** Uploads, marks for test, resets, waits for the sim's boot report; returns it and the slots after the boot. */
export async function upgradeOn(d: SimDevice, file: string): Promise<{ report: string; slots: ListedSlot[] }> {
  expect((await mcumgr([...d.conn, 'image', 'upload', file])).code).toBe(0);
  const uploaded = (await listImages(d)).find((i) => i.slot === 1)!;
  expect((await mcumgr([...d.conn, 'image', 'test', uploaded.hash])).code).toBe(0);
  expect((await mcumgr([...d.conn, 'reset'])).code).toBe(0);
  d.resets++;
  while ((d.sim.stderr().match(/^reset: .*$/gm) ?? []).length < d.resets) await new Promise((r) => d.sim.proc.stderr!.once('data', r));
  expect((await mcumgr([...d.conn, '-t', '1', '-r', '10', 'echo', 'back'])).stdout).toBe('back\n');
  return {
    report: d.sim
      .stderr()
      .match(/^reset: .*$/gm)!
      .at(-1)!,
    slots: await listImages(d),
  };
}

/** Starts mcumgr-sim over UDP with a config written to `dir`/sim.json (and `env` added to its environment). */
export async function startDevice(dir: string, config: object, env: Record<string, string> = {}): Promise<SimDevice> {
  writeFileSync(join(dir, 'sim.json'), JSON.stringify(config));
  const sim = await startSim(['--udp', '127.0.0.1:0', '--state', join(dir, 'state'), '--config', join(dir, 'sim.json')], env);
  return { sim, conn: ['--conntype', 'udp', '--connstring', sim.udp!], resets: 0 };
}
