/**
 * The reset/boot-window trap: a device keeps answering for a while after its `os reset` answer, then answers
 * nothing while it boots. `waitForReboot` and `mcumgr reset` must return only once the rebooted device answers.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SmpClient } from '../../src/client/client.js';
import { waitForReboot } from '../../src/client/reboot.js';
import type { VirtualDevice } from '../../src/device/device.js';
import { UdpSmpServer } from '../../src/device/udp-server.js';
import { os } from '../../src/groups/index.js';
import { encodeCbor } from '../../src/protocol/cbor.js';
import { SmpTimeoutError } from '../../src/protocol/errors.js';
import { createMemoryPair } from '../../src/transport/memory.js';
import { TransportError, type SmpTransport } from '../../src/transport/transport.js';
import { encodePacket } from '../../src/protocol/header.js';
import { UdpTransport } from '../../src/node/udp.js';
import { run } from '../cli/helpers.js';
import { makeDevice, startSim, tempDir, type SimProcess } from './helpers.js';

describe('waitForReboot against the in-process device over UDP', () => {
  let dev: VirtualDevice;
  let server: UdpSmpServer;
  let client: SmpClient;

  beforeAll(async () => {
    // Zephyr's 250 ms before the reboot, and a boot long enough that a request sent during it times out.
    dev = makeDevice({ config: { resetDelayMs: 250, bootTimeMs: 600 } });
    server = await UdpSmpServer.listen(dev.server, { host: '127.0.0.1', port: 0 });
    client = new SmpClient(await UdpTransport.connect(server.address), { timeoutMs: 5000 });
  });
  afterAll(async () => {
    await client.close();
    await server.close();
    await dev.close();
  });

  it('returns only after the device went down and came back, however soon it is called', async () => {
    let rebooted = false;
    dev.onReset(() => (rebooted = true));
    await client.call(os.reset, {});
    const c = await waitForReboot(client, { timeoutMs: 5000 });
    expect(rebooted).toBe(true);
    expect(await c.call(os.echo, { d: 'back' }, { timeoutMs: 2000 })).toEqual({ r: 'back' });
  });

  it('a device that is still up after its reset delay does not count as rebooted', async () => {
    // The reset answer is taken as coming 250 ms before the reboot; this device reboots 1.5 s after it.
    dev.config.resetDelayMs = 1500;
    let rebooted = false;
    dev.onReset(() => (rebooted = true));
    await client.call(os.reset, {});
    await waitForReboot(client, { timeoutMs: 5000, resetDelayMs: 1600 });
    expect(rebooted).toBe(true);
    dev.config.resetDelayMs = 250;
  });

  it('gives up with a timeout error naming the reset when the device never answers', async () => {
    dev.server.offline = true;
    try {
      await expect(waitForReboot(client, { timeoutMs: 400, resetDelayMs: 0 })).rejects.toThrow(SmpTimeoutError);
      await expect(waitForReboot(client, { timeoutMs: 400, resetDelayMs: 0 })).rejects.toThrow(/after the reset/);
    } finally {
      dev.server.offline = false;
    }
  });
});

describe('waitForReboot over a link whose writes are refused for a while', () => {
  it('backs off between refused probes instead of sending them in a tight loop, then finds the device', async () => {
    const dev = makeDevice({ config: { resetDelayMs: 0, bootTimeMs: 0 } });
    const [clientEnd, deviceEnd] = createMemoryPair();
    dev.server.attach(deviceEnd);
    let refused = 0;
    let refuse = true;
    const flaky: SmpTransport = Object.assign(Object.create(clientEnd) as SmpTransport, {
      send: (packet: Uint8Array) => {
        if (!refuse) return clientEnd.send(packet);
        refused++;
        return Promise.reject(new TransportError('write refused (port not back yet)'));
      },
    });
    const client = new SmpClient(flaky, { timeoutMs: 2000 });
    try {
      const back = new Promise<void>((resolve) => dev.onReset(() => resolve()));
      await dev.reset();
      await back;
      const waited = waitForReboot(client, { timeoutMs: 10_000, resetDelayMs: 0 });
      // Refused writes until the probe count shows the wait has gone round several times.
      await vi.waitFor(() => expect(refused).toBeGreaterThanOrEqual(4), { timeout: 10_000 });
      refuse = false;
      expect(await waited).toBe(client);
      // Backing off (25, 50, 100 ... 500 ms) keeps this to a handful; without it, thousands of probes.
      expect(refused).toBeLessThan(60);
    } finally {
      await client.close();
      await dev.close();
    }
  });
});

describe('the virtual device goes down on time even when its reboot timer runs late', () => {
  it('a request that arrives after the reset delay is dropped before the timer has fired', () => {
    const dev = makeDevice({ config: { resetDelayMs: 50, bootTimeMs: 50 } });
    const echo = (d: string) => encodePacket({ op: os.echo.op, version: 1, flags: 0, group: os.echo.group, seq: 1, id: os.echo.id }, encodeCbor({ d }));
    try {
      expect(dev.server.handlePacket(echo('before'))).toHaveLength(1);
      dev.scheduleReset();
      expect(dev.server.handlePacket(echo('within the delay'))).toHaveLength(1);
      // A busy event loop: the reboot timer cannot fire while this runs.
      const until = performance.now() + 80;
      while (performance.now() < until);
      expect(dev.server.handlePacket(echo('after the delay'))).toEqual([]);
    } finally {
      void dev.close();
    }
  });
});

describe('`mcumgr reset` waits for the rebooted device', () => {
  const dir = tempDir();
  let sim: SimProcess;
  let conn: string[];
  const mcumgr = (args: string[]) => run([...conn, ...args]);

  beforeAll(async () => {
    // A boot far longer than a CLI start: a request sent right after `reset` returned early would be dropped.
    writeFileSync(join(dir, 'sim.json'), JSON.stringify({ bootTimeMs: 2000 }));
    sim = await startSim(['--udp', '127.0.0.1:0', '--state', join(dir, 'state'), '--config', join(dir, 'sim.json')]);
    conn = ['--conntype', 'udp', '--connstring', sim.udp!];
  });
  afterAll(() => sim?.stop());

  it('a command sent right after `mcumgr reset` is answered (one try)', async () => {
    const reset = await mcumgr(['reset']);
    expect(reset.code, reset.stderr).toBe(0);
    expect(reset.stdout).toBe('Done\n');
    const list = await mcumgr(['-t', '1', '-r', '1', 'image', 'list']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/slot=0/);
  });

  it('--no-wait returns at the reset answer, as the Go tool does', async () => {
    const reset = await mcumgr(['--json', 'reset', '--no-wait']);
    expect(reset.code, reset.stderr).toBe(0);
    expect(JSON.parse(reset.stdout)).toEqual({ ok: true, waited: false });
    // Let the device finish its boot before the next test file's turn.
    expect((await mcumgr(['-t', '1', '-r', '10', 'echo', 'up'])).stdout).toBe('up\n');
  });
});
