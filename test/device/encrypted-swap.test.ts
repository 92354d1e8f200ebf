/**
 * The image a swap moves out of the primary slot is stored encrypted again, as MCUboot does for an image flagged
 * encrypted, so the secondary slot holds it as it was uploaded, and a revert or a new test decrypts it again.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SmpClient } from '../../src/client/client.js';
import { imageUpload } from '../../src/client/upload.js';
import { image } from '../../src/groups/index.js';
import { createImage, generateKey, parseImage, publicKeyPem, toHex } from '../../src/image/node.js';
import { ScriptedTransport } from '../helpers/loopback.js';
import { memoryLink, type MemoryLink } from './helpers.js';

const deviceKey = generateKey('ecdsa-p256');
const payload = new Uint8Array(5000).map((_, i) => (i * 7 + 3) & 0xff);
const encrypted = createImage(payload, { version: '1.1.0', padHeader: true, encryption: { key: publicKeyPem(deviceKey) } });

let open: MemoryLink | undefined;
afterEach(async () => {
  await open?.close();
  open = undefined;
});

/** `slot:version`, the running one marked with a star. */
async function slots(link: MemoryLink): Promise<string[]> {
  return (await link.client.call(image.state, {})).images.map((i) => `${i.slot}:${i.version}${i.active ? '*' : ''}`);
}

/** The image bytes in the secondary slot of image 0. */
function secondary(link: MemoryLink): Uint8Array {
  const slot = link.dev.flash.read(1);
  return slot.subarray(0, parseImage(slot).size);
}

describe('an encrypted image swapped out of the primary slot', () => {
  it('is encrypted again in the secondary slot, and a revert and a new test boot it decrypted', async () => {
    open = memoryLink({ config: { encryptionKey: deviceKey } });
    const { client, dev } = open;
    await imageUpload(client, encrypted);
    const uploaded = (await client.call(image.state, {})).images[1]!;
    await client.call(image.setState, { hash: uploaded.hash! });
    await dev.reset();
    expect(await slots(open)).toEqual(['0:1.1.0*', '1:1.0.0']);
    // The 1.1.0 image runs in clear; the unencrypted 1.0.0 went to the secondary slot as it was.
    expect(toHex(dev.flash.read(0).subarray(0, encrypted.length))).not.toBe(toHex(encrypted));

    // Not confirmed: the next reset reverts, and 1.1.0 leaves the primary slot encrypted, as it was uploaded.
    await dev.reset();
    expect(await slots(open)).toEqual(['0:1.0.0*', '1:1.1.0']);
    expect(toHex(secondary(open))).toBe(toHex(encrypted));

    // Tested again, it is decrypted again and runs.
    await client.call(image.setState, { hash: uploaded.hash! });
    await dev.reset();
    expect(await slots(open)).toEqual(['0:1.1.0*', '1:1.0.0']);
    await client.call(image.setState, { confirm: true });

    // A newer encrypted image swaps the confirmed 1.1.0 out: it too is stored as uploaded.
    const newer = createImage(payload, { version: '1.2.0', padHeader: true, encryption: { key: publicKeyPem(deviceKey) } });
    await imageUpload(client, newer);
    await client.call(image.setState, { hash: parseImage(newer).hash! });
    await dev.reset();
    expect(await slots(open)).toEqual(['0:1.2.0*', '1:1.1.0']);
    const out = secondary(open);
    expect(toHex(out)).toBe(toHex(encrypted));
    // And the revert brings 1.1.0 back, decrypted.
    await dev.reset();
    expect(await slots(open)).toEqual(['0:1.1.0*', '1:1.2.0']);
  });

  it('MCUboot serial recovery lists it, checked decrypted', async () => {
    open = memoryLink({ config: { encryptionKey: deviceKey, recovery: {} } });
    const { client, dev } = open;
    await imageUpload(client, encrypted);
    await client.call(image.setState, { hash: parseImage(encrypted).hash! });
    await dev.reset();
    await dev.reset();
    expect(toHex(secondary(open))).toBe(toHex(encrypted));
    dev.enterRecovery();
    const line = new ScriptedTransport((p, tr) => {
      void dev.recovery!.handle(p).then((answers) => answers.forEach((r) => tr.deliver(r)));
    });
    const listed = (await new SmpClient(line, { timeoutMs: 2000 }).call(image.state, {})).images;
    expect(listed.map((i) => `${i.slot}:${i.version}`)).toEqual(['0:1.0.0', '1:1.1.0']);
  });
});
