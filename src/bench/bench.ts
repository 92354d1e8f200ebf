/**
 * `npm run bench`: uploads a 256 KiB image and downloads a 256 KiB file over emulated links, with our
 * tuned settings and two baselines measured side by side in the same run.
 */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { SmpClient } from '../client/client.js';
import { fileDownload } from '../client/files.js';
import { imageUpload } from '../client/upload.js';
import { buildImage } from '../device/firmware.js';
import { VirtualDevice } from '../device/device.js';
import { DeviceEndpoint, EmulatedLink, LINK_PROFILES, seededRandom, serialWireBytes, type LinkProfile } from '../transport/link.js';
import { createMemoryPair } from '../transport/memory.js';

const SIZE = 256 * 1024;
const FLASH_BYTES_PER_SECOND = 1_000_000;

interface Strategy {
  name: string;
  window(bufCount: number): number;
  /** Data bytes per chunk, or undefined to size from the device's parameters. */
  chunk(profile: LinkProfile): number | undefined;
  /** Largest request, or undefined to negotiate it with the device. */
  maxPacket(profile: LinkProfile): number | undefined;
}

/** Largest request the Go tool sends on each transport (its "MtuOut"): serial mtu=512 → 371, BLE ATT−3, UDP 2027. */
function goMtuOut(profile: LinkProfile): number {
  if (profile.name.startsWith('uart')) return 371;
  if (profile.name.startsWith('ble')) return Math.min(profile.mtu, 512);
  return 2027;
}

const STRATEGIES: Strategy[] = [
  { name: 'mcumgr-ts (tuned)', window: (bufCount) => bufCount, chunk: () => undefined, maxPacket: () => undefined },
  {
    name: 'stop-and-wait, 128 B',
    window: () => 1,
    chunk: () => 128,
    maxPacket: () => undefined,
  },
  {
    name: 'Go strategy (w=5, MTU chunks)',
    window: () => 5,
    chunk: () => undefined,
    maxPacket: goMtuOut,
  },
];

interface Setup {
  client: SmpClient;
  device: VirtualDevice;
  close(): Promise<void>;
}

function deviceBuffer(profile: LinkProfile): { bufSize: number; bufCount: number; packetLimit: number } {
  if (profile.name.startsWith('uart')) return { bufSize: 1024, bufCount: 4, packetLimit: 1020 };
  if (profile.name.startsWith('ble')) return { bufSize: 2048, bufCount: 4, packetLimit: profile.mtu };
  return { bufSize: 2048, bufCount: 2, packetLimit: 2048 };
}

function connect(profile: LinkProfile, stateDir: string, seed: number): Setup {
  const { bufSize, bufCount, packetLimit } = deviceBuffer(profile);
  const device = VirtualDevice.createSync({ stateDir, config: { bufSize, bufCount, slotSize: 0x80000 } });
  const [clientEnd, deviceEnd] = createMemoryPair(65_535);
  const clientLink = new EmulatedLink(clientEnd, { ...profile, mtu: packetLimit }, seededRandom(seed));
  const deviceLink = new EmulatedLink(deviceEnd, profile, seededRandom(seed + 1));
  const endpoint = new DeviceEndpoint(deviceLink, { bufferCount: bufCount, bufferSize: packetLimit, flashBytesPerSecond: FLASH_BYTES_PER_SECOND });
  device.server.attach(endpoint);
  const client = new SmpClient(clientLink, { timeoutMs: 2000 });
  return {
    client,
    device,
    close: async () => {
      await clientLink.close();
      await deviceLink.close();
      await device.close();
    },
  };
}

/** The payload rate a link allows at best: wire bandwidth × payload share of a full packet, and buffers per round trip. */
function limits(profile: LinkProfile): { kibs: number; formula: string } {
  const { bufCount, packetLimit } = deviceBuffer(profile);
  const overhead = 30; // SMP header + CBOR keys of an upload chunk
  const data = packetLimit - overhead;
  const wire = profile.wireBytes(packetLimit);
  const linkRate = (profile.bytesPerSecond * data) / wire;
  const rttS = (2 * profile.latencyMs + (wire / profile.bytesPerSecond) * 1000 + (profile.wireBytes(24) / profile.bytesPerSecond) * 1000) / 1000;
  const bufferRate = (bufCount * data) / rttS;
  const flashRate = FLASH_BYTES_PER_SECOND;
  const best = Math.min(linkRate, bufferRate, flashRate);
  const formula =
    `min(link ${profile.bytesPerSecond} B/s × ${data}/${wire}, ` +
    `buffers ${bufCount} × ${data} B / RTT ${(rttS * 1000).toFixed(1)} ms, flash ${flashRate / 1000} kB/s)`;
  return { kibs: best / 1024, formula };
}

