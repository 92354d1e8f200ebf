import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { imageUpload } from '../../src/client/upload.js';
import { loadSimConfig } from '../../src/device/config.js';
import { image } from '../../src/groups/index.js';
import { createImage, generateKey, publicKeyPem } from '../../src/image/node.js';
import { memoryLink, versions, type MemoryLink } from './helpers.js';

type Link = MemoryLink;

const keyedLink = (verificationKey?: string): Link => memoryLink({ config: verificationKey !== undefined ? { verificationKey } : {} });

let open: Link | undefined;
afterEach(async () => {
  await open?.close();
  open = undefined;
});

const payload = new Uint8Array(3000).map((_, i) => (i * 13 + 5) & 0xff);
const key = generateKey('ed25519');
const otherKey = generateKey('ed25519');

/** Uploads, marks for test and resets; returns the version list after the reset. */
async function testUpgrade(link: Link, img: Uint8Array): Promise<string[]> {
  const { client, dev } = link;
  expect(await versions(client)).toEqual(['0:1.0.0:active,confirmed']);
  await imageUpload(client, img);
  const list = await client.call(image.state, {});
  expect(list.images.map((i) => i.version)).toEqual(['1.0.0', '1.1.0']);
  await client.call(image.setState, { hash: list.images[1]!.hash! });
  expect(await versions(client)).toEqual(['0:1.0.0:active,confirmed', '1:1.1.0:pending']);
  await dev.reset();
  return versions(client);
}

describe('MCUboot signature validation at swap time', () => {
  it('swaps in an image signed with the configured key', async () => {
    open = keyedLink(publicKeyPem(key));
    const img = createImage(payload, { version: '1.1.0', key, padHeader: true });
    expect(await testUpgrade(open, img)).toEqual(['0:1.1.0:active', '1:1.0.0:confirmed']);
  });

  it('refuses an image signed with another key; the old image keeps running', async () => {
    open = keyedLink(publicKeyPem(key));
    const img = createImage(payload, { version: '1.1.0', key: otherKey, padHeader: true });
    expect(await testUpgrade(open, img)).toEqual(['0:1.0.0:active,confirmed']);
  });

  it('refuses an unsigned image when a key is configured', async () => {
    open = keyedLink(publicKeyPem(key));
    const img = createImage(payload, { version: '1.1.0', padHeader: true });
    expect(await testUpgrade(open, img)).toEqual(['0:1.0.0:active,confirmed']);
  });

  it('accepts an unsigned image when no key is configured', async () => {
    open = keyedLink();
    const img = createImage(payload, { version: '1.1.0', padHeader: true });
    expect(await testUpgrade(open, img)).toEqual(['0:1.1.0:active', '1:1.0.0:confirmed']);
  });

  it('accepts a signed image when no key is configured (hash only)', async () => {
    open = keyedLink();
    const img = createImage(payload, { version: '1.1.0', key: otherKey, padHeader: true });
    expect(await testUpgrade(open, img)).toEqual(['0:1.1.0:active', '1:1.0.0:confirmed']);
  });

  it('--config reads "verificationKeyFile" relative to the config file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcumgr-sim-cfg-'));
    const pem = publicKeyPem(key);
    writeFileSync(join(dir, 'key.pem'), pem);
    writeFileSync(join(dir, 'device.json'), JSON.stringify({ seedVersion: '1.0.0', verificationKeyFile: 'key.pem' }));
    const cfg = loadSimConfig(join(dir, 'device.json'));
    expect(cfg).toEqual({ seedVersion: '1.0.0', verificationKey: pem });
  });
});
