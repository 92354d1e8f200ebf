#!/usr/bin/env node
// Makes sure Debian's Chromium is there for the browser tests (test/browser). Never fails: when Chromium
// cannot be installed, those tests fail under CI and skip elsewhere, with instructions.
import { spawnSync } from 'node:child_process';
import { existsSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const chromium = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const log = join(tmpdir(), 'mcumgr-ts-chromium-install.log');

function install() {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return 'not root on Linux';
  if (!existsSync('/usr/bin/apt-get')) return 'no apt-get';
  const out = openSync(log, 'w');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const apt = (args) =>
    spawnSync('apt-get', ['-o', 'DPkg::Lock::Timeout=300', ...args], { stdio: ['ignore', out, out], env }).status === 0;
  if (!apt(['update'])) return `apt-get update failed (see ${log})`;
  if (!apt(['install', '-y', '--no-install-recommends', 'chromium'])) return `apt-get install failed (see ${log})`;
  return existsSync(chromium) ? undefined : `installed, but ${chromium} is missing (see ${log})`;
}

if (!existsSync(chromium)) {
  process.stdout.write('ensure-chromium: installing Debian chromium for the browser tests ... ');
  const problem = install();
  console.log(problem ? `not installed: ${problem}` : `done (${chromium}, log in ${log})`);
}
