#!/usr/bin/env node
// Bundles the browser-safe core for the browser (esbuild, minified), prints its size minified and gzipped,
// and exits with status 1 when the gzipped size is over the budget. `npm run size`.
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const CORE_ENTRY = join(root, 'scripts/core-entry.ts');
/** Gzipped bytes the core may weigh (issue #13: 40 KB). */
export const BUDGET_GZIP_BYTES = 40_000;

/**
 * The core bundled for the browser platform: a Node built-in anywhere in its imports fails the build.
 * `globalName` gives an IIFE that sets that global (for a page); otherwise an ES module.
 */
export async function bundleCore({ globalName } = {}) {
  const result = await build({
    entryPoints: [CORE_ENTRY],
    bundle: true,
    minify: true,
    platform: 'browser',
    format: globalName ? 'iife' : 'esm',
    globalName,
    target: 'es2022',
    metafile: true,
    write: false,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0].contents;
  const inputs = Object.values(result.metafile.outputs)[0].inputs;
  const byPackage = new Map();
  for (const [path, { bytesInOutput }] of Object.entries(inputs)) {
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1] ?? 'mcumgr-ts';
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + bytesInOutput);
  }
  return { code, minified: code.length, gzipped: gzipSync(code, { level: 9 }).length, byPackage };
}

const kb = (n) => `${(n / 1000).toFixed(1)} KB`;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  let size;
  try {
    size = await bundleCore();
  } catch (err) {
    const first = err.errors?.[0];
    console.error(`bundle-size: the core does not bundle for the browser: ${first ? `${first.location?.file ?? ''}: ${first.text}` : err.message}`);
    process.exit(1);
  }
  const parts = [...size.byPackage].sort((a, b) => b[1] - a[1]).map(([name, bytes]) => `${name} ${kb(bytes)}`);
  console.log(`core bundle (${relative(root, CORE_ENTRY)}, browser, minified): ${kb(size.minified)} (${parts.join(', ')})`);
  console.log(`gzipped (-9): ${kb(size.gzipped)} of a ${kb(BUDGET_GZIP_BYTES)} budget`);
  if (size.gzipped > BUDGET_GZIP_BYTES) {
    console.error(`bundle-size: the core is ${kb(size.gzipped - BUDGET_GZIP_BYTES)} over its gzipped budget`);
    process.exit(1);
  }
}
