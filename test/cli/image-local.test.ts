/** `mcumgr image info` and `image verify` on local files (no device). */
import { join } from 'node:path';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, run, tempDir } from './helpers.js';

const IMAGES = join(ROOT, 'test/fixtures/mcuboot-images');

describe('image info / verify', () => {
  beforeAll(() => {
    // `npm test` builds first; build here only when run on its own.
    if (!existsSync(join(ROOT, 'dist/cli/image-local.js'))) execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: ROOT });
  });

  it('info shows version, hash and every TLV by name', async () => {
    const r = await run(['image', 'info', join(IMAGES, 'ecdsa-p256/security_counter.bin')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/version: 1\.2\.3\n/);
    expect(r.stdout).toMatch(/0x50 SEC_CNT\s+4 bytes \(protected\)/);
    expect(r.stdout).toMatch(/0x22 ECDSA_SIG/);
    const doc = JSON.parse((await run(['--json', 'image', 'info', join(IMAGES, 'ed25519/base.bin')])).stdout) as {
      version: string; tlvs: { name: string }[];
    };
    expect(doc.tlvs.map((t) => t.name)).toEqual(['SHA256', 'KEYHASH', 'ED25519']);
  });

  it('verify passes with the right key and fails with the wrong one', async () => {
    const ok = await run(['image', 'verify', '-k', join(IMAGES, 'keys/ecdsa-p256.pub.pem'), join(IMAGES, 'ecdsa-p256/base.bin')]);
    expect(ok).toMatchObject({ code: 0 });
    expect(ok.stdout).toMatch(/signature: valid/);
    const wrong = await run(['image', 'verify', '-k', join(IMAGES, 'keys/ed25519.pub.pem'), join(IMAGES, 'ecdsa-p256/base.bin')]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/no signature found for the given ed25519 key/);
  });

  it('a tampered image fails verification; a file that is not an image is a usage error', async () => {
    const dir = tempDir();
    const bytes = new Uint8Array(readFileSync(join(IMAGES, 'hash-only/base.bin')));
    bytes[100] ^= 1;
    writeFileSync(join(dir, 'tampered.bin'), bytes);
    const r = await run(['image', 'verify', join(dir, 'tampered.bin')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/invalid hash/);
    const notImage = await run(['image', 'info', join(ROOT, 'package.json')]);
    expect(notImage.code).toBe(64);
    expect(notImage.stderr).toMatch(/not a valid MCUboot image: invalid image magic/);
  });
});
