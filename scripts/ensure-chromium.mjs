#!/usr/bin/env node
// Makes sure Debian's Chromium is there for the browser tests (test/browser). Never fails: when Chromium
// cannot be installed, those tests fail under CI and skip elsewhere, with instructions.
import { existsSync } from 'node:fs';
import { aptInstall } from './apt-install.mjs';

const chromium = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

if (!existsSync(chromium)) {
  process.stdout.write('ensure-chromium: installing Debian chromium for the browser tests ... ');
  const { problem, log } = aptInstall(['chromium'], 'mcumgr-ts-chromium-install.log');
  const missing = !problem && !existsSync(chromium) ? `installed, but ${chromium} is missing (see ${log})` : problem;
  console.log(missing ? `not installed: ${missing}` : `done (${chromium}, log in ${log})`);
}
