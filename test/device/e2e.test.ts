/**
 * Every command of every group through the client library (SmpClient + the typed definitions of src/groups)
 * against a real `mcumgr-sim` child process: over UDP and over the pseudo-terminal it opens, in the default
 * configuration and in the one of the recorded Zephyr 3.4 device (`zephyr34SmpSvrConfig`, through --config).
 * One table of steps, run in order against each; the steps build on each other's device state.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SmpClient } from '../../src/client/client.js';
import { imageUpload } from '../../src/client/upload.js';
import { resolveConfig, zephyr34SmpSvrConfig, type DeviceConfig } from '../../src/device/config.js';
import { buildImage } from '../../src/device/firmware.js';
import { allCommands, basic, enumeration, fs, image, os, settings, shell, stat } from '../../src/groups/index.js';
import { SmpDeviceError } from '../../src/protocol/errors.js';
import { decodeHeader, SmpVersion } from '../../src/protocol/header.js';
import { SerialTransport } from '../../src/node/serial.js';
import { UdpTransport } from '../../src/node/udp.js';
import { startSim, tempDir, versions, type SimProcess } from './helpers.js';

interface Link {
  client: SmpClient;
  sim: SimProcess;
  /** Everything received on the serial line, console text included (serial only). */
  console?: () => string;
  /** The configuration the sim runs. */
  config: DeviceConfig;
  /** A file path on its first mount point. */
  file: string;
}

const PROFILES = [
  { name: 'the default configuration', config: {} },
  { name: 'the recorded Zephyr 3.4 configuration', config: zephyr34SmpSvrConfig() },
];

const fileData = new Uint8Array(300).map((_, i) => (i * 11 + 1) & 0xff);
const update = buildImage({ version: '1.1.0' });

const rejectsWith = (p: Promise<unknown>, kind: 'mgmt' | 'group', rc: number) => expect(p).rejects.toMatchObject({ name: SmpDeviceError.name, kind, rc });
/** A group or command the configuration leaves out answers MGMT_ERR_ENOTSUP. */
const unsupported = (p: Promise<unknown>) => rejectsWith(p, 'mgmt', 8);
const seed = (config: DeviceConfig) => config.seedVersion.replace('+', '.');

