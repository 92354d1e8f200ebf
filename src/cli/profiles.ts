/** Connection profiles in the Go tool's format and place (`~/.mcumgr.cp.json`), a JSON array sorted by name, 4-space indent. */
import { readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { posix, win32 } from 'node:path';
import { UsageError } from './connect.js';

export interface Profile {
  MyName: string;
  MyType: string;
  MyConnString: string;
}

export const KNOWN_CONNTYPES = ['serial', 'ble', 'bhd', 'udp', 'oic_serial', 'oic_ble', 'oic_bhd', 'oic_udp', 'oic_mtech'];

/**
 * Where the Go tool keeps its profiles: `filepath.Join(homedir.Dir(), ".mcumgr.cp.json")`, and go-homedir takes
 * $HOME on every system first; on Windows then %USERPROFILE%, then %HOMEDRIVE%%HOMEPATH%; elsewhere the
 * account's home directory (which os.homedir() also finds).
 */
export function profilePath(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  let dir = env.HOME;
  if (!dir && platform === 'win32') dir = env.USERPROFILE || (env.HOMEDRIVE && env.HOMEPATH ? env.HOMEDRIVE + env.HOMEPATH : undefined);
  return (platform === 'win32' ? win32 : posix).join(dir || homedir(), '.mcumgr.cp.json');
}

export function readProfiles(): Profile[] {
  let text: string;
  try {
    text = readFileSync(profilePath(), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  if (text.trim() === '' || text.trim() === 'null') return [];
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${profilePath()} is not valid JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(data)) throw new UsageError(`${profilePath()} is not a JSON array of connection profiles`);
  return data.map((p: Record<string, unknown>) => ({
    MyName: String(p.MyName ?? ''),
    MyType: String(p.MyType ?? 'none'),
    MyConnString: String(p.MyConnString ?? ''),
  }));
}

export function writeProfiles(profiles: Profile[]): void {
  const sorted = [...profiles].sort((a, b) => (a.MyName < b.MyName ? -1 : a.MyName > b.MyName ? 1 : 0));
  writeFileSync(profilePath(), JSON.stringify(sorted, null, 4), { mode: 0o644 });
}
