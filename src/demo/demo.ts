/**
 * `npm start`: a narrated end-to-end firmware upgrade against an in-process virtual device.
 *
 * Starts a VirtualDevice (fresh temp state dir, slot 0 seeded with v1.0.0) served over UDP on
 * 127.0.0.1:<random port>, builds and signs images with src/image, then drives the real
 * `mcumgr` CLI (bin/mcumgr.js, stdio inherited) through upload → test → reset → confirm,
 * followed by a file round trip, statistics and a shell command. Exits 0 on success, 1 on the
 * first failing step; the device, the UDP server and the temp dir are always cleaned up.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VirtualDevice } from '../device/device.js';
import { UdpSmpServer } from '../device/udp-server.js';
import { createImage, formatVersion, generateKey, parseImage, toHex, verifyImage } from '../image/node.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(REPO, 'bin', 'mcumgr.js');

class StepError extends Error {}

let stepNo = 0;
function step(title: string): void {
  stepNo++;
  process.stdout.write(`\n== Step ${stepNo}: ${title} ==\n`);
}

/** Runs the real CLI; must be async (not spawnSync) so the in-process device keeps serving. */
function runCli(conn: string[], args: string[], capture = false): Promise<string> {
  const shown = ['mcumgr', ...conn, ...args].join(' ');
  process.stdout.write(`$ ${shown}\n`);
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [CLI, ...conn, ...args], { stdio: ['ignore', capture ? 'pipe' : 'inherit', 'inherit'] });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', (err) => reject(new StepError(`step ${stepNo} failed: could not run "${shown}": ${err.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) resolvePromise(out);
      else reject(new StepError(`step ${stepNo} failed: "${shown}" exited with ${signal ?? `code ${code}`}`));
    });
  });
}

interface JsonImage {
  image?: number;
  slot: number;
  version: string;
  active?: boolean;
  confirmed?: boolean;
  pending?: boolean;
}

async function main(): Promise<number> {
  const started = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'mcumgr-demo-'));
  let device: VirtualDevice | undefined;
  let udp: UdpSmpServer | undefined;
  try {
    device = await VirtualDevice.create({ stateDir: join(dir, 'device') });
    device.onReset((events) => {
      process.stdout.write(`[device] rebooted: ${events.map((e) => `image ${e.image} ${e.action}`).join(', ') || 'nothing to do'}\n`);
    });
    udp = await UdpSmpServer.listen(device.server, { host: '127.0.0.1', port: 0 });
    const conn = ['--conntype', 'udp', '--connstring', udp.address];
    process.stdout.write(`Virtual device (MCUboot, slot 0 = v${device.config.seedVersion}) listening on udp ${udp.address}\n`);
    process.stdout.write(`State directory: ${dir}\n`);

    step('build and sign two images (v1.1.0 and v1.2.0, ed25519)');
    const key = generateKey('ed25519');
    const build = async (version: string, file: string): Promise<{ path: string; hash: string }> => {
      const payload = new Uint8Array(randomBytes(48 * 1024));
      const img = createImage(payload, { version, key, padHeader: true, slotSize: device!.config.slotSize });
      const v = await verifyImage(img, { key });
      if (!v.ok) throw new StepError(`step ${stepNo} failed: image ${version} does not verify: ${v.error?.message ?? 'unknown'}`);
      const path = join(dir, file);
      writeFileSync(path, img);
      const parsed = parseImage(img);
      const hash = toHex(parsed.hash!);
      process.stdout.write(`${file}: version ${formatVersion(parsed.header.version)}, ${parsed.size} bytes, signature ${v.signatureType} ok, hash ${hash}\n`);
      return { path, hash };
    };
    const v110 = await build('1.1.0', 'app-1.1.0.signed.bin');
    await build('1.2.0', 'app-1.2.0.signed.bin');
    process.stdout.write('(v1.2.0 is only built and verified; v1.1.0 is the one we upgrade to)\n');

    step('list the images on the device (v1.0.0 running)');
    await runCli(conn, ['image', 'list']);

    step('upload the new image (v1.1.0) to the secondary slot');
    await runCli(conn, ['image', 'upload', v110.path]);

    step('list the images (v1.1.0 now in slot 1)');
    await runCli(conn, ['image', 'list']);

    step('mark v1.1.0 for test on the next boot');
    await runCli(conn, ['image', 'test', v110.hash]);

    step('reset the device (MCUboot swaps the slots)');
    await runCli(conn, ['reset']);

    step('list the images (v1.1.0 active but not confirmed yet)');
    await runCli(conn, ['image', 'list']);

    step('confirm the running image');
    await runCli(conn, ['image', 'confirm']);

    step('list the images (v1.1.0 active and confirmed)');
    await runCli(conn, ['image', 'list']);
    const list = JSON.parse(await runCli(conn, ['--json', 'image', 'list'], true)) as { images?: JsonImage[] };
    const running = list.images?.find((i) => (i.image ?? 0) === 0 && i.slot === 0);
    if (running?.version !== '1.1.0' || !running.active || !running.confirmed) {
      throw new StepError(`step ${stepNo} failed: expected 1.1.0 active and confirmed in slot 0, got ${JSON.stringify(running)}`);
    }
    process.stdout.write('Verified: slot 0 runs v1.1.0, active and confirmed.\n');

    step('upload a file to /lfs/hello.txt');
    const local = join(dir, 'hello.txt');
    const back = join(dir, 'back.txt');
    const text = `Hello from mcumgr-ts! ${new Date().toISOString()}\n`.repeat(20);
    writeFileSync(local, text);
    await runCli(conn, ['fs', 'upload', local, '/lfs/hello.txt']);

    step('download it back and compare');
    await runCli(conn, ['fs', 'download', '/lfs/hello.txt', back]);
    if (!readFileSync(back).equals(readFileSync(local))) throw new StepError(`step ${stepNo} failed: downloaded file differs from the uploaded one`);
    process.stdout.write(`Downloaded file matches (${Buffer.byteLength(text)} bytes).\n`);

    step('read the my_stats statistics group');
    await runCli(conn, ['stat', 'my_stats']);

    step('run a shell command: kernel version');
    await runCli(conn, ['shell', 'exec', 'kernel', 'version']);

    const secs = ((performance.now() - started) / 1000).toFixed(1);
    process.stdout.write(
      `\n== Summary ==\nUpgraded v1.0.0 -> v1.1.0 (upload, test, reset, confirm), round-tripped a file, read stats and ran a shell command: ${stepNo} steps OK in ${secs} s.\n`,
    );
    return 0;
  } catch (err) {
    process.stderr.write(`\nDemo FAILED: ${err instanceof StepError ? err.message : `step ${stepNo}: ${(err as Error).stack ?? String(err)}`}\n`);
    return 1;
  } finally {
    await udp?.close().catch(() => undefined);
    await device?.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

process.exitCode = await main();
