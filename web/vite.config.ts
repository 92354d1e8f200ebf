/**
 * The web device manager (web/): Vite + Preact. `mcumgr-ts` resolves to the library's browser entry in this
 * repository (src/index.ts), so the app always runs the library as it is here.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { serviceWorker } from './service-worker-plugin.js';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  root: here('.'),
  base: './',
  resolve: { alias: { 'mcumgr-ts': here('../src/index.ts') } },
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: { outDir: here('dist'), emptyOutDir: true, target: 'chrome110', sourcemap: true, chunkSizeWarningLimit: 1500 },
  plugins: [serviceWorker()],
});
