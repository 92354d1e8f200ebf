/**
 * `mcumgr --conntype ble` in-process up to noble's boundary: the CLI's own code (connstring, scan filter by
 * name or address, connect, ATT MTU, service discovery, subscribe, the BLE transport) runs against a
 * noble-shaped object whose peripherals are virtual devices behind SimulatedGattPeer.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { VirtualDevice } from '../../src/device/device.js';
import { createImage, parseImage } from '../../src/image/node.js';
import { useNobleModule } from '../../src/node/ble-noble.js';
import { tempDir } from '../device/helpers.js';
import { FakeNoble, FakePeripheral } from './fake-noble.js';
import { hex, type RunResult } from './helpers.js';

/** Runs the mcumgr command line in this process, capturing what it writes. */
async function mcumgr(...argv: string[]): Promise<RunResult> {
  const out = { stdout: '', stderr: '' };
  const writes = { stdout: process.stdout.write, stderr: process.stderr.write };
  const capture = (key: 'stdout' | 'stderr') =>
    ((chunk: string | Uint8Array) => {
      out[key] += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
      return true;
    }) as typeof process.stdout.write;
  process.stdout.write = capture('stdout');
  process.stderr.write = capture('stderr');
  try {
    const code = await main(argv);
    return { code, ...out };
  } finally {
    process.stdout.write = writes.stdout;
    process.stderr.write = writes.stderr;
  }
}

