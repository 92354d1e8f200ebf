// Bundles the example page with esbuild into example/dist (git-ignored). `node example/build.mjs [--if-stale]`.
import { copyFileSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
export const EXAMPLE_DIST = join(here, 'dist');
const sources = [here, join(here, '../src')];

export function newestSourceTime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'dist' || entry.name === 'node_modules') continue;
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSourceTime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** True when the bundle is missing or older than a source file of the page or the library. */
export function exampleIsStale() {
  let built;
  try {
    built = Math.min(...['main.js', 'index.html', 'sign.js', 'sign.html'].map((f) => statSync(join(EXAMPLE_DIST, f)).mtimeMs));
  } catch {
    return true;
  }
  return Math.max(...sources.map(newestSourceTime)) > built;
}

export async function buildExample() {
  mkdirSync(EXAMPLE_DIST, { recursive: true });
  await build({
    entryPoints: [join(here, 'main.ts'), join(here, 'sign.ts')],
    outdir: EXAMPLE_DIST,
    bundle: true,
    format: 'esm',
    // A Node module reaching the bundle (node:fs, node:crypto ...) is an error here, not a runtime surprise.
    platform: 'browser',
    target: 'chrome105',
    minify: true,
    sourcemap: true,
    // The client recognises serial transports by their class name (src/client/upload.ts).
    keepNames: true,
    logLevel: 'warning',
  });
  for (const page of ['index.html', 'sign.html']) copyFileSync(join(here, page), join(EXAMPLE_DIST, page));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (!process.argv.includes('--if-stale') || exampleIsStale()) {
    await buildExample();
    console.log(`example page built in ${EXAMPLE_DIST}`);
  }
}
