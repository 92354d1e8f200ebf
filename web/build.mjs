// Builds the web app into web/dist when a source of the app or the library is newer than the build.
// `node web/build.mjs [--if-stale]`; `buildWebApp()` / `webAppIsStale()` from the browser tests.
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { newestSourceTime } from '../example/build.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export const WEB_DIST = join(here, 'dist');
const sources = [join(here, 'src'), join(here, 'public'), join(here, 'index.html'), join(here, 'vite.config.ts'), join(here, '../src')];

const mtime = (path) => (statSync(path).isDirectory() ? newestSourceTime(path) : statSync(path).mtimeMs);

export function webAppIsStale() {
  let built;
  try {
    built = statSync(join(WEB_DIST, 'sw.js')).mtimeMs;
  } catch {
    return true;
  }
  return Math.max(...sources.map(mtime)) > built;
}

/** Runs `vite build` in its own process (Vite 8 here; the test runner has its own Vite). */
export function buildWebApp() {
  const vite = join(here, '../node_modules/vite/bin/vite.js');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [vite, 'build', '--config', join(here, 'vite.config.ts'), '--logLevel', 'warn'], {
      stdio: ['ignore', 'inherit', 'inherit'],
      // The test runner sets NODE_ENV=test, which would make Vite build for development.
      env: { ...process.env, NODE_ENV: 'production' },
    });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(undefined) : reject(new Error(`vite build exited with ${code}`))));
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (!process.argv.includes('--if-stale') || webAppIsStale()) await buildWebApp();
}
