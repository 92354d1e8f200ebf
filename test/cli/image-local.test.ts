/** `mcumgr image info` and `image verify` on local files (no device). */
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ROOT, run, tempDir } from './helpers.js';

const IMAGES = join(ROOT, 'test/fixtures/mcuboot-images');

describe('image info / verify', () => {
  it('info shows version, hash and every TLV by name', async () => {
    const r = await run(['image', 'info', join(IMAGES, 'ecdsa-p256/security_counter.bin')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/version: 1\.2\.3\n/);
    expect(r.stdout).toMatch(/0x50 SEC_CNT\s+4 bytes \(protected\)/);
    expect(r.stdout).toMatch(/0x22 ECDSA_SIG/);
    const doc = JSON.parse((await run(['--json', 'image', 'info', join(IMAGES, 'ed25519/base.bin')])).stdout) as {
      version: string;
      tlvs: { name: string }[];
    };
    expect(doc.tlvs.map((t) => t.name)).toEqual(['SHA256', 'KEYHASH', 'ED25519']);
  });

  it('verify passes with the right key and fails with the wrong one', async () => {
    const ok = await run(['image', 'verify', '-k', join(IMAGES, 'keys/ecdsa-p256.pub.pem'), join(IMAGES, 'ecdsa-p256/base.bin')]);
    expect(ok).toMatchObject({ code: 0 });
    expect(ok.stdout).toMatch(/signature: valid/);
    const wrong = await run(['image', 'verify', '-k', join(IMAGES, 'keys/ed25519.pub.pem'), join(IMAGES, 'ecdsa-p256/base.bin')]);
    expect(wrong.code).toBe(64);
    expect(wrong.stderr).toMatch(/no signature found for the given ed25519 key/);
  });

  it('info and verify take the Intel HEX file of an image, as image upload does', async () => {
    const { binaryToIhex } = await import('../../src/image/ihex.js');
    const dir = tempDir();
    const hexFile = join(dir, 'zephyr.signed.hex');
    writeFileSync(hexFile, binaryToIhex(0x10000, new Uint8Array(readFileSync(join(IMAGES, 'ecdsa-p256/base.bin')))));
    const [fromBin, fromHex, verified] = await Promise.all([
      run(['--json', 'image', 'info', join(IMAGES, 'ecdsa-p256/base.bin')]),
      run(['--json', 'image', 'info', hexFile]),
      run(['image', 'verify', '-k', join(IMAGES, 'keys/ecdsa-p256.pub.pem'), hexFile]),
    ]);
    expect(fromHex).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(fromHex.stdout)).toEqual(JSON.parse(fromBin.stdout));
    expect(verified).toMatchObject({ code: 0, stderr: '' });
    expect(verified.stdout).toMatch(/signature: valid/);
  });

  it('a tampered image fails verification; a file that is not an image is a usage error', async () => {
    const dir = tempDir();
    const bytes = new Uint8Array(readFileSync(join(IMAGES, 'hash-only/base.bin')));
    bytes[100] ^= 1;
    writeFileSync(join(dir, 'tampered.bin'), bytes);
    const r = await run(['image', 'verify', join(dir, 'tampered.bin')]);
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/invalid hash/);
    const notImage = await run(['image', 'info', join(ROOT, 'package.json')]);
    expect(notImage.code).toBe(64);
    expect(notImage.stderr).toMatch(/not a valid MCUboot image: invalid image magic/);
  });

  it('keygen + sign + verify round trip (ed25519), also from Intel HEX; a tampered signed image fails', async () => {
    const dir = tempDir();
    const key = join(dir, 'k.pem');
    expect((await run(['image', 'keygen', '--type', 'ed25519', '--key', key])).code).toBe(0);
    expect(readFileSync(key, 'utf8')).toMatch(/BEGIN PRIVATE KEY/);
    const out = join(dir, 'signed.bin');
    const s = await run(['image', 'sign', '--key', key, '--version', '1.2.3+4', '--pad-header', '--security-counter', '7', join(IMAGES, 'payload.bin'), out]);
    expect(s).toMatchObject({ code: 0 });
    const v = await run(['image', 'verify', '-k', key, out]);
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/signature: valid/);
    expect(v.stdout).toMatch(/key match: yes/);
    const info = JSON.parse((await run(['--json', 'image', 'info', out])).stdout) as { version: string; tlvs: { name: string }[] };
    expect(info.version).toBe('1.2.3.4');
    expect(info.tlvs.map((t) => t.name)).toContain('SEC_CNT');
    expect(info.tlvs.map((t) => t.name)).toContain('ED25519');
    // Intel HEX input gives the same image.
    const { binaryToIhex } = await import('../../src/image/ihex.js');
    writeFileSync(join(dir, 'payload.hex'), binaryToIhex(0x10000, new Uint8Array(readFileSync(join(IMAGES, 'payload.bin')))));
    const out2 = join(dir, 'signed2.bin');
    expect(
      (await run(['image', 'sign', '--key', key, '--version', '1.2.3+4', '--pad-header', '--security-counter', '7', join(dir, 'payload.hex'), out2])).code,
    ).toBe(0);
    expect((await run(['image', 'verify', '-k', key, out2])).code).toBe(0);
    // Tamper with the payload of the signed image.
    const bytes = new Uint8Array(readFileSync(out));
    bytes[0x40] ^= 0xff;
    writeFileSync(join(dir, 'bad.bin'), bytes);
    const bad = await run(['image', 'verify', '-k', key, join(dir, 'bad.bin')]);
    expect(bad.code).toBe(64);
    expect(bad.stderr).toMatch(/invalid hash/);
    // Signing an unpadded payload without --pad-header is a usage error.
    expect((await run(['image', 'sign', '--version', '1.0.0', join(IMAGES, 'payload.bin'), join(dir, 'x.bin')])).code).toBe(64);
  });
});
