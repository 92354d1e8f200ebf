import { execFile } from 'node:child_process';
import { existsSync, lstatSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ROOT, startSim, tempDir } from './helpers.js';

const run = promisify(execFile);
const MCUMGR = join(ROOT, 'bin/mcumgr.js');

describe('mcumgr-sim --serial PATH', () => {
  it("links a /dev-style port name to its pseudo-terminal, so the docs' serial commands run unchanged, and removes it on exit", async () => {
    const port = join(tempDir(), 'ttyACM0');
    const sim = await startSim(['--serial', port, '--state', tempDir()]);
    try {
      expect(lstatSync(port).isSymbolicLink()).toBe(true);
      const { stdout } = await run(process.execPath, [MCUMGR, '--conntype', 'serial', '--connstring', `dev=${port},baud=115200,mtu=512`, 'echo', 'hello']);
      expect(stdout).toBe('hello\n');
    } finally {
      await sim.stop();
    }
    expect(existsSync(port)).toBe(false);
  });

  it('refuses to replace a file that is not a link', async () => {
    const port = join(tempDir(), 'ttyACM0');
    writeFileSync(port, 'keep me');
    await expect(startSim(['--serial', port, '--state', tempDir()])).rejects.toThrow(/already exists and is not a symbolic link/);
    expect(lstatSync(port).isFile()).toBe(true);
  });
});
