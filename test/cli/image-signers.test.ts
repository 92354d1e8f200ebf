/** `mcumgr image sign` with keys that are not on disk: an external command, PKCS#11 (SoftHSM2), imgtool's offline two-step flow. */
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, execFileSync } from 'node:child_process';
import { ROOT, run, tempDir } from './helpers.js';
import { createToken, softhsmMissing, SOFTHSM_MODULE, type Token } from '../helpers/softhsm.js';

const IMAGES = join(ROOT, 'test/fixtures/mcuboot-images');
const KEY = join(IMAGES, 'keys/ecdsa-p256.pem');
const PUB = join(IMAGES, 'keys/ecdsa-p256.pub.pem');
const PAYLOAD = join(IMAGES, 'payload_h20.bin');
const SIGN = ['image', 'sign', '--align', '4', '-v', '1.2.3', '-H', '0x20', '-S', '0x8000'];

/** A signer script: OpenSSL signs the digest on stdin with the private key file, DER on stdout. */
function opensslSigner(dir: string, key: string, extra = ''): string {
  const script = join(dir, 'sign.sh');
  writeFileSync(script, `#!/bin/sh\n${extra}\nexec openssl pkeyutl -sign -inkey "${key}" -pkeyopt digest:sha256\n`);
  chmodSync(script, 0o755);
  return script;
}

describe('--signer COMMAND', () => {
  it('signs with an external command; the image verifies; the command sees the key type and hash', async () => {
    const dir = tempDir();
    const out = join(dir, 'signed.bin');
    const script = opensslSigner(dir, KEY, `echo "$MCUMGR_SIGN_KEY_TYPE $MCUMGR_SIGN_HASH $MCUMGR_SIGN_INPUT" > "${dir}/env.txt"`);
    const r = await run([...SIGN, '-k', PUB, '--signer', script, PAYLOAD, out]);
    expect(r).toMatchObject({ code: 0 });
    expect(r.stdout).toMatch(/signed: yes \(ecdsa-p256\)/);
    expect(readFileSync(join(dir, 'env.txt'), 'utf8')).toBe('ecdsa-p256 sha256 digest\n');
    const v = await run(['image', 'verify', '-k', PUB, out]);
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/signature: valid/);
    // Same signed region as imgtool's image of the same options.
    const ref = readFileSync(join(IMAGES, 'ecdsa-p256/base.bin'));
    expect(readFileSync(out).subarray(0, 0x2820).equals(ref.subarray(0, 0x2820))).toBe(true);
  });

  it('a base64 answer (the --sig-out form) and the payload as input work too', async () => {
    const dir = tempDir();
    const script = join(dir, 'sign.sh');
    writeFileSync(script, `#!/bin/sh\nopenssl dgst -sha256 -sign "${KEY}" | base64\n`);
    chmodSync(script, 0o755);
    const out = join(dir, 'signed.bin');
    expect(await run([...SIGN, '-k', PUB, '--signer', script, '--signer-input', 'payload', PAYLOAD, out])).toMatchObject({ code: 0 });
    expect((await run(['image', 'verify', '-k', PUB, out])).code).toBe(0);
  });

  it('a failing command, garbage, a signature by another key: exit 2, a clear message, no output file', async () => {
    const dir = tempDir();
    const out = join(dir, 'signed.bin');
    const fail = await run([...SIGN, '-k', PUB, '--signer', 'echo "token locked" >&2; exit 5', PAYLOAD, out]);
    expect(fail.code).toBe(2);
    expect(fail.stderr).toMatch(/the signer command ".*" exited with status 5: token locked/);
    const garbage = await run([...SIGN, '-k', PUB, '--signer', 'echo garbage', PAYLOAD, out]);
    expect(garbage.code).toBe(2);
    expect(garbage.stderr).toMatch(/8 bytes that are not an ECDSA signature/);
    const other = opensslSigner(dir, join(dir, 'other.pem'));
    execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', join(dir, 'other.pem')]);
    const wrong = await run([...SIGN, '-k', PUB, '--signer', other, PAYLOAD, out]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/the signature does not verify with the ecdsa-p256 public key/);
    const silent = await run([...SIGN, '-k', PUB, '--signer', 'true', PAYLOAD, out]);
    expect(silent.code).toBe(2);
    expect(silent.stderr).toMatch(/wrote no signature/);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.startsWith('signed'))).toEqual([]);
  });
});

