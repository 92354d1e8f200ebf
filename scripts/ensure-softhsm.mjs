#!/usr/bin/env node
// Makes sure Debian's SoftHSM2 (a software PKCS#11 token and its softhsm2-util) is there for the PKCS#11
// signing tests (test/image/pkcs11.test.ts). Never fails: when they cannot be installed, those tests fail under CI
// and skip elsewhere, with instructions.
import { spawnSync } from 'node:child_process';
import { existsSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const module = process.env.SOFTHSM2_MODULE || '/usr/lib/softhsm/libsofthsm2.so';
const tool = '/usr/bin/softhsm2-util';
const log = join(tmpdir(), 'mcumgr-ts-softhsm-install.log');

function install() {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return 'not root on Linux';
  if (!existsSync('/usr/bin/apt-get')) return 'no apt-get';
  const out = openSync(log, 'w');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const apt = (args) =>
    spawnSync('apt-get', ['-o', 'DPkg::Lock::Timeout=300', ...args], { stdio: ['ignore', out, out], env }).status === 0;
  if (!apt(['update'])) return `apt-get update failed (see ${log})`;
  if (!apt(['install', '-y', '--no-install-recommends', 'softhsm2'])) return `apt-get install failed (see ${log})`;
  return existsSync(module) && existsSync(tool) ? undefined : `installed, but ${module} or ${tool} is missing (see ${log})`;
}

if (!existsSync(module) || !existsSync(tool)) {
  process.stdout.write('ensure-softhsm: installing Debian softhsm2 for the PKCS#11 tests ... ');
  const problem = install();
  console.log(problem ? `not installed: ${problem}` : `done (${module}, log in ${log})`);
}