describe('mcumgr --conntype ble through noble', () => {
  let device: VirtualDevice;
  let target: FakePeripheral;
  let bystander: FakePeripheral;
  let noSmp: FakePeripheral;
  let noble: FakeNoble;

  beforeAll(async () => {
    device = await VirtualDevice.create({ stateDir: tempDir() });
    target = new FakePeripheral({ address: 'C0:FF:EE:00:00:01', localName: 'smp-sim', device, attMtu: 185 });
    bystander = new FakePeripheral({ address: 'AA:BB:CC:DD:EE:01', localName: 'headphones' });
    noSmp = new FakePeripheral({ address: 'AA:BB:CC:DD:EE:02', localName: 'thermometer', device, smp: false });
    noble = new FakeNoble([bystander, noSmp, target]);
    useNobleModule(noble);
  });
  afterEach(() => useNobleModule(noble));
  afterAll(async () => {
    useNobleModule(undefined);
    await device.close();
  });

  it('echo, image list and a small image upload, finding the device by name, by address and by --name (over peer_name)', async () => {
    expect(await mcumgr('--conntype', 'ble', '--connstring', 'peer_name=smp-sim', 'echo', 'over the air')).toEqual({
      code: 0,
      stdout: 'over the air\n',
      stderr: '',
    });

    const list = await mcumgr('--conntype', 'ble', '--connstring', 'peer_id=c0-ff-ee-00-00-01,ctlr_name=hci0,own_addr_type=random', 'image', 'list');
    expect(list).toMatchObject({ code: 0, stderr: '' });
    expect(list.stdout).toMatch(
      /^Images:\n image=0 slot=0\n {4}version: 1\.0\.0\n {4}bootable: true\n {4}flags: active confirmed\n {4}hash: [0-9a-f]{64}\nSplit status: N\/A \(0\)\n$/,
    );

    const bytes = createImage(new Uint8Array(randomBytes(3000)), { version: '1.3.0', padHeader: true });
    const file = join(tempDir(), 'app.bin');
    writeFileSync(file, bytes);
    expect(await mcumgr('--conntype', 'ble', '--connstring', 'peer_name=headphones', '--name', 'smp-sim', 'image', 'upload', file)).toEqual({
      code: 0,
      stdout: 'Done\n',
      stderr: '',
    });
    // Requests were cut to the ATT MTU: the link refuses longer writes.
    expect(target.peer!.counters.rejectedWrites).toBe(0);
    expect(target.peer!.counters.writes).toBeGreaterThan(bytes.length / (185 - 3));

    const doc = JSON.parse((await mcumgr('--conntype', 'ble', '--connstring', 'peer_name=smp-sim', '--json', 'image', 'list')).stdout) as {
      images: { slot: number; hash: string }[];
    };
    expect(doc.images.find((i) => i.slot === 1)?.hash).toBe(hex(parseImage(bytes).hash!));

    expect(target.connects).toBe(4);
    expect(bystander.connects).toBe(0);
    expect(noble.scans).toBe(4);
  });

  it('a device that does not advertise, one that cannot be reached, one without SMP, and no adapter: transport errors, exit 3', async () => {
    const missing = await mcumgr('--conntype', 'ble', '--connstring', 'peer_name=nope,conn_timeout=0.2', 'echo', 'x');
    expect(missing).toEqual({ code: 3, stdout: '', stderr: 'Error: BLE: no device named "nope" found within 200 ms (is it advertising and in range?)\n' });
    const noService = await mcumgr('--conntype', 'ble', '--connstring', 'peer_name=thermometer', '--json', 'echo', 'x');
    expect(noService.code).toBe(3);
    expect(JSON.parse(noService.stderr)).toEqual({
      error: { kind: 'transport', message: "BLE: thermometer has no SMP characteristic (is mcumgr's Bluetooth transport enabled in its build?)" },
    });

    expect(await mcumgr('--conntype', 'ble', '--connstring', 'peer_name=headphones', 'echo', 'x')).toEqual({
      code: 3,
      stdout: '',
      stderr: 'Error: BLE: connecting to headphones failed: connection failed to be established\n',
    });

    useNobleModule(new FakeNoble([target], 'unsupported'));
    const noAdapter = await mcumgr('--conntype', 'ble', '--connstring', 'peer_name=smp-sim', 'echo', 'x');
    expect(noAdapter.code).toBe(3);
    expect(noAdapter.stderr).toMatch(/^Error: BLE: no Bluetooth LE adapter found \(noble reports "unsupported"/);
  });

  it('image upload reconnects after the link drops mid-upload and resumes where the device stopped', async () => {
    const device2 = await VirtualDevice.create({ stateDir: tempDir() });
    const flaky = new FakePeripheral({ address: 'C0:FF:EE:00:00:02', localName: 'flaky', device: device2, attMtu: 185, dropFirstLinkAfterNotifications: 12 });
    useNobleModule(new FakeNoble([flaky]));
    try {
      const bytes = createImage(new Uint8Array(randomBytes(40_000)), { version: '1.4.0', padHeader: true });
      const file = join(tempDir(), 'app.bin');
      writeFileSync(file, bytes);
      const up = await mcumgr('--conntype', 'ble', '--connstring', 'peer_name=flaky', 'image', 'upload', file);
      expect(up.code, up.stderr).toBe(0);
      expect(up.stdout).toBe('Done\n');
      expect(up.stderr).toMatch(
        /^The link was lost \(BLE peer disconnected[^\n]*\); reconnecting to resume the upload\nResuming the upload at offset [1-9]\d* /,
      );
      expect(flaky.connects).toBe(2);
      // --jsonl: the same story as events, the reconnect among them and the result last.
      const device3 = await VirtualDevice.create({ stateDir: tempDir() });
      const flaky3 = new FakePeripheral({
        address: 'C0:FF:EE:00:00:04',
        localName: 'flaky3',
        device: device3,
        attMtu: 185,
        dropFirstLinkAfterNotifications: 12,
      });
      useNobleModule(new FakeNoble([flaky3]));
      try {
        const jsonl = await mcumgr('--conntype', 'ble', '--connstring', 'peer_name=flaky3', '--jsonl', 'image', 'upload', file);
        expect(jsonl).toMatchObject({ code: 0, stderr: '' });
        const events = jsonl.stdout
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as { event: string });
        expect(events.map((e) => e.event).filter((e) => e !== 'progress' && e !== 'retry')).toEqual(['start', 'reconnect', 'resume', 'result']);
        expect(events.find((e) => e.event === 'reconnect')).toMatchObject({ operation: 'upload', reason: expect.stringMatching(/BLE peer disconnected/) });
      } finally {
        await device3.close();
        useNobleModule(new FakeNoble([flaky]));
      }
      const doc = JSON.parse((await mcumgr('--conntype', 'ble', '--connstring', 'peer_name=flaky', '--json', 'image', 'list')).stdout) as {
        images: { slot: number; hash: string }[];
      };
      expect(doc.images.find((i) => i.slot === 1)?.hash).toBe(hex(parseImage(bytes).hash!));
    } finally {
      await device2.close();
    }
  });

  it('ble scan lists the devices advertising the SMP service, strongest first; not the others', async () => {
    const far = new FakePeripheral({ address: 'C0:FF:EE:00:00:03', localName: 'smp-far', device, rssi: -88 });
    useNobleModule(new FakeNoble([bystander, far, noSmp, target]));
    const r = await mcumgr('ble', 'scan', '--duration', '0.5');
    expect(r).toEqual({ code: 0, stderr: '', stdout: 'c0:ff:ee:00:00:01  -60 dBm  smp-sim\nc0:ff:ee:00:00:03  -88 dBm  smp-far\n' });
    const doc = JSON.parse((await mcumgr('--json', 'ble', 'scan', '--duration', '0.5')).stdout) as { devices: unknown[] };
    expect(doc.devices).toEqual([
      { id: 'c0ffee000001', address: 'c0:ff:ee:00:00:01', name: 'smp-sim', rssi: -60 },
      { id: 'c0ffee000003', address: 'c0:ff:ee:00:00:03', name: 'smp-far', rssi: -88 },
    ]);
    useNobleModule(new FakeNoble([bystander]));
    expect(await mcumgr('ble', 'scan', '--duration', '0.2')).toEqual({ code: 0, stderr: '', stdout: 'No device advertising the SMP service found in 0.2 s\n' });
    useNobleModule(new FakeNoble([target], 'unsupported'));
    const noAdapter = await mcumgr('ble', 'scan', '--duration', '0.2');
    expect(noAdapter.code).toBe(3);
    expect(noAdapter.stderr).toMatch(/no Bluetooth LE adapter found/);
  });
});
