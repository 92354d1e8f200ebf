/**
 * `npm run bench`: uploads a 256 KiB image and downloads a 256 KiB file over emulated links, with our
 * tuned settings and two baselines measured in the same run (plan() says what runs side by side).
 */
import { fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fileDownload } from '../client/files.js';
import { imageUpload } from '../client/upload.js';
import { buildImage } from '../device/firmware.js';
import { SMP_HEADER_SIZE } from '../protocol/header.js';
import { encodeCbor } from '../protocol/cbor.js';
import { BLE_LINK_PROFILES } from '../device/link/ble-link.js';
import { LINK_PROFILES } from '../device/link/link.js';
import { TYPICAL_FLASH } from '../device/link/device-endpoint.js';
import { defaultWindowCap } from '../client/params.js';
import { transferLimit } from './limits.js';
import { measureStartup, reportStartup } from './startup.js';
import { connect, deviceBuffers, type BenchProfile, type Impairment } from './setup.js';

const SIZE = 256 * 1024;
const LOSSY: Impairment = { loss: 0.05, corrupt: 0.01 };
/**
 * Our window limits (`mcumgr -w N`), sized for the longest round trip of the profiles (UDP, about 26 ms loaded):
 * an upload needs the chunks the device programs in one round trip (26 ms over 2 ms of flash per chunk: 13) plus
 * one waiting in the device, more only overflows its 4 buffers; a download needs the answers the link carries in
 * one round trip (about 28 ms with queueing and jitter over 1.7 ms per 2 KiB answer: 17) and a few more, since
 * a read holds a device buffer only while the device reads its flash.
 */
const TUNED_WINDOW = { upload: 14, download: 20 };

const PROFILES: BenchProfile[] = [
  ...Object.values(LINK_PROFILES).map((link) => ({ kind: 'wire' as const, link })),
  ...Object.values(BLE_LINK_PROFILES).map((link) => ({ kind: 'ble' as const, link })),
];

/** Largest request the Go tool sends on each transport (its "MtuOut"): serial mtu=512 → 371, BLE ATT−3, UDP 2027. */
function goMtuOut(p: BenchProfile): number {
  if (p.kind === 'ble') return p.link.attMtu - 3;
  return p.link.name.startsWith('uart') ? 371 : 2027;
}

/** What `mcumgr` uses without -w on this link (serial: the device's buffer count). */
function cliWindow(p: BenchProfile): number | undefined {
  return defaultWindowCap(p.kind === 'ble' ? 'ble' : p.link.name.startsWith('uart') ? 'serial' : 'udp', undefined);
}

interface Job {
  label: string;
  op: 'upload' | 'download';
  window?: number | ((p: BenchProfile) => number | undefined);
  chunkSize?: number;
  maxPacketSize?: (p: BenchProfile) => number;
  bad?: Impairment;
}

const JOBS: Job[] = [
  { label: 'mcumgr, no options', op: 'upload', window: cliWindow },
  { label: 'mcumgr-ts (tuned)', op: 'upload', window: TUNED_WINDOW.upload },
  { label: 'stop-and-wait, 128 B', op: 'upload', window: 1, chunkSize: 128 },
  { label: 'Go strategy (w=5, MTU chunks)', op: 'upload', window: 5, maxPacketSize: goMtuOut },
  { label: 'stop-and-wait, full chunks', op: 'upload', window: 1 },
  { label: 'tuned, 5% loss + 1% corrupt', op: 'upload', window: TUNED_WINDOW.upload, bad: LOSSY },
  { label: 'mcumgr, no options', op: 'download', window: cliWindow },
  { label: 'mcumgr-ts (tuned)', op: 'download', window: TUNED_WINDOW.download },
  { label: 'stop-and-wait', op: 'download', window: 1 },
  { label: 'tuned, 5% loss + 1% corrupt', op: 'download', window: TUNED_WINDOW.download, bad: LOSSY },
];

interface Row {
  label: string;
  op: 'upload' | 'download';
  lossy: boolean;
  bytesPerSecond: number;
  seconds: number;
  chunk: number;
  window: number;
}

