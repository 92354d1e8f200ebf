// Bundles the two executables (mcumgr, mcumgr-sim) into dist/bin/ with esbuild: one file per command plus shared
// chunks, so that a one-shot command loads a few files instead of a hundred modules (see BENCHMARKS.md, start-up).
// Transports and commands a run does not use stay in chunks loaded by dynamic import.
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// Chunk names carry a content hash: clear the previous build's.
rmSync(join(root, 'dist/bin'), { recursive: true, force: true });

await build({
  entryPoints: { mcumgr: join(root, 'src/cli/bin.ts'), 'mcumgr-sim': join(root, 'src/device/sim.ts') },
  outdir: join(root, 'dist/bin'),
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minify: true,
  // Optional native packages, loaded on demand (src/node/optional.ts).
  external: ['serialport', 'node-pty', '@stoprocent/noble'],
  // commander is CommonJS: its require() calls of Node built-ins need a require function in an ES module.
  banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
  logLevel: 'warning',
});
