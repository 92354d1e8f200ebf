/** MCUboot's direct-XIP (with and without revert) and RAM-load on the virtual device: the newest valid slot runs where it lies. */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { SmpClient } from '../../src/client/client.js';
import type { VirtualDevice } from '../../src/device/device.js';
import { buildImage } from '../../src/device/firmware.js';
import { McubootMode } from '../../src/groups/bootloader-modes.js';
import { image } from '../../src/groups/index.js';
import { createImage } from '../../src/image/node.js';
import { createMemoryPair } from '../../src/transport/memory.js';
import { makeDevice, resetAndWait, versions } from './helpers.js';

/** Slot s lies at 0x10000 + s × 0x40000 with the default configuration. */
const SLOT_OFFSET = [0x10000, 0x50000];

function romFixed(version: string, slot: number): Uint8Array {
  return createImage(new Uint8Array(256).fill(slot + 1), { version, headerSize: 0x200, padHeader: true, loadAddress: SLOT_OFFSET[slot]!, romFixed: true });
}

async function upload(client: SmpClient, img: Uint8Array): Promise<void> {
  const sha = new Uint8Array(createHash('sha256').update(img).digest());
  let rsp = await client.call(image.upload, { image: 0, off: 0, len: img.length, sha, data: img.subarray(0, 400) });
  while (rsp.off < img.length) rsp = await client.call(image.upload, { off: rsp.off, data: img.subarray(rsp.off, rsp.off + 400) });
}

const hashOf = async (client: SmpClient, slot: number) => (await client.call(image.state, {})).images.find((i) => i.slot === slot)!.hash!;

let dev: VirtualDevice | undefined;
afterEach(async () => {
  await dev?.close();
  dev = undefined;
});

function connect(mode: number): SmpClient {
  dev = makeDevice({ config: { mcubootMode: mode } });
  const [a, b] = createMemoryPair(2048);
  dev.server.attach(b);
  return new SmpClient(a, { timeoutMs: 3000 });
}

describe.each([
  ['direct-XIP', McubootMode.DIRECT_XIP],
  ['RAM-load', McubootMode.RAM_LOAD],
])('%s', (_name, mode) => {
  it('uploads go to the slot not running; the newest valid slot boots, and the next upload goes to the other slot', async () => {
    const client = connect(mode);
    await upload(client, romFixed('2.0.0', 1));
    expect(await versions(client)).toEqual(['0:1.0.0:active,confirmed', '1:2.0.0:']);
    await resetAndWait(client, dev!);
    expect(dev!.bootEvents).toEqual([{ image: 0, action: 'perm', slot: 1 }]);
    expect(await versions(client)).toEqual(['0:1.0.0:', '1:2.0.0:active,confirmed']);
    await upload(client, romFixed('3.0.0', 0));
    expect(await versions(client)).toEqual(['0:3.0.0:', '1:2.0.0:active,confirmed']);
    await resetAndWait(client, dev!);
    expect(await versions(client)).toEqual(['0:3.0.0:active,confirmed', '1:2.0.0:']);
  });

  it('erases an image with a bad hash at boot: the running image stays', async () => {
    const client = connect(mode);
    await upload(client, buildImage({ version: '2.0.1', badHash: true }));
    await resetAndWait(client, dev!);
    expect(await versions(client)).toEqual(['0:1.0.0:active,confirmed']);
  });
});

describe('the ROM-fixed address', () => {
  it('direct-XIP passes over an image linked for the other slot; RAM-load copies it to RAM and boots it', async () => {
    let client = connect(McubootMode.DIRECT_XIP);
    await upload(client, romFixed('2.0.0', 0));
    await resetAndWait(client, dev!);
    expect(dev!.bootEvents).toEqual([{ image: 0, action: 'rejected', slot: 0 }]);
    expect(await versions(client)).toEqual(['0:1.0.0:active,confirmed', '1:2.0.0:']);
    await dev!.close();

    client = connect(McubootMode.RAM_LOAD);
    await upload(client, romFixed('2.0.0', 0));
    await resetAndWait(client, dev!);
    expect(await versions(client)).toEqual(['0:1.0.0:', '1:2.0.0:active,confirmed']);
  });
});

describe('direct-XIP with revert', () => {
  it('an unmarked upload is erased at boot; a tested one boots once and reverts unless confirmed; a confirmed one stays', async () => {
    const client = connect(McubootMode.DIRECT_XIP_REVERT);
    expect(await versions(client)).toEqual(['0:1.0.0:active,confirmed']);
    await upload(client, romFixed('2.0.0', 1));
    await resetAndWait(client, dev!);
    expect(await versions(client)).toEqual(['0:1.0.0:active,confirmed']);

    await upload(client, romFixed('2.0.0', 1));
    await client.call(image.setState, { hash: await hashOf(client, 1), confirm: false });
    expect(await versions(client)).toEqual(['0:1.0.0:active,confirmed', '1:2.0.0:pending']);
    await resetAndWait(client, dev!);
    expect(await versions(client)).toEqual(['0:1.0.0:', '1:2.0.0:active']);
    await resetAndWait(client, dev!);
    expect(dev!.bootEvents).toEqual([{ image: 0, action: 'revert', slot: 0 }]);
    expect(await versions(client)).toEqual(['0:1.0.0:active,confirmed']);

    await upload(client, romFixed('2.0.0', 1));
    await client.call(image.setState, { hash: await hashOf(client, 1), confirm: false });
    await resetAndWait(client, dev!);
    await expect(client.call(image.setState, { hash: await hashOf(client, 1), confirm: false })).rejects.toThrow();
    await client.call(image.setState, { confirm: true });
    expect(await versions(client)).toEqual(['0:1.0.0:', '1:2.0.0:active,confirmed']);
    await resetAndWait(client, dev!);
    expect(await versions(client)).toEqual(['0:1.0.0:', '1:2.0.0:active,confirmed']);

    // An unmarked newer image in slot 0 is erased at boot; slot 1 still runs and the device does not fall into recovery.
    await upload(client, romFixed('3.0.0', 0));
    await resetAndWait(client, dev!);
    expect(dev!.recovery?.active).toBe(false);
    expect(await versions(client)).toEqual(['1:2.0.0:active,confirmed']);
  });
});
