import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SmpClient } from '../../src/client/client.js';
import { VirtualDevice, type CreateDeviceOptions } from '../../src/device/device.js';
import { image, os } from '../../src/groups/index.js';
import { createMemoryPair } from '../../src/transport/memory.js';

export const ROOT = join(import.meta.dirname, '../..');

export function tempDir(prefix = 'mcumgr-sim-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function makeDevice(opts: Partial<CreateDeviceOptions> = {}): VirtualDevice {
  return VirtualDevice.createSync({
    stateDir: opts.stateDir ?? tempDir(),
    config: { resetDelayMs: 20, bootTimeMs: 20, ...opts.config },
    seedImage: opts.seedImage,
  });
}

export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
export const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));

/** `image list` as `[image:]slot:version:flags` strings (the image number only when the device reports it). */
export async function versions(client: SmpClient): Promise<string[]> {
  return (await client.call(image.state, {})).images.map((i) => {
    const flags = ['active', 'confirmed', 'pending', 'permanent'].filter((k) => (i as Record<string, unknown>)[k]).join(',');
    return `${i.image !== undefined ? `${i.image}:` : ''}${i.slot}:${i.version}:${flags}`;
  });
}

/** Sends `os reset` and waits until the in-process device has rebooted and answers again. */
export async function resetAndWait(client: SmpClient, dev: VirtualDevice): Promise<void> {
  const done = new Promise<void>((r) => dev.onReset(() => r()));
  await client.call(os.reset, {});
  await done;
}

export interface SimProcess {
  proc: ChildProcess;
  /** `HOST:PORT` when started with --udp. */
  udp?: string;
  /** `/dev/pts/N` when started with --serial pty. */
  pty?: string;
  /** What the sim wrote on stderr so far (`reset: image 0 test` lines). */
  stderr(): string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts `mcumgr-sim` (dist/device/sim.js) and waits for the addresses it prints. */
export async function startSim(args: string[], env: Record<string, string> = {}): Promise<SimProcess> {
  const sim = join(ROOT, 'dist/device/sim.js');
  const proc = spawn(process.execPath, [sim, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const want = [args.includes('--udp') && 'udp', args.includes('--serial') && 'pty'].filter(Boolean) as string[];
  const found: Record<string, string> = {};
  await new Promise<void>((resolve, reject) => {
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      for (const m of out.matchAll(/^(udp|pty): (\S+)$/gm)) found[m[1]!] = m[2]!;
      if (want.every((k) => found[k])) resolve();
    });
    proc.on('exit', (code) => reject(new Error(`mcumgr-sim exited ${code}: ${out}${err}`)));
  });
  const exited = new Promise<void>((r) => proc.on('exit', () => r()));
  return {
    proc,
    udp: found.udp,
    pty: found.pty,
    stderr: () => err,
    stop: async (signal = 'SIGTERM') => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      await exited;
    },
  };
}

/** A client and an in-process device joined by an in-memory transport. */
export interface MemoryLink {
  client: SmpClient;
  dev: VirtualDevice;
  close(): Promise<void>;
}

export function memoryLink(opts: Partial<CreateDeviceOptions> = {}): MemoryLink {
  const dev = makeDevice(opts);
  const [a, b] = createMemoryPair(2048);
  dev.server.attach(b);
  return {
    client: new SmpClient(a, { timeoutMs: 3000 }),
    dev,
    close: async () => {
      await a.close();
      await dev.close();
    },
  };
}
