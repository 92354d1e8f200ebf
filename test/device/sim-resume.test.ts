import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SmpClient } from '../../src/client/client.js';
import { buildImage } from '../../src/device/firmware.js';
import { image } from '../../src/groups/index.js';
import { UdpTransport } from '../../src/transport/udp.js';
import { tempDir } from './helpers.js';

const ROOT = join(import.meta.dirname, '../..');

function startSim(stateDir: string): Promise<{ proc: ChildProcess; address: string }> {
  const proc = spawn(process.execPath, [join(ROOT, 'dist/device/sim.js'), '--udp', '127.0.0.1:0', '--state', stateDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^udp: (\S+)$/m.exec(out);
      if (m) resolve({ proc, address: m[1]! });
    });
    proc.on('exit', (code) => reject(new Error(`sim exited ${code}: ${out}`)));
  });
}

describe('mcumgr-sim process', () => {
  it('resumes an upload after kill -9 with the same state dir', async () => {
    const { execSync } = await import('node:child_process');
    const { existsSync } = await import('node:fs');
    // `npm test` builds first; build here only when this file runs on its own.
    if (!existsSync(`${ROOT}/dist/device/sim.js`)) execSync('npx tsc -p tsconfig.json', { cwd: ROOT, stdio: 'ignore' });
    const state = tempDir();
    const img = buildImage({ version: '1.1.0', body: new Uint8Array(30000).map((_, i) => (i * 13) & 0xff) });
    const sha = new Uint8Array(createHash('sha256').update(img).digest());

    let sim = await startSim(state);
    let t = await UdpTransport.connect(sim.address);
    let client = new SmpClient(t, { timeoutMs: 3000 });
    let rsp = await client.call(image.upload, { image: 0, off: 0, len: img.length, sha, data: img.subarray(0, 500) });
    while (rsp.off < 12000) rsp = await client.call(image.upload, { off: rsp.off, data: img.subarray(rsp.off, rsp.off + 500) });
    const reached = rsp.off;
    sim.proc.kill('SIGKILL');
    await new Promise((r) => sim.proc.once('exit', r));
    await t.close();

    sim = await startSim(state);
    t = await UdpTransport.connect(sim.address);
    client = new SmpClient(t, { timeoutMs: 3000 });
    rsp = await client.call(image.upload, { image: 0, off: 0, len: img.length, sha, data: img.subarray(0, 500) });
    expect(rsp.off).toBe(reached);
    while (rsp.off < img.length) rsp = await client.call(image.upload, { off: rsp.off, data: img.subarray(rsp.off, rsp.off + 500) });
    expect(rsp.match).toBe(true);
    const list = await client.call(image.state, {});
    expect(list.images[1]?.version).toBe('1.1.0');
    const exited = new Promise<number | null>((r) => sim.proc.once('exit', (code) => r(code)));
    sim.proc.kill('SIGTERM');
    expect(await exited).toBe(0);
    await t.close();
  }, 60_000);
});