describe('offline signing: --vector-to-sign, then --fix-sig/--fix-sig-pubkey', () => {
  for (const vector of ['digest', 'payload'] as const) {
    it(`${vector}: sign elsewhere, then build the image with the signature`, async () => {
      const dir = tempDir();
      const v = join(dir, `to-sign.${vector}`);
      const a = await run([...SIGN, '--fix-sig-pubkey', PUB, '--vector-to-sign', vector, PAYLOAD, v]);
      expect(a).toMatchObject({ code: 0 });
      const sig = join(dir, 'sig.der');
      execFileSync(
        'openssl',
        vector === 'digest'
          ? ['pkeyutl', '-sign', '-inkey', KEY, '-pkeyopt', 'digest:sha256', '-in', v, '-out', sig]
          : ['dgst', '-sha256', '-sign', KEY, '-out', sig, v],
      );
      writeFileSync(join(dir, 'sig.b64'), readFileSync(sig).toString('base64'));
      const out = join(dir, 'signed.bin');
      const b = await run([...SIGN, '--fix-sig', join(dir, 'sig.b64'), '--fix-sig-pubkey', PUB, PAYLOAD, out]);
      expect(b).toMatchObject({ code: 0 });
      expect((await run(['image', 'verify', '-k', PUB, out])).code).toBe(0);
    });
  }

  it('--sig-out writes the signature as base64; a signature that does not match --fix-sig-pubkey is refused', async () => {
    const dir = tempDir();
    const first = join(dir, 'first.bin');
    expect(await run([...SIGN, '-k', join(IMAGES, 'keys/ed25519.pem'), '--sig-out', join(dir, 'sig.b64'), PAYLOAD, first])).toMatchObject({ code: 0 });
    // Ed25519 is deterministic: the same signature rebuilds the same image.
    const again = join(dir, 'again.bin');
    const pubEd = join(IMAGES, 'keys/ed25519.pub.pem');
    expect(await run([...SIGN, '--fix-sig', join(dir, 'sig.b64'), '--fix-sig-pubkey', pubEd, PAYLOAD, again])).toMatchObject({ code: 0 });
    expect(readFileSync(again).equals(readFileSync(first))).toBe(true);
    const out = join(dir, 'wrong.bin');
    const wrong = await run([...SIGN, '--fix-sig', join(dir, 'sig.b64'), '--fix-sig-pubkey', PUB, PAYLOAD, out]);
    expect(wrong.code).toBe(64);
    expect(wrong.stderr).toMatch(/fixed signature \(--fix-sig\).*does not verify with the ecdsa-p256 public key|not an ECDSA signature/);
    expect(existsSync(out)).toBe(false);
    writeFileSync(join(dir, 'bad.b64'), 'this is not base64!');
    expect((await run([...SIGN, '--fix-sig', join(dir, 'bad.b64'), '--fix-sig-pubkey', PUB, PAYLOAD, out])).stderr).toMatch(/not a base64 signature/);
    expect((await run([...SIGN, '--fix-sig', join(dir, 'sig.b64'), PAYLOAD, out])).stderr).toMatch(/--fix-sig needs --fix-sig-pubkey/);
  });
});

const missing = softhsmMissing();
if (missing && !process.env.CI) console.warn(`\n*** SKIPPING THE PKCS#11 CLI TESTS ***\n${missing}\n`);
const describeHsm = missing && !process.env.CI ? describe.skip : describe;

