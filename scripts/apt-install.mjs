// Installs Debian packages the tests need, when the machine allows it (root, apt-get). Returns why it could not, or
// undefined; the apt output goes to a log file in the temp directory.
import { spawnSync } from 'node:child_process';
import { existsSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function aptInstall(packages, logName) {
  const log = join(tmpdir(), logName);
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return { problem: 'not root on Linux', log };
  if (!existsSync('/usr/bin/apt-get')) return { problem: 'no apt-get', log };
  const out = openSync(log, 'w');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const apt = (args) => spawnSync('apt-get', ['-o', 'DPkg::Lock::Timeout=300', ...args], { stdio: ['ignore', out, out], env }).status === 0;
  if (!apt(['update'])) return { problem: `apt-get update failed (see ${log})`, log };
  if (!apt(['install', '-y', '--no-install-recommends', ...packages])) return { problem: `apt-get install failed (see ${log})`, log };
  return { log };
}
