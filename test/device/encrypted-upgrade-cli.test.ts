/**
 * Encrypted images made by `mcumgr image sign -E` on a virtual device that holds the private encryption key
 * (`encryptionKeyFile`) and checks signatures, all through the real executables.
 */
import { createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run as mcumgr, type ListedSlot } from '../cli/helpers.js';
import { startSim, tempDir, type SimProcess } from './helpers.js';

describe('encrypted images on a device with an encryption key', () => {
  const dir = tempDir();
  const signKey = join(dir, 'sign.pem');
  const encPriv = join(dir, 'enc-x25519.pem');
  const encPub = join(dir, 'enc-x25519.pub.pem');
  const otherPub = join(dir, 'other.pub.pem');
  let sim: SimProcess;
  let conn: string[];
  let resets = 0;

  const list = async (): Promise<ListedSlot[]> => {
    const r = await mcumgr([...conn, '--json', 'image', 'list']);
    expect(r.code, r.stderr).toBe(0);
    return (JSON.parse(r.stdout) as { images: ListedSlot[] }).images;
  };

  /** Uploads, marks for test, resets, waits for the sim's boot report; returns it and the slots after the boot. */
  const tryUpgrade = async (file: string): Promise<{ report: string; slots: ListedSlot[] }> => {
    expect((await mcumgr([...conn, 'image', 'upload', file])).code).toBe(0);
    const uploaded = (await list()).find((i) => i.slot === 1)!;
    expect((await mcumgr([...conn, 'image', 'test', uploaded.hash])).code).toBe(0);
    expect((await mcumgr([...conn, 'reset'])).code).toBe(0);
    resets++;
    while ((sim.stderr().match(/^reset: .*$/gm) ?? []).length < resets) await new Promise((r) => sim.proc.stderr!.once('data', r));
    expect((await mcumgr([...conn, '-t', '1', '-r', '10', 'echo', 'back'])).stdout).toBe('back\n');
    return {
      report: sim
        .stderr()
        .match(/^reset: .*$/gm)!
        .at(-1)!,
      slots: await list(),
    };
  };

  beforeAll(async () => {
    expect((await mcumgr(['image', 'keygen', '--type', 'ed25519', '--key', signKey])).code).toBe(0);
    const pair = generateKeyPairSync('x25519');
    writeFileSync(encPriv, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(encPub, pair.publicKey.export({ type: 'spki', format: 'pem' }));
    writeFileSync(otherPub, createPublicKey(generateKeyPairSync('x25519').privateKey).export({ type: 'spki', format: 'pem' }));
    writeFileSync(join(dir, 'app.bin'), randomBytes(20_000));
    writeFileSync(join(dir, 'sim.json'), JSON.stringify({ verificationKeyFile: 'sign.pem', encryptionKeyFile: 'enc-x25519.pem' }));
    sim = await startSim(['--udp', '127.0.0.1:0', '--state', join(dir, 'state'), '--config', join(dir, 'sim.json')]);
    conn = ['--conntype', 'udp', '--connstring', sim.udp!];
  });
  afterAll(() => sim?.stop());

  const sign = async (version: string, encKey: string, extra: string[] = []) => {
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
  };

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
    expect((await mcumgr([...conn, 'image', 'confirm'])).code).toBe(0);
  });
});
