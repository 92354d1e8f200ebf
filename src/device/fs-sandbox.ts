/**
 * The virtual device's file-system sandbox: maps a device path (`/lfs/dir/file`) to a host path under the
 * device's fs root, refusing anything outside a mount (traversal, symlinks, NUL, over-long names).
 */
import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import type { FsConfig } from './config.js';
import { GroupError, MgmtError } from './errors.js';

const FS_GROUP = 8;

/** What the sandbox needs of a device: its fs root on the host, its mounts and path limit. */
export interface FsSandbox {
  fsRoot: string;
  config: { fs: Pick<FsConfig, 'mounts' | 'pathMax'> };
}

/**
 * The host path of device path `name`. A missing last part is allowed `forWrite` (a file to create);
 * errors are the fs group's: 2 (invalid name), 3 (not found), or MGMT_ERR 3 for an empty or over-long name.
 */
export function resolveFsPath(dev: FsSandbox, name: string, forWrite: boolean): string {
  const cfg = dev.config.fs;
  if (name.length === 0 || Buffer.byteLength(name) > cfg.pathMax) throw new MgmtError(3);
  if (!name.startsWith('/')) throw new GroupError(FS_GROUP, 2);
  const parts = name.split('/').slice(1);
  if (parts.some((p) => p === '..' || p === '.' || p.includes('\0') || p.includes('\\'))) throw new GroupError(FS_GROUP, 2);
  const mount = `/${parts[0] ?? ''}`;
  if (!cfg.mounts.includes(mount) || parts.length < 2 || parts[parts.length - 1] === '') throw new GroupError(FS_GROUP, 3);
  let host = dev.fsRoot;
  for (let i = 0; i < parts.length; i++) {
    host = join(host, parts[i]!);
    let st;
    try {
      st = lstatSync(host);
    } catch {
      if (i < parts.length - 1 || !forWrite) throw new GroupError(FS_GROUP, 3);
      break;
    }
    if (st.isSymbolicLink()) throw new GroupError(FS_GROUP, 2);
    if (i < parts.length - 1 && !st.isDirectory()) throw new GroupError(FS_GROUP, 3);
  }
  return host;
}
