// Bundles the two executables (mcumgr, mcumgr-sim) with esbuild into one CommonJS file each under dist/bin/, the
// files package.json "bin" names, so that a one-shot command starts fast (BENCHMARKS.md, start-up):
// - one file instead of a hundred ES modules, and CommonJS, which Node runs without its ES module loader;
// - modules a run reaches only by dynamic import (transports, some commands) are evaluated only when imported;
// - Node built-ins that only some commands use load when first used, not at start (LAZY_BUILTINS);
// - mcumgr starts from V8's code cache of its bundle (scripts/bin-loader.cjs), made here from a run of `--help`.
import { execFileSync } from 'node:child_process';
import { copyFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

// child_process: commander's executable subcommands (unused); crypto, zlib: image signing, DFU zips;
// net, dns/promises: UDP address parsing and host names.
const LAZY_BUILTINS = ['child_process', 'crypto', 'zlib', 'net', 'dns/promises'];

/**
 * Replaces `require('node:crypto')` and the like by an object whose properties (the module's export names, read
 * here at build time) require the module when first read: bundled ES imports read them only when used.
 */
const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(b) {
    const filter = new RegExp(`^(node:)?(${LAZY_BUILTINS.join('|').replace('/', '\\/')})$`);
    b.onResolve({ filter }, (args) =>
      args.namespace === 'lazy-builtin' ? { path: args.path, external: true } : { path: args.path.replace(/^node:/, ''), namespace: 'lazy-builtin' },
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, async (args) => {
      const names = Object.keys(await import(`node:${args.path}`)).filter((name) => name !== 'default');
      return {
        loader: 'js',
        contents: `
          let loaded;
          const load = () => (loaded ??= require('node:${args.path}'));
          for (const name of ${JSON.stringify(names)}) {
            Object.defineProperty(exports, name, { enumerable: true, get: () => load()[name] });
          }`,
      };
    });
  },
};

rmSync(join(root, 'dist/bin'), { recursive: true, force: true });

const bin = join(root, 'dist/bin');
const options = {
  outdir: bin,
  outExtension: { '.js': '.cjs' },
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  minify: true,
  // No import() left in the bundle: the mcumgr bundle runs from V8's code cache, which cannot import dynamically
  // (scripts/bin-loader.cjs).
  supported: { 'dynamic-import': false },
  // src/node/optional.ts requires optional packages relative to itself: here, the bundle.
  define: { 'import.meta.url': 'importMetaUrl' },
  // Optional native packages, imported on demand (src/node/optional.ts).
  external: ['serialport', 'node-pty', '@stoprocent/noble'],
  plugins: [lazyBuiltins],
  logLevel: 'warning',
};
const importMetaUrl = "const importMetaUrl = require('node:url').pathToFileURL(__filename).href;";
await build({ ...options, entryPoints: { 'mcumgr-sim': join(root, 'src/device/sim.ts') }, banner: { js: `#!/usr/bin/env node\n${importMetaUrl}` } });
// Run by the loader inside a function: no hashbang.
await build({ ...options, entryPoints: { 'mcumgr.bundle': join(root, 'src/cli/bin.ts') }, banner: { js: importMetaUrl } });

copyFileSync(join(root, 'scripts/bin-loader.cjs'), join(bin, 'load.cjs'));
writeFileSync(join(bin, 'mcumgr.cjs'), "#!/usr/bin/env node\nrequire('./load.cjs').run('mcumgr');\n");
execFileSync(process.execPath, [join(bin, 'mcumgr.cjs'), '--help'], { env: { ...process.env, MCUMGR_TS_WRITE_CODE_CACHE: '1' }, stdio: 'ignore' });
