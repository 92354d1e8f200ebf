/**
 * Start-up cost of a one-shot command: wall time of `mcumgr echo` over UDP against `mcumgr-sim` (started once),
 * next to bare `node -e ''` on the same machine in the same run, alternating so that both see the same load.
 * The figure is the median over the rounds; the ratio is what a script calling the tool many times pays.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const ROOT = join(fileURLToPath(import.meta.url), '../../..');
const ROUNDS = 31;

function wallMs(args: string[]): Promise<number> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(performance.now() - start) : reject(new Error(`node ${args.join(' ')} exited with ${code}`))));
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function startSim(): Promise<{ address: string; stop(): void }> {
  const sim = spawn(process.execPath, [join(ROOT, 'dist/bin/mcumgr-sim.cjs'), '--udp', '127.0.0.1:0', '--state', join(ROOT, '.tmp/bench-startup-sim')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const address = await new Promise<string>((resolve, reject) => {
    let out = '';
    sim.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^udp: (\S+)$/m.exec(out);
      if (m) resolve(m[1]!);
    });
    sim.on('exit', (code) => reject(new Error(`mcumgr-sim exited with ${code}`)));
  });
  return { address, stop: () => sim.kill() };
}

export interface StartupFigures {
  /** Medians. */
  nodeMs: number;
  echoMs: number;
  ratio: number;
  /** Fastest runs: on a busy machine the closest to the cost itself. */
  nodeMinMs: number;
  echoMinMs: number;
}

export async function measureStartup(): Promise<StartupFigures> {
  const sim = await startSim();
  try {
    const echo = [join(ROOT, 'dist/bin/mcumgr.cjs'), '--conntype', 'udp', '--connstring', sim.address, 'echo', 'hello'];
    const bare = ['-e', ''];
    // One of each first, unmeasured: the file cache, as on a machine that ran the tool before.
    await wallMs(bare);
    await wallMs(echo);
    const node: number[] = [];
    const mcumgr: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const order = i % 2 === 0 ? [bare, echo] : [echo, bare];
      for (const args of order) (args === bare ? node : mcumgr).push(await wallMs(args));
    }
    const nodeMs = median(node);
    const echoMs = median(mcumgr);
    return { nodeMs, echoMs, ratio: echoMs / nodeMs, nodeMinMs: Math.min(...node), echoMinMs: Math.min(...mcumgr) };
  } finally {
    sim.stop();
  }
}

export function reportStartup(f: StartupFigures): void {
  const ms = (v: number): string => `${v.toFixed(0).padStart(5)} ms`;
  console.log(`start-up, ${ROUNDS} alternating runs of each       median    fastest`);
  console.log(`  node -e ''                          ${ms(f.nodeMs)}   ${ms(f.nodeMinMs)}`);
  console.log(`  mcumgr echo over UDP to mcumgr-sim  ${ms(f.echoMs)}   ${ms(f.echoMinMs)}`);
  console.log(`  ratio                               ${f.ratio.toFixed(2).padStart(5)} ×   ${(f.echoMinMs / f.nodeMinMs).toFixed(2).padStart(5)} ×\n`);
}
