/** resolveFsPath alone: device paths map under the fs root, nothing else is reachable (the device-level cases are in fs-sandbox.test.ts). */
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { GroupError, MgmtError } from '../../src/device/errors.js';
import { resolveFsPath, type FsSandbox } from '../../src/device/fs-sandbox.js';

let root: string;
let outside: string;
const sandbox = (pathMax = 64): FsSandbox => ({ fsRoot: root, config: { fs: { mounts: ['/lfs', '/nand'], pathMax } } });

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'fs-sandbox-'));
  outside = mkdtempSync(join(tmpdir(), 'fs-outside-'));
  writeFileSync(join(outside, 'secret'), 'host file');
  mkdirSync(join(root, 'lfs/dir'), { recursive: true });
  mkdirSync(join(root, 'nand'));
  writeFileSync(join(root, 'lfs/file'), 'x');
  writeFileSync(join(root, 'lfs/dir/inner'), 'y');
  symlinkSync(outside, join(root, 'lfs/out'));
  symlinkSync(join(outside, 'secret'), join(root, 'lfs/secret'));
  symlinkSync(join(root, 'lfs/file'), join(root, 'lfs/alias'));
  symlinkSync(join(root, 'lfs/dir'), join(root, 'lfs/dirlink'));
});

/** The error resolving `name` throws, as `group:rc` or `mgmt:rc`. */
function refusal(name: string, forWrite = false, dev = sandbox()): string {
  try {
    resolveFsPath(dev, name, forWrite);
  } catch (err) {
    if (err instanceof GroupError) return `${err.group}:${err.rc}`;
    if (err instanceof MgmtError) return `mgmt:${err.rc}`;
    throw err;
  }
  return 'accepted';
}

describe('resolveFsPath', () => {
  it('maps existing files under each mount to the fs root', () => {
    expect(resolveFsPath(sandbox(), '/lfs/file', false)).toBe(join(root, 'lfs/file'));
    expect(resolveFsPath(sandbox(), '/lfs/dir/inner', false)).toBe(join(root, 'lfs/dir/inner'));
    expect(resolveFsPath(sandbox(), '/lfs/dir/inner', true)).toBe(join(root, 'lfs/dir/inner'));
  });

  it('allows a missing file only for writing, in an existing directory', () => {
    expect(resolveFsPath(sandbox(), '/nand/new', true)).toBe(join(root, 'nand/new'));
    expect(resolveFsPath(sandbox(), '/lfs/dir/new', true)).toBe(join(root, 'lfs/dir/new'));
    expect(refusal('/nand/new')).toBe('8:3');
    expect(refusal('/lfs/nodir/new', true)).toBe('8:3');
    expect(refusal('/lfs/nodir/new')).toBe('8:3');
  });

  it.each([
    ['/lfs/../etc/passwd'],
    ['/lfs/dir/../../x'],
    ['/lfs/..'],
    ['/lfs/./file'],
    ['/lfs/.'],
    ['/lfs/a\0b'],
    ['/lfs/file\0'],
    ['/lfs/..\\x'],
    ['/lfs/dir\\inner'],
    ['lfs/file'],
    ['./lfs/file'],
    ['../lfs/file'],
  ])('refuses %j as an invalid name', (name) => {
    expect(refusal(name)).toBe('8:2');
    expect(refusal(name, true)).toBe('8:2');
  });

  it('accepts names that only contain dots', () => {
    expect(resolveFsPath(sandbox(), '/lfs/..x', true)).toBe(join(root, 'lfs/..x'));
    expect(resolveFsPath(sandbox(), '/lfs/...', true)).toBe(join(root, 'lfs/...'));
  });

  it.each([
    ['/lfs/out/secret', 'a link to a directory outside'],
    ['/lfs/secret', 'a link to a file outside'],
    ['/lfs/alias', 'a link to a file inside'],
    ['/lfs/dirlink/inner', 'a link to a directory inside'],
  ])('refuses %s (%s), reading or writing', (name) => {
    expect(refusal(name)).toBe('8:2');
    expect(refusal(name, true)).toBe('8:2');
  });

  it.each([
    ['/', 'the root'],
    ['/lfs', 'a mount itself'],
    ['/lfs/', 'a mount with a slash'],
    ['/lfs/dir/', 'a directory with a slash'],
    ['/lfs1/file', 'an unknown mount'],
    ['/nfs/x', 'an unknown mount'],
    ['/file/lfs', 'a mount name deeper'],
    ['/lfs/file/inner', 'a file used as a directory'],
    ['//lfs/file', 'an empty first part'],
  ])('refuses %j (%s) as not found', (name) => {
    expect(refusal(name, true)).toBe('8:3');
  });

  it('refuses an empty name and one longer than the path limit in bytes, as an invalid request', () => {
    expect(refusal('')).toBe('mgmt:3');
    const name = `/lfs/${'a'.repeat(59)}`; // 64 bytes
    expect(resolveFsPath(sandbox(), name, true)).toBe(join(root, 'lfs', 'a'.repeat(59)));
    expect(refusal(`${name}a`, true)).toBe('mgmt:3');
    // 34 characters, 63 bytes in UTF-8: measured in bytes, as the device's buffer is.
    const wide = `/lfs/${'é'.repeat(29)}`;
    expect(refusal(wide, true, sandbox(61))).toBe('mgmt:3');
    expect(resolveFsPath(sandbox(63), wide, true)).toBe(join(root, 'lfs', 'é'.repeat(29)));
  });
});