const steps: [string, (link: Link) => Promise<void>][] = [
  ['os echo', async ({ client }) => expect(await client.call(os.echo, { d: 'hello' })).toEqual({ r: 'hello' })],
  [
    'os taskstat',
    async ({ client, config }) => {
      const { tasks } = await client.call(os.taskstat, {});
      expect(Object.keys(tasks).length).toBeGreaterThan(0);
      for (const t of Object.values(tasks)) expect(t.stksiz ?? 0).toSatisfy((n: number) => (config.taskstatStackInfo ? n > 0 : n === 0));
    },
  ],
  // Zephyr has no mpstat handler (OS_MGMT_ID_MPSTAT is reserved): MGMT_ERR_ENOTSUP as a plain rc, for v2 clients too.
  [
    'os mpstat',
    async ({ client }) => {
      expect(client.version).toBe(SmpVersion.V2);
      await rejectsWith(client.call(os.mpstat, {}), 'mgmt', 8);
    },
  ],
  [
    'os datetime set / get',
    async ({ client, config }) => {
      if (!config.datetime) {
        await unsupported(client.call(os.datetimeGet, {}));
        return unsupported(client.call(os.datetimeSet, { datetime: '2030-01-02T03:04:05' }));
      }
      await client.call(os.datetimeSet, { datetime: '2030-01-02T03:04:05' });
      expect((await client.call(os.datetimeGet, {})).datetime).toMatch(/^2030-01-02T03:04:/);
      await rejectsWith(client.call(os.datetimeSet, { datetime: 'yesterday' }), 'group', 2);
    },
  ],
  ['os params', async ({ client }) => expect(await client.call(os.mcumgrParams, {})).toEqual({ buf_size: 1024, buf_count: 4 })],
  [
    'os info',
    async ({ client, config }) => {
      expect(await client.call(os.info, {})).toEqual({ output: 'Zephyr' });
      const { nodeName, release, version } = config.info;
      expect((await client.call(os.info, { format: 'a' })).output).toMatch(new RegExp(`^Zephyr ${nodeName} ${release} ${version} `.replaceAll('.', '\\.')));
    },
  ],
  [
    'os bootloader info',
    async ({ client, config }) => {
      expect(await client.call(os.bootloaderInfo, {})).toEqual({ bootloader: 'MCUboot' });
      expect(await client.call(os.bootloaderInfo, { query: 'mode' })).toEqual({ mode: config.mcubootMode });
    },
  ],
  ['image state read', async ({ client, config }) => expect(await versions(client)).toEqual([`0:${seed(config)}:active,confirmed`])],
  [
    'image upload',
    async ({ client }) => {
      expect(await imageUpload(client, update)).toMatchObject({ bytes: update.length });
      const listed = (await client.call(image.state, {})).images[1]!;
      expect(listed).toMatchObject({ slot: 1, version: '1.1.0' });
      expect(
        Buffer.from(listed.hash!).equals(
          Buffer.from(
            createHash('sha256')
              .update(update.subarray(0, update.length - 40))
              .digest(),
          ),
        ),
      ).toBe(true);
    },
  ],
  [
    'image state write: test by hash',
    async ({ client, config }) => {
      const hash = (await client.call(image.state, {})).images[1]!.hash!;
      await client.call(image.setState, { hash });
      expect(await versions(client)).toEqual([`0:${seed(config)}:active,confirmed`, '1:1.1.0:pending']);
    },
  ],
  [
    'os reset: MCUboot swaps; the device is back after its boot',
    async ({ client, console, sim, config }) => {
      await client.call(os.reset, {});
      // mcumgr-sim reports each reboot on stderr once it answers again.
      await vi.waitFor(() => expect(sim.stderr()).toContain('reset: image 0 test\n'), { timeout: 10_000 });
      expect(await versions(client)).toEqual(['0:1.1.0:active', `1:${seed(config)}:confirmed`]);
      if (console) expect(console()).toContain(`*** Booting Zephyr OS build ${config.info.release || `v${config.info.version}`} ***\r\n`);
    },
  ],
  [
    'image state write: confirm the running image',
    async ({ client, config }) => {
      await client.call(image.setState, { confirm: true });
      expect(await versions(client)).toEqual(['0:1.1.0:active,confirmed', `1:${seed(config)}:`]);
    },
  ],
  [
    'image slot info',
    async ({ client }) => {
      const { images } = await client.call(image.slotInfo, {});
      expect(images).toHaveLength(1);
      expect(images[0]).toMatchObject({
        image: 0,
        slots: [
          { slot: 0, size: 0x40000 },
          { slot: 1, size: 0x40000, upload_image_id: 0 },
        ],
      });
    },
  ],
  [
    'image erase',
    async ({ client }) => {
      await client.call(image.erase, {});
      expect(await versions(client)).toEqual(['0:1.1.0:active,confirmed']);
    },
  ],
  [
    'stat list / read',
    async ({ client, config }) => {
      expect((await client.call(stat.list, {})).stat_list).toEqual(config.stats.map((g) => g.name));
      const group = config.stats.find((g) => !g.tooLarge)!;
      const read = await client.call(stat.read, { name: group.name });
      expect(read.name).toBe(group.name);
      expect(Object.keys(read.fields)).toEqual(Object.keys(group.fields));
    },
  ],
  [
    'settings write / read / delete / commit / load / save',
    async ({ client, config }) => {
      if (!config.settings) {
        await unsupported(client.call(settings.commit, {}));
        await unsupported(client.call(settings.save, {}));
        await unsupported(client.call(settings.load, {}));
        await unsupported(client.call(settings.write, { name: 'e2e/key', val: new Uint8Array([1]) }));
        await unsupported(client.call(settings.read, { name: 'e2e/key' }));
        return unsupported(client.call(settings.remove, { name: 'e2e/key' }));
      }
      await client.call(settings.write, { name: 'e2e/key', val: new Uint8Array([1, 2, 3]) });
      expect(await client.call(settings.read, { name: 'e2e/key' })).toEqual({ val: new Uint8Array([1, 2, 3]) });
      await client.call(settings.commit, {});
      await client.call(settings.save, {});
      await client.call(settings.load, {});
      await client.call(settings.remove, { name: 'e2e/key' });
      await rejectsWith(client.call(settings.read, { name: 'e2e/key' }), 'group', 3);
    },
  ],
  [
    'fs upload / status / download / close',
    async ({ client, file }) => {
      expect(await client.call(fs.upload, { name: file, off: 0, len: fileData.length, data: fileData.subarray(0, 200) })).toEqual({ off: 200 });
      expect(await client.call(fs.upload, { name: file, off: 200, data: fileData.subarray(200) })).toEqual({ off: 300 });
      expect(await client.call(fs.status, { name: file })).toEqual({ len: 300 });
      expect(await client.call(fs.download, { name: file, off: 0 })).toEqual({ off: 0, len: 300, data: fileData });
      await client.call(fs.close, {});
    },
  ],
  [
    'fs hash / checksum / supported hashes',
    async ({ client, file, config }) => {
      if (config.fs.hashes.includes('sha256')) {
        const sha = await client.call(fs.hash, { name: file, type: 'sha256' });
        expect(sha).toEqual({ type: 'sha256', len: 300, output: new Uint8Array(createHash('sha256').update(fileData).digest()) });
      } else await expect(client.call(fs.hash, { name: file, type: 'sha256' })).rejects.toBeInstanceOf(SmpDeviceError);
      const crc = await client.call(fs.hash, { name: file, type: 'crc32' });
      expect(crc).toMatchObject({ type: 'crc32', len: 300 });
      expect(typeof crc.output).toBe('number');
      if (!config.fs.supportedHashesCommand) return unsupported(client.call(fs.supportedHashes, {}));
      expect((await client.call(fs.supportedHashes, {})).types).toEqual({ crc32: { format: 0, size: 4 }, sha256: { format: 1, size: 32 } });
    },
  ],
  [
    'shell exec',
    async ({ client }) => expect(await client.call(shell.exec, { argv: ['kernel', 'version'] })).toEqual({ o: '\r\nZephyr version 3.4.99\r\n', ret: 0 }),
  ],
  [
    'enum count / list / single / details',
    async ({ client, config }) => {
      if (!config.enumGroup) {
        await unsupported(client.call(enumeration.list, {}));
        await unsupported(client.call(enumeration.count, {}));
        await unsupported(client.call(enumeration.single, { index: 1 }));
        return unsupported(client.call(enumeration.details, { groups: [0] }));
      }
      const { groups } = await client.call(enumeration.list, {});
      expect(groups).toEqual([0, 1, 2, 3, 8, 9, 10, 63]);
      expect(await client.call(enumeration.count, {})).toEqual({ count: groups.length });
      expect(await client.call(enumeration.single, { index: 1 })).toEqual({ group: 1 });
      const details = await client.call(enumeration.details, { groups: [0, 1] });
      expect(details.groups.map((g) => g.name)).toEqual(['os mgmt', 'img mgmt']);
    },
  ],
  [
    'zephyr basic erase storage',
    async ({ client, config, file }) => {
      if (!config.basicGroup) return unsupported(client.call(basic.eraseStorage, {}));
      await client.call(basic.eraseStorage, {});
      await expect(client.call(fs.status, { name: file })).rejects.toBeInstanceOf(SmpDeviceError);
    },
  ],
];

