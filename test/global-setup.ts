/** Tests spawn the built `mcumgr` and `mcumgr-sim`: `npm test` builds first; this builds when vitest runs alone. */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export default function setup(): void {
  const root = join(import.meta.dirname, '..');
  if (!existsSync(join(root, 'dist/bin/mcumgr.cjs')) || !existsSync(join(root, 'dist/device/sim.js'))) {
    execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  }
}
