import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SmpClient } from '../../src/client/client.js';
import { buildImage } from '../../src/device/firmware.js';
import { image, os } from '../../src/groups/index.js';
import { UdpTransport } from '../../src/transport/udp.js';
import { startSim, tempDir, versions } from './helpers.js';

describe('mcumgr-sim process', () => {
  it('resumes an upload after kill -9 with the same state dir', async () => {
    const state = tempDir();
    const img = buildImage({ version: '1.1.0', body: new Uint8Array(30000).map((_, i) => (i * 13) & 0xff) });
    const sha = new Uint8Array(createHash('sha256').update(img).digest());

    let sim = await startSim(['--udp', '127.0.0.1:0', '--state', state]);
    let t = await UdpTransport.connect(sim.udp!);
    let client = new SmpClient(t, { timeoutMs: 3000 });
    let rsp = await client.call(image.upload, { image: 0, off: 0, len: img.length, sha, data: img.subarray(0, 500) });
    while (rsp.off < 12000) rsp = await client.call(image.upload, { off: rsp.off, data: img.subarray(rsp.off, rsp.off + 500) });
    const reached = rsp.off;
    await sim.stop('SIGKILL');
    await t.close();

    sim = await startSim(['--udp', '127.0.0.1:0', '--state', state]);
    t = await UdpTransport.connect(sim.udp!);
    client = new SmpClient(t, { timeoutMs: 3000 });
    rsp = await client.call(image.upload, { image: 0, off: 0, len: img.length, sha, data: img.subarray(0, 500) });
    expect(rsp.off).toBe(reached);
    while (rsp.off < img.length) rsp = await client.call(image.upload, { off: rsp.off, data: img.subarray(rsp.off, rsp.off + 500) });
    expect(rsp.match).toBe(true);
    const list = await client.call(image.state, {});
    expect(list.images[1]?.version).toBe('1.1.0');
    await sim.stop();
    expect(sim.proc.exitCode).toBe(0);
    await t.close();
  }, 60_000);

  it('finishes a swap after the process is killed (SIGKILL) in the middle of it', async () => {
    const state = tempDir();
    const img = buildImage({ version: '2.0.0', body: new Uint8Array(20000).map((_, i) => (i * 29) & 0xff) });
    const sha = new Uint8Array(createHash('sha256').update(img).digest());
    // The 20th flash change of the swap: sectors are being exchanged, the primary slot holds neither image whole.
    let sim = await startSim(['--udp', '127.0.0.1:0', '--state', state], { MCUMGR_SIM_POWER_CUT: '20' });
    const killed = new Promise<NodeJS.Signals | null>((r) => sim.proc.on('exit', (_code, signal) => r(signal)));
    let t = await UdpTransport.connect(sim.udp!);
    let client = new SmpClient(t, { timeoutMs: 3000 });
    let rsp = await client.call(image.upload, { image: 0, off: 0, len: img.length, sha, data: img.subarray(0, 500) });
    while (rsp.off < img.length) rsp = await client.call(image.upload, { off: rsp.off, data: img.subarray(rsp.off, rsp.off + 500) });
    const uploaded = (await client.call(image.state, {})).images[1]!.hash!;
    await client.call(image.setState, { hash: uploaded, confirm: false });
    await client.call(os.reset, {});
    expect(await killed).toBe('SIGKILL');
    await t.close();

    sim = await startSim(['--udp', '127.0.0.1:0', '--state', state]);
    t = await UdpTransport.connect(sim.udp!);
    client = new SmpClient(t, { timeoutMs: 3000 });
    expect(await versions(client)).toEqual(['0:2.0.0:active', '1:1.0.0:confirmed']);
    expect(sim.stderr()).toContain('boot: image 0 test (resumed after a power cut)');
    const list = await client.call(image.state, {});
    expect(Buffer.from(list.images[0]!.hash!).equals(Buffer.from(uploaded))).toBe(true);
    await sim.stop();
    await t.close();
  }, 60_000);
});
