/** `mcumgr image sign -e big`, then `image info` and `image verify` read the big-endian image. */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run, tempDir } from './helpers.js';

describe('image sign -e big', () => {
  it('signs big-endian; info and verify read it', async () => {
    const dir = tempDir();
    const key = join(dir, 'k.pem');
    expect((await run(['image', 'keygen', '-t', 'ecdsa-p256', '-k', key])).code).toBe(0);
    writeFileSync(join(dir, 'app.bin'), randomBytes(3000));
    const out = join(dir, 'app.signed.bin');
    const s = await run(['image', 'sign', '-k', key, '-e', 'big', '-v', '3.4.5+6', '-s', '7', '--pad-header', '-H', '0x200', join(dir, 'app.bin'), out]);
    expect(s.code, s.stderr).toBe(0);
    const info = await run(['--json', 'image', 'info', out]);
    expect(info.code, info.stderr).toBe(0);
    expect(info.stdout).toMatch(/"version": "3\.4\.5\.6"/);
    const v = await run(['image', 'verify', '-k', key, out]);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toMatch(/signature: valid/);
  });
});