interface Row {
  profile: string;
  op: 'upload' | 'download';
  strategy: string;
  kibs: number;
  seconds: number;
  chunk: number;
}

async function runUpload(profile: LinkProfile, strategy: Strategy, image: Uint8Array, seed: number): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), 'mcumgr-bench-'));
  const s = connect(profile, dir, seed);
  const { bufCount } = deviceBuffer(profile);
  try {
    const start = performance.now();
    const result = await imageUpload(s.client, image, { window: strategy.window(bufCount), chunkSize: strategy.chunk(profile), maxPacketSize: strategy.maxPacket(profile), timeoutMs: 2000, retries: 50 });
    const seconds = (performance.now() - start) / 1000;
    return { profile: profile.name, op: 'upload', strategy: strategy.name, kibs: image.length / 1024 / seconds, seconds, chunk: result.chunkSize };
  } finally {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runDownload(profile: LinkProfile, strategy: Strategy, file: Uint8Array, seed: number): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), 'mcumgr-bench-'));
  mkdirSync(join(dir, 'fs', 'lfs'), { recursive: true });
  writeFileSync(join(dir, 'fs', 'lfs', 'big.bin'), file);
  const s = connect(profile, dir, seed);
  try {
    const start = performance.now();
    const data = await fileDownload(s.client, '/lfs/big.bin', { timeoutMs: 2000, retries: 50 });
    const seconds = (performance.now() - start) / 1000;
    if (data.length !== file.length) throw new Error(`download returned ${data.length} bytes, expected ${file.length}`);
    return { profile: profile.name, op: 'download', strategy: strategy.name, kibs: file.length / 1024 / seconds, seconds, chunk: 0 };
  } finally {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const body = new Uint8Array(SIZE - 0x200 - 40).map((_, i) => (i * 31) & 0xff);
  const image = buildImage({ version: '2.0.0', body });
  const file = new Uint8Array(SIZE).map((_, i) => (i * 7) & 0xff);
  const only = process.env.BENCH_PROFILES?.split(',');
  const profiles = Object.values(LINK_PROFILES).filter((p) => !only || only.includes(p.name));
  console.log(`mcumgr-ts transfer benchmark — ${new Date().toISOString()} — ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}`);
  console.log(`${SIZE / 1024} KiB image upload and file download per link profile; all runs side by side in this process.\n`);
  const jobs: Promise<Row>[] = [];
  let seed = 1;
  for (const p of profiles) {
    for (const st of STRATEGIES) jobs.push(runUpload(p, st, image, seed++));
    jobs.push(runDownload(p, STRATEGIES[0]!, file, seed++));
  }
  const rows = await Promise.all(jobs);
  for (const p of profiles) {
    const lim = limits(p);
    console.log(`${p.name}: ${p.description}`);
    console.log(`  limit ${lim.kibs.toFixed(2)} KiB/s = ${lim.formula}`);
    const ups = rows.filter((r) => r.profile === p.name && r.op === 'upload');
    const tuned = ups[0]!;
    for (const r of ups) {
      const vs = r === tuned ? ups.slice(1).map((b) => `×${(tuned.kibs / b.kibs).toFixed(2)} vs ${b.strategy}`).join(', ') : '';
      console.log(
        `  upload   ${r.strategy.padEnd(30)} ${r.kibs.toFixed(2).padStart(8)} KiB/s  ${((100 * r.kibs) / lim.kibs).toFixed(0).padStart(3)}% of limit  chunk ${r.chunk} B  ${vs}`,
      );
    }
    for (const r of rows.filter((x) => x.profile === p.name && x.op === 'download')) {
      console.log(`  download ${'stop-and-wait (device chunks)'.padEnd(30)} ${r.kibs.toFixed(2).padStart(8)} KiB/s  ${((100 * r.kibs) / lim.kibs).toFixed(0).padStart(3)}% of limit`);
    }
    console.log('');
  }
  console.log(`serial framing: ${serialWireBytes(1020)} wire bytes for a 1020-byte packet`);
}

main().catch((err: unknown) => {
  console.error(`bench failed: ${(err as Error).message}`);
  process.exit(1);
});
