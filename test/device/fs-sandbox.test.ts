/**
 * The virtual device's file system stays inside its mount points: each case below reaches the host file system
 * (or shows a host path) when the guard that refuses it is removed from resolveFsPath or the shell.
 */
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SmpClient } from '../../src/client/client.js';
import { fs, shell } from '../../src/groups/index.js';
import { SmpDeviceError } from '../../src/protocol/errors.js';
import { createMemoryPair } from '../../src/transport/memory.js';
import { makeDevice, tempDir } from './helpers.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

/** A device whose state lives in `parent/state`, with a secret file beside it, outside the device. */
function setup() {
  const parent = tempDir('mcumgr-sandbox-');
  const outside = join(parent, 'outside');
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret'), 'host secret');
  const dev = makeDevice({ stateDir: join(parent, 'state') });
  const [a, b] = createMemoryPair(2048);
  dev.server.attach(b);
  const client = new SmpClient(a, { timeoutMs: 3000 });
  closers.push(async () => {
    await a.close();
    await dev.close();
  });
  const lfs = join(dev.fsRoot, 'lfs');
  /** Every file under `parent`, so that a write that escaped the mount is seen wherever it went. */
  const hostFiles = () => (readdirSync(parent, { recursive: true }) as string[]).filter((f) => !f.startsWith(join('state', 'flash'))).sort();
  return { parent, outside, dev, client, lfs, hostFiles };
}

const refused = async (p: Promise<unknown>) => {
  const err = await p.catch((e: unknown) => e);
  expect(err).toBeInstanceOf(SmpDeviceError);
  return err as SmpDeviceError;
};

describe('file-system sandbox of the virtual device', () => {
  it('refuses `..` in a path, for writes and for reads', async () => {
    const { client, hostFiles } = setup();
    const before = hostFiles();
    for (const name of ['/lfs/../escape', '/lfs/../../escape', '/lfs/../../../../../../tmp/escape', '/lfs/./x/../../escape']) {
      await refused(client.call(fs.upload, { name, off: 0, len: 3, data: new Uint8Array([1, 2, 3]) }));
    }
    expect(hostFiles()).toEqual(before);
    await refused(client.call(fs.download, { name: '/lfs/../../outside/secret', off: 0 }));
    await refused(client.call(fs.status, { name: '/lfs/../../outside/secret' }));
  });

  it('takes a host path for a device path: it is no mount point, and nothing is written there', async () => {
    const { client, outside, hostFiles } = setup();
    const before = hostFiles();
    await refused(client.call(fs.upload, { name: join(outside, 'planted'), off: 0, len: 1, data: new Uint8Array([1]) }));
    await refused(client.call(fs.download, { name: join(outside, 'secret'), off: 0 }));
    await refused(client.call(fs.upload, { name: 'lfs/relative', off: 0, len: 1, data: new Uint8Array([1]) }));
    expect(hostFiles()).toEqual(before);
  });

  it('does not follow a symbolic link inside /lfs that points outside', async () => {
    const { client, lfs, outside, hostFiles } = setup();
    symlinkSync(outside, join(lfs, 'dirlink'));
    symlinkSync(join(outside, 'secret'), join(lfs, 'filelink'));
    const before = hostFiles();
    await refused(client.call(fs.download, { name: '/lfs/dirlink/secret', off: 0 }));
    await refused(client.call(fs.download, { name: '/lfs/filelink', off: 0 }));
    await refused(client.call(fs.hash, { name: '/lfs/filelink' }));
    await refused(client.call(fs.upload, { name: '/lfs/dirlink/planted', off: 0, len: 1, data: new Uint8Array([1]) }));
    await refused(client.call(fs.upload, { name: '/lfs/filelink', off: 0, len: 1, data: new Uint8Array([1]) }));
    expect(hostFiles()).toEqual(before);
    expect(existsSync(join(outside, 'planted'))).toBe(false);
  });

  it('refuses NUL bytes and names longer than the device allows', async () => {
    const { client, dev, lfs } = setup();
    await refused(client.call(fs.upload, { name: '/lfs/a\0/../../escape', off: 0, len: 1, data: new Uint8Array([1]) }));
    // Refused by the device as an invalid name (fs group rc 2), not left to fail inside the host's file API.
    const nul = await refused(client.call(fs.upload, { name: '/lfs/nul\0name', off: 0, len: 1, data: new Uint8Array([1]) }));
    expect([nul.group, nul.rc]).toEqual([8, 2]);
    expect(readdirSync(lfs)).toEqual([]);
    const max = dev.config.fs.pathMax;
    const long = `/lfs/${'x'.repeat(max - 5 + 1)}`;
    expect(long.length).toBe(max + 1);
    await refused(client.call(fs.upload, { name: long, off: 0, len: 1, data: new Uint8Array([1]) }));
    expect(readdirSync(lfs)).toEqual([]);
    const fits = long.slice(0, max);
    await client.call(fs.upload, { name: fits, off: 0, len: 1, data: new Uint8Array([1]) });
    expect(readdirSync(lfs)).toEqual([fits.slice(5)]);
  });

  it("the shell's fs ls and fs read name device paths only, never the host's", async () => {
    const { client, lfs, outside, parent } = setup();
    symlinkSync(outside, join(lfs, 'dirlink'));
    writeFileSync(join(lfs, 'plain'), 'x');
    const run = async (line: string) => (await client.call(shell.exec, { argv: line.split(' ') })).o;
    const outputs = [
      await run('fs ls /lfs/missing'),
      await run('fs ls /lfs/plain'),
      await run('fs ls /lfs/dirlink'),
      await run('fs ls /lfs/../..'),
      await run('fs read /lfs/missing'),
      await run('fs read /lfs/dirlink/secret'),
    ];
    for (const out of outputs) {
      expect(out).not.toContain(parent);
      expect(out).not.toContain('host secret');
    }
    expect(outputs[0]).toContain('Unable to open /lfs/missing (err -2)');
    expect(outputs[1]).toContain('Unable to open /lfs/plain (err -20)');
    expect(outputs[4]).toContain('Failed to obtain file /lfs/missing (err: -2)');
    expect((await run('fs ls /lfs')).trim().split('\r\n')).toEqual(['dirlink/', 'plain']);
  });
});
