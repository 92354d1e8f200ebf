/** A SoftHSM2 token in a temporary directory, with keys made by OpenSSL-compatible Node crypto and imported. */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SOFTHSM_MODULE = process.env.SOFTHSM2_MODULE || '/usr/lib/softhsm/libsofthsm2.so';
const UTIL = '/usr/bin/softhsm2-util';

/** Why the PKCS#11 tests cannot run, or undefined. `npm test` installs softhsm2 first (scripts/ensure-softhsm.mjs). */
export function softhsmMissing(): string | undefined {
  if (existsSync(SOFTHSM_MODULE) && existsSync(UTIL)) return undefined;
  return (
    `SoftHSM2 not found (${SOFTHSM_MODULE}, ${UTIL}): the PKCS#11 signing tests cannot run. Install it with ` +
    '`sudo apt-get install softhsm2`; `npm test` runs `node scripts/ensure-softhsm.mjs` first when run as root.'
  );
}

export type TokenKeyType = 'ecdsa-p256' | 'ecdsa-p384' | 'rsa-2048' | 'ed25519';

export interface TokenKey {
  label: string;
  /** PEM private key (the token holds a copy) and public key, for checks independent of the token. */
  privatePem: string;
  publicPem: string;
}

export interface Token {
  dir: string;
  label: string;
  pin: string;
  /** Environment that points SoftHSM2 at this token's directory. */
  env: { SOFTHSM2_CONF: string };
  keys: Record<TokenKeyType, TokenKey>;
}

function keyPair(type: TokenKeyType) {
  switch (type) {
    case 'ecdsa-p256':
      return generateKeyPairSync('ec', { namedCurve: 'P-256' });
    case 'ecdsa-p384':
      return generateKeyPairSync('ec', { namedCurve: 'P-384' });
    case 'rsa-2048':
      return generateKeyPairSync('rsa', { modulusLength: 2048 });
    case 'ed25519':
      return generateKeyPairSync('ed25519');
  }
}

/** Initialises a token labelled `label` (user PIN 1234) and imports one key pair of each type. */
export function createToken(label = 'mcumgr-test'): Token {
  const dir = mkdtempSync(join(tmpdir(), 'mcumgr-softhsm-'));
  const conf = join(dir, 'softhsm2.conf');
  writeFileSync(conf, `directories.tokendir = ${dir}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  const env = { SOFTHSM2_CONF: conf };
  const pin = '1234';
  const util = (args: string[]) => execFileSync(UTIL, args, { env: { ...process.env, ...env }, stdio: 'pipe' });
  util(['--init-token', '--free', '--label', label, '--pin', pin, '--so-pin', '87654321']);
  const keys = {} as Record<TokenKeyType, TokenKey>;
  (['ecdsa-p256', 'ecdsa-p384', 'rsa-2048', 'ed25519'] as const).forEach((type, i) => {
    const kp = keyPair(type);
    const privatePem = kp.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const file = join(dir, `${type}.p8`);
    writeFileSync(file, privatePem);
    util(['--import', file, '--token', label, '--label', type, '--id', `0${i + 1}`, '--pin', pin]);
    keys[type] = { label: type, privatePem, publicPem: kp.publicKey.export({ type: 'spki', format: 'pem' }).toString() };
  });
  return { dir, label, pin, env, keys };
}