for (const profile of PROFILES)
  for (const transport of ['udp', 'pty'] as const) {
    describe.runIf(transport === 'udp' || process.platform !== 'win32')(
      `every command through SmpClient against mcumgr-sim in ${profile.name} over ${transport}`,
      () => {
        let sim: SimProcess;
        let link: Link;
        const commandKey = (c: { group: number; id: number; op: number }): string => `${c.group}:${c.id}:${c.op}`;
        const sent = new Set<string>();
        const options = {
          timeoutMs: 5000,
          onTrace: (dir: 'tx' | 'rx', packet: Uint8Array) => {
            if (dir === 'tx') sent.add(commandKey(decodeHeader(packet)));
          },
        };
        beforeAll(async () => {
          const state = tempDir();
          const configFile = join(state, '..', `${state.split('/').pop()}.json`);
          writeFileSync(configFile, JSON.stringify(profile.config));
          const config = resolveConfig(profile.config);
          const common = { config, file: `${config.fs.mounts[0]}/e2e.bin` };
          if (transport === 'udp') {
            sim = await startSim(['--udp', '127.0.0.1:0', '--state', state, '--config', configFile]);
            link = { ...common, sim, client: new SmpClient(await UdpTransport.connect(sim.udp!), options) };
          } else {
            sim = await startSim(['--serial', 'pty', '--state', state, '--config', configFile]);
            const port = await SerialTransport.open({ path: sim.pty! });
            let text = '';
            port.serialPort.on('data', (d: Buffer) => (text += d.toString('latin1')));
            link = { ...common, sim, client: new SmpClient(port, options), console: () => text };
          }
        });
        afterAll(async () => {
          await link?.client.close();
          await sim?.stop();
        });

        for (const [name, step] of steps) it(name, () => step(link));

        it('the table above sent every command of every group', () => {
          expect(allCommands.filter((c) => !sent.has(commandKey(c))).map((c) => c.name)).toEqual([]);
        });
      },
    );
  }
