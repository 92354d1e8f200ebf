/** Two updatable images (`images: 2`): each image's upgrade cycle over a real UDP socket, the other image untouched. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SmpClient } from '../../src/client/client.js';
import { imageUpload } from '../../src/client/upload.js';
import type { VirtualDevice } from '../../src/device/device.js';
import { buildImage } from '../../src/device/firmware.js';
import { UdpSmpServer } from '../../src/device/udp-server.js';
import { image } from '../../src/groups/index.js';
import { UdpTransport } from '../../src/node/udp.js';
import { makeDevice, resetAndWait, versions } from './helpers.js';

describe('multi-image device (images: 2) over UDP', () => {
  let dev: VirtualDevice;
  let udp: UdpSmpServer;
  let client: SmpClient;

  beforeAll(async () => {
    dev = makeDevice({ config: { images: 2 } });
    udp = await UdpSmpServer.listen(dev.server, { host: '127.0.0.1', port: 0 });
    client = new SmpClient(await UdpTransport.connect(udp.address), { timeoutMs: 3000 });
  });
  afterAll(async () => {
    await client.close();
    await udp.close();
    await dev.close();
  });

  const hashOf = async (img: number, slot: number): Promise<Uint8Array> =>
    (await client.call(image.state, {})).images.find((i) => i.image === img && i.slot === slot)!.hash!;

  /** Uploads `version` for image 1 and returns its hash as the device reports it. */
  const uploadImage1 = async (version: string): Promise<Uint8Array> => {
    const img = buildImage({ version, image: 1 });
    expect(await imageUpload(client, img, { image: 1 })).toMatchObject({ bytes: img.length });
    return hashOf(1, 1);
  };

  it('lists every slot with "image" and "slot"; only image 0 is active (the running application)', async () => {
    expect(await versions(client)).toEqual(['0:0:1.0.0:active,confirmed', '1:0:1.0.0:confirmed']);
    expect(Buffer.from(await hashOf(0, 0)).equals(Buffer.from(await hashOf(1, 0)))).toBe(false);
  });

  it('slot info reports both images', async () => {
    const info = await client.call(image.slotInfo, {});
    expect(info.images.map((i) => [i.image, i.slots.map((s) => s.slot), i.slots[1]!.upload_image_id])).toEqual([
      [0, [0, 1], 0],
      [1, [0, 1], 1],
    ]);
  });

  it('upload to image 1 lands in its secondary slot; test by hash; reset swaps image 1 only; next reset reverts it', async () => {
    const hash = await uploadImage1('1.1.0');
    expect(await versions(client)).toEqual(['0:0:1.0.0:active,confirmed', '1:0:1.0.0:confirmed', '1:1:1.1.0:']);
    await client.call(image.setState, { hash });
    expect(await versions(client)).toEqual(['0:0:1.0.0:active,confirmed', '1:0:1.0.0:confirmed', '1:1:1.1.0:pending']);
    await resetAndWait(client, dev);
    expect(await versions(client)).toEqual(['0:0:1.0.0:active,confirmed', '1:0:1.1.0:', '1:1:1.0.0:confirmed']);
    await resetAndWait(client, dev);
    expect(await versions(client)).toEqual(['0:0:1.0.0:active,confirmed', '1:0:1.0.0:confirmed', '1:1:1.1.0:']);
  });

  it("erases image 1's secondary slot, refuses its primary", async () => {
    await expect(client.call(image.erase, { slot: 2 })).rejects.toThrow();
    await client.call(image.erase, { slot: 3 });
    expect(await versions(client)).toEqual(['0:0:1.0.0:active,confirmed', '1:0:1.0.0:confirmed']);
  });

  it('test, reset, then confirm by the hash of the running image 1 keeps it', async () => {
    const hash = await uploadImage1('1.1.0');
    await client.call(image.setState, { hash });
    await resetAndWait(client, dev);
    await client.call(image.setState, { hash, confirm: true });
    expect(await versions(client)).toEqual(['0:0:1.0.0:active,confirmed', '1:0:1.1.0:confirmed', '1:1:1.0.0:']);
    await resetAndWait(client, dev);
    expect(await versions(client)).toEqual(['0:0:1.0.0:active,confirmed', '1:0:1.1.0:confirmed', '1:1:1.0.0:']);
  });

  it('confirm with the hash of the new image 1 is a permanent upgrade; a broken image 1 is refused', async () => {
    await client.call(image.erase, { slot: 3 });
    const hash = await uploadImage1('1.2.0');
    await client.call(image.setState, { hash, confirm: true });
    expect(await versions(client)).toEqual(['0:0:1.0.0:active,confirmed', '1:0:1.1.0:confirmed', '1:1:1.2.0:pending,permanent']);
    await resetAndWait(client, dev);
    expect(await versions(client)).toEqual(['0:0:1.0.0:active,confirmed', '1:0:1.2.0:confirmed', '1:1:1.1.0:']);

    await client.call(image.erase, { slot: 3 });
    const bad = buildImage({ version: '1.3.0', image: 1, badHash: true });
    await imageUpload(client, bad, { image: 1 });
    await client.call(image.setState, { hash: await hashOf(1, 1), confirm: true });
    await resetAndWait(client, dev);
    expect(await versions(client)).toEqual(['0:0:1.0.0:active,confirmed', '1:0:1.2.0:confirmed']);
  });
});
