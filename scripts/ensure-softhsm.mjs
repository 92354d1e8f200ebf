#!/usr/bin/env node
// Makes sure Debian's SoftHSM2 (a software PKCS#11 token and its softhsm2-util) is there for the PKCS#11 signing
// tests (test/image/pkcs11.test.ts, test/cli/image-signers.test.ts). Never fails: when it cannot be installed, those
// tests fail under CI and skip elsewhere, with instructions.
import { existsSync } from 'node:fs';
import { aptInstall } from './apt-install.mjs';

const module = process.env.SOFTHSM2_MODULE || '/usr/lib/softhsm/libsofthsm2.so';
const util = '/usr/bin/softhsm2-util';

if (!existsSync(module) || !existsSync(util)) {
  process.stdout.write('ensure-softhsm: installing Debian softhsm2 for the PKCS#11 tests ... ');
  const { problem, log } = aptInstall(['softhsm2'], 'mcumgr-ts-softhsm-install.log');
  const missing = !problem && !(existsSync(module) && existsSync(util)) ? `installed, but ${module} or ${util} is missing (see ${log})` : problem;
  console.log(missing ? `not installed: ${missing}` : `done (${module}, log in ${log})`);
}