describeHsm('--key pkcs11:... (SoftHSM2)', () => {
  let token: Token;
  beforeAll(() => {
    token = createToken();
  });

  for (const type of ['ecdsa-p256', 'ecdsa-p384', 'rsa-2048'] as const) {
    it(`${type}: signs on the token, verifies with the PEM public key`, async () => {
      const dir = tempDir();
      writeFileSync(join(dir, 'pub.pem'), token.keys[type].publicPem);
      const out = join(dir, 'signed.bin');
      const r = await run(
        [
          'image',
          'sign',
          '-k',
          `pkcs11:token=${token.label};object=${type}?pin-value=${token.pin}`,
          '--pkcs11-module',
          SOFTHSM_MODULE,
          '-v',
          '2.0.0',
          '--pad-header',
          '-H',
          '0x200',
          join(IMAGES, 'payload.bin'),
          out,
        ],
        token.env,
      );
      expect(r).toMatchObject({ code: 0 });
      const v = await run(['image', 'verify', '-k', join(dir, 'pub.pem'), out]);
      expect(v.stdout).toMatch(/key match: yes/);
    });
  }

  it('module and PIN from MCUMGR_PKCS11_MODULE and MCUMGR_PKCS11_PIN; a wrong PIN: exit 2, no output', async () => {
    const dir = tempDir();
    const out = join(dir, 'signed.bin');
    const args = ['image', 'sign', '-k', `pkcs11:token=${token.label};object=ecdsa-p256`, '-v', '2.0.0', '--pad-header', join(IMAGES, 'payload.bin'), out];
    expect(await run(args, { ...token.env, MCUMGR_PKCS11_MODULE: SOFTHSM_MODULE, MCUMGR_PKCS11_PIN: token.pin })).toMatchObject({ code: 0 });
    const out2 = join(dir, 'second.bin');
    args[args.length - 1] = out2;
    const wrong = await run(args, { ...token.env, MCUMGR_PKCS11_MODULE: SOFTHSM_MODULE, MCUMGR_PKCS11_PIN: '0000' });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/wrong PIN/);
    expect(existsSync(out2)).toBe(false);
    const badModule = await run(args, { ...token.env, MCUMGR_PKCS11_MODULE: join(ROOT, 'package.json'), MCUMGR_PKCS11_PIN: token.pin });
    expect(badModule.code).toBe(2);
    expect(badModule.stderr).toMatch(/cannot load the PKCS#11 module/);
  });
});

describe('without the optional pkcs11js package', () => {
  let copy: string;
  beforeAll(() => {
    // The built CLI in a directory whose node_modules has every package but pkcs11js.
    copy = tempDir('mcumgr-no-pkcs11-');
    cpSync(join(ROOT, 'dist'), join(copy, 'dist'), { recursive: true });
    cpSync(join(ROOT, 'bin'), join(copy, 'bin'), { recursive: true });
    cpSync(join(ROOT, 'package.json'), join(copy, 'package.json'));
    mkdirSync(join(copy, 'node_modules'));
    for (const name of readdirSync(join(ROOT, 'node_modules'))) {
      if (name !== 'pkcs11js' && name !== '.bin') symlinkSync(join(ROOT, 'node_modules', name), join(copy, 'node_modules', name));
    }
  });
  afterAll(() => undefined);

  it('says what to install, one line, exit 3', async () => {
    const dir = tempDir();
    const r = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [
          join(copy, 'bin/mcumgr.js'),
          'image',
          'sign',
          '-k',
          'pkcs11:token=t;object=k?pin-value=1',
          '--pkcs11-module',
          SOFTHSM_MODULE,
          '-v',
          '1.0.0',
          '--pad-header',
          join(IMAGES, 'payload.bin'),
          join(dir, 'o.bin'),
        ],
        (err, _stdout, stderr) => resolve({ code: (err as { code?: number } | null)?.code ?? 0, stderr }),
      );
    });
    expect(r.code).toBe(3);
    expect(r.stderr).toBe('Error: PKCS#11 signing needs the optional package pkcs11js: run npm install pkcs11js\n');
  });
});
