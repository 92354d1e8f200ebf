/**
 * Encrypted images made by `mcumgr image sign -E` on a virtual device that holds the private encryption key
 * (`encryptionKeyFile`) and checks signatures, all through the real executables.
 */
import { createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run as mcumgr } from '../cli/helpers.js';
import { tempDir } from './helpers.js';
import { startDevice, upgradeOn, type SimDevice } from './sim-upgrade.js';

/** Signs `dir`/app.bin with `signKey`, encrypted for `encKey`, as `dir`/app-VERSION.bin. */
async function signEncrypted(dir: string, signKey: string, version: string, encKey: string, extra: string[]): Promise<string> {
  const out = join(dir, `app-${version}.bin`);
  const r = await mcumgr([
    'image',
    'sign',
    '-k',
    signKey,
    '-E',
    encKey,
    '--version',
    version,
    '--pad-header',
    '-H',
    '0x200',
    ...extra,
    join(dir, 'app.bin'),
    out,
  ]);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/encrypted: yes/);
  return out;
}

describe('encrypted images on a device with an encryption key', () => {
  const dir = tempDir();
  const signKey = join(dir, 'sign.pem');
  const encPriv = join(dir, 'enc-x25519.pem');
  const encPub = join(dir, 'enc-x25519.pub.pem');
  const otherPub = join(dir, 'other.pub.pem');
  let device: SimDevice;
  const tryUpgrade = (file: string) => upgradeOn(device, file);

  beforeAll(async () => {
    expect((await mcumgr(['image', 'keygen', '--type', 'ed25519', '--key', signKey])).code).toBe(0);
    const pair = generateKeyPairSync('x25519');
    writeFileSync(encPriv, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(encPub, pair.publicKey.export({ type: 'spki', format: 'pem' }));
    writeFileSync(otherPub, createPublicKey(generateKeyPairSync('x25519').privateKey).export({ type: 'spki', format: 'pem' }));
    writeFileSync(join(dir, 'app.bin'), randomBytes(20_000));
    device = await startDevice(dir, { verificationKeyFile: 'sign.pem', encryptionKeyFile: 'enc-x25519.pem' });
  });
  afterAll(() => device?.sim.stop());

  const sign = (version: string, encKey: string, extra: string[] = []) => signEncrypted(dir, signKey, version, encKey, extra);

  it('image verify needs the private key to check an encrypted image, and says so', async () => {
    const file = await sign('1.0.9', encPub);
    const without = await mcumgr(['image', 'verify', '-k', signKey, file]);
    expect(without.code).toBe(64);
    expect(without.stderr).toMatch(/invalid hash.*the image is encrypted: give --decrypt-key/);
    const withKey = await mcumgr(['image', 'verify', '-k', signKey, '--decrypt-key', encPriv, file]);
    expect(withKey.code).toBe(0);
    expect(withKey.stdout).toMatch(/signature: valid/);
    const wrongKey = await mcumgr(['image', 'verify', '--decrypt-key', signKey, file]);
    expect(wrongKey.code).toBe(64);
    expect(wrongKey.stderr).toMatch(/cannot decrypt/);
  });

  it('the device refuses an image encrypted for another key, with the reason, and keeps the old image', async () => {
    const { report, slots } = await tryUpgrade(await sign('1.1.0', otherPub));
    expect(report).toMatch(/image 0 rejected \(cannot decrypt the image: the ENC TLV's MAC does not match/);
    expect(slots.find((i) => i.slot === 0)).toMatchObject({ version: '1.0.0', active: true });
  });

  it('the device decrypts an image encrypted for its key (AES-256, HMAC-SHA512) at swap time and boots it', async () => {
    const file = await sign('1.2.0', encPub, ['--encrypt-keylen', '256', '--hmac-sha', '512']);
    const { report, slots } = await tryUpgrade(file);
    expect(report).toMatch(/image 0 test/);
    expect(slots.find((i) => i.slot === 0)).toMatchObject({ version: '1.2.0', active: true });
    expect((await mcumgr([...device.conn, 'image', 'confirm'])).code).toBe(0);
  });
});

describe('AES key-wrap encrypted images on a device with the shared key (ENC_KW)', () => {
  const dir = tempDir();
  const signKey = join(dir, 'sign.pem');
  const kek = join(dir, 'kek.bin');
  const otherKek = join(dir, 'other-kek.bin');
  let device: SimDevice;

  beforeAll(async () => {
    expect((await mcumgr(['image', 'keygen', '--type', 'ecdsa-p256', '--key', signKey])).code).toBe(0);
    writeFileSync(kek, randomBytes(16));
    writeFileSync(otherKek, randomBytes(16));
    writeFileSync(join(dir, 'app.bin'), randomBytes(20_000));
    device = await startDevice(dir, { verificationKeyFile: 'sign.pem', encryptionKeyFile: 'kek.bin' });
  });
  afterAll(() => device?.sim.stop());

  const sign = (version: string, encKey: string) => signEncrypted(dir, signKey, version, encKey, ['--encrypt-keylen', '256']);

  it('image verify --decrypt-key takes the raw key file', async () => {
    const file = await sign('1.0.9', kek);
    expect((await mcumgr(['image', 'verify', '-k', signKey, file])).code).toBe(64);
    const withKey = await mcumgr(['image', 'verify', '-k', signKey, '--decrypt-key', kek, file]);
    expect(withKey.code, withKey.stderr).toBe(0);
    expect(withKey.stdout).toMatch(/signature: valid/);
    const wrongKey = await mcumgr(['image', 'verify', '--decrypt-key', otherKek, file]);
    expect(wrongKey.code).toBe(64);
    expect(wrongKey.stderr).toMatch(/cannot decrypt.*does not unwrap with this key/);
  });

  it('the device refuses an image wrapped under another key, then unwraps and boots one for its key', async () => {
    const refused = await upgradeOn(device, await sign('1.1.0', otherKek));
    expect(refused.report).toMatch(/image 0 rejected \(cannot decrypt the image: .*does not unwrap with this key/);
    expect(refused.slots.find((i) => i.slot === 0)).toMatchObject({ version: '1.0.0', active: true });
    const { report, slots } = await upgradeOn(device, await sign('1.2.0', kek));
    expect(report).toMatch(/image 0 test/);
    expect(slots.find((i) => i.slot === 0)).toMatchObject({ version: '1.2.0', active: true });
  });
});
