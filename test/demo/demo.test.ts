import { existsSync } from 'node:fs';
import { execFileSync, spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

function runDemo(): Promise<{ code: number | null; out: string }> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [join(REPO, 'dist', 'demo', 'demo.js')], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', rej);
    child.on('close', (code) => res({ code, out }));
  });
}

describe('npm start demo', () => {
  beforeAll(() => {
    // `npm test` builds first; build here only when this file runs on its own (a second tsc writing dist
    // while other test files run the built code would race with them).
    if (!existsSync(join(REPO, 'dist', 'demo', 'demo.js'))) {
      execFileSync(process.execPath, [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(REPO, 'tsconfig.json')], {
        cwd: REPO,
        stdio: 'inherit',
      });
    }
  }, 120_000);

  it('runs the narrated upgrade cycle end to end and exits 0', async () => {
    const { code, out } = await runDemo();
    expect(code, out).toBe(0);
    for (let n = 1; n <= 13; n++) expect(out).toContain(`== Step ${n}:`);
    expect(out).toContain('upload the new image');
    expect(out).toContain('[device] rebooted: image 0 test');
    expect(out).toContain('Zephyr version');
    expect(out).toContain('Downloaded file matches');
    expect(out).toContain('== Summary ==');

    // The last `image list` (step 9) shows 1.1.0 in slot 0, active and confirmed.
    const step9 = out.slice(out.indexOf('== Step 9:'), out.indexOf('== Step 10:'));
    expect(step9).toMatch(/image=0 slot=0\s+version: 1\.1\.0\s+bootable: true\s+flags: active confirmed/);
    // Step 7 (after the reset, before confirm): 1.1.0 active only.
    const step7 = out.slice(out.indexOf('== Step 7:'), out.indexOf('== Step 8:'));
    expect(step7).toMatch(/image=0 slot=0\s+version: 1\.1\.0\s+bootable: true\s+flags: active\n/);
  }, 60_000);
});