async function runJob(p: BenchProfile, job: Job, seed: number): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), 'mcumgr-bench-'));
  const file = new Uint8Array(SIZE).map((_, i) => (i * 7) & 0xff);
  mkdirSync(join(dir, 'fs', 'lfs'), { recursive: true });
  writeFileSync(join(dir, 'fs', 'lfs', 'big.bin'), file);
  const s = await connect(p, dir, seed, job.bad);
  try {
    const start = performance.now();
    const jobWindow = typeof job.window === 'function' ? job.window(p) : job.window;
    const common = { window: jobWindow, timeoutMs: 2000, retries: 50 };
    let chunk: number;
    let window: number;
    if (job.op === 'upload') {
      const body = new Uint8Array(SIZE - 0x200 - 40).map((_, i) => (i * 31) & 0xff);
      const image = buildImage({ version: '2.0.0', body });
      const r = await imageUpload(s.client, image, { ...common, chunkSize: job.chunkSize, maxPacketSize: job.maxPacketSize?.(p) });
      if (r.match !== true) throw new Error(`${job.label}: the device does not confirm the image hash`);
      chunk = r.chunkSize;
      window = r.window;
    } else {
      let first = 0;
      const data = await fileDownload(s.client, '/lfs/big.bin', { ...common, onProgress: (q) => (first ||= q.done) });
      if (Buffer.compare(Buffer.from(data), Buffer.from(file)) !== 0) throw new Error(`${job.label}: the downloaded file differs`);
      chunk = first;
      window = jobWindow ?? deviceBuffers(p).bufCount;
    }
    const seconds = (performance.now() - start) / 1000;
    return { label: job.label, op: job.op, lossy: !!job.bad, bytesPerSecond: SIZE / seconds, seconds, chunk, window };
  } finally {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Task {
  profile: string;
  job: number;
}

/**
 * Transfers that exchange few packets per second (stop-and-wait, the slow UART) hardly load the CPU: they run
 * side by side. The others run one at a time, so that their timers are not delayed by each other's work.
 */
function plan(profiles: BenchProfile[]): { light: Task[]; heavy: Task[] } {
  const light: Task[] = [];
  const heavy: Task[] = [];
  for (const p of profiles) {
    JOBS.forEach((j, job) => (j.window === 1 || p.link.name === 'uart-115200' ? light : heavy).push({ profile: p.link.name, job }));
  }
  return { light, heavy };
}

interface Result extends Task {
  row: Row;
}

async function runTask(t: Task): Promise<Result> {
  const p = PROFILES.find((x) => x.link.name === t.profile)!;
  return { ...t, row: await runJob(p, JOBS[t.job]!, 1 + t.job) };
}

/**
 * Worker: runs its tasks and sends the results to the parent. Side by side, once; or one after the other,
 * twice each, keeping the faster run (the machine is shared: a run can lose time to other processes).
 */
async function worker(tasks: Task[], parallel: boolean): Promise<void> {
  const results: Result[] = [];
  if (parallel) results.push(...(await Promise.all(tasks.map(runTask))));
  else {
    for (const t of tasks) {
      const [a, b] = [await runTask(t), await runTask(t)];
      results.push(a.row.seconds <= b.row.seconds ? a : b);
    }
  }
  process.send!(results);
}

const kib = (bps: number): string => `${(bps / 1024).toFixed(2).padStart(7)} KiB/s`;

/** Sizes of a full upload chunk: data, request and response packets. */
function uploadSizes(chunk: number): { data: number; request: number; response: number } {
  const request = SMP_HEADER_SIZE + encodeCbor({ image: 0, off: SIZE, data: new Uint8Array(chunk) }).length;
  return { data: chunk, request, response: SMP_HEADER_SIZE + encodeCbor({ off: SIZE }).length };
}

function downloadSizes(chunk: number): { data: number; request: number; response: number } {
  const request = SMP_HEADER_SIZE + encodeCbor({ name: '/lfs/big.bin', off: SIZE }).length;
  return { data: chunk, request: SMP_HEADER_SIZE + encodeCbor({ off: SIZE, data: new Uint8Array(chunk) }).length, response: request };
}

function report(p: BenchProfile, rows: Row[]): void {
  console.log(`${p.link.name}: ${p.link.description}`);
  for (const op of ['upload', 'download'] as const) {
    const mine = rows.filter((r) => r.op === op);
    const headline = mine[0]!;
    const tuned = mine.find((r) => r.label === 'mcumgr-ts (tuned)')!;
    const saw = mine.find((r) => r.label.startsWith('stop-and-wait') && (op === 'download' || r.label.includes('full')))!;
    const rtt = (saw.seconds * 1000) / Math.ceil(SIZE / saw.chunk);
    const sizes = op === 'upload' ? uploadSizes(tuned.chunk) : downloadSizes(tuned.chunk);
    // Downloads: the response carries the data, so the link's busy direction is the device's.
    const limit = transferLimit(p, SIZE, sizes, rtt, op === 'upload' ? { roundTrips: 1, flash: TYPICAL_FLASH } : { roundTrips: 2 });
    console.log(`  ${op} limit ${kib(limit.bytesPerSecond).trim()} = ${limit.formula}`);
    const baselines = mine.filter((r) => r !== headline && r !== tuned && !r.lossy && !r.label.includes('full'));
    for (const r of mine) {
      const pct = `${((100 * r.bytesPerSecond) / limit.bytesPerSecond).toFixed(0).padStart(3)}% of limit`;
      let note = '';
      if (r === headline || r === tuned) note = baselines.map((b) => `×${(r.bytesPerSecond / b.bytesPerSecond).toFixed(2)} vs ${b.label}`).join(', ');
      if (r.lossy) note = `${((100 * r.bytesPerSecond) / tuned.bytesPerSecond).toFixed(0)}% of the tuned loss-free speed`;
      // Uploads report the most chunks that were in flight; downloads the window's limit.
      const shape = `chunk ${String(r.chunk).padStart(4)} B, window ${op === 'download' ? '≤ ' : ''}${r.window}`;
      console.log(`  ${op.padEnd(8)} ${r.label.padEnd(30)} ${kib(r.bytesPerSecond)} ${pct}  ${shape}  ${note}`);
    }
  }
  console.log('');
}

async function main(): Promise<void> {
  // Start-up first, while no benchmark worker loads the machine.
  reportStartup(await measureStartup());
  if (process.env.BENCH_SECTIONS === 'startup') return;
  const only = process.env.BENCH_PROFILES?.split(',');
  const profiles = PROFILES.filter((p) => !only || only.includes(p.link.name));
  const started = performance.now();
  console.log(`mcumgr-ts transfer benchmark — ${new Date().toISOString()} — ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}`);
  console.log(`${SIZE / 1024} KiB image upload and file download per link profile, all in this run.\n`);
  const self = fileURLToPath(import.meta.url);
  const { light, heavy } = plan(profiles);
  const spawn = (tasks: Task[], parallel: boolean): Promise<Result[]> =>
    new Promise((resolve, reject) => {
      const child = fork(self, [], { env: { ...process.env, BENCH_WORKER: JSON.stringify({ tasks, parallel }) } });
      child.once('message', (results) => resolve(results as Result[]));
      child.once('exit', (code) => code !== 0 && reject(new Error(`a benchmark worker exited with ${code}`)));
    });
  const results = (await Promise.all([spawn(light, true), spawn(heavy, false)])).flat();
  for (const p of profiles) {
    const rows = results
      .filter((r) => r.profile === p.link.name)
      .sort((a, b) => a.job - b.job)
      .map((r) => r.row);
    report(p, rows);
  }
  console.log(`total ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

const workerSpec = process.env.BENCH_WORKER ? (JSON.parse(process.env.BENCH_WORKER) as { tasks: Task[]; parallel: boolean }) : undefined;
const run = workerSpec ? worker(workerSpec.tasks, workerSpec.parallel) : main();
run.catch((err: unknown) => {
  console.error(`bench failed: ${(err as Error).message}`);
  process.exit(1);
});
