// StrykerJS over the core modules, one module per run (`npm run mutate [module...]`, see scripts/mutate.mjs
// and TESTING.md). Each module names the files it mutates and the tests meant to kill its mutants.
export const modules = {
  protocol: {
    mutate: ['src/protocol/*.ts'],
    testFiles: ['test/protocol/*.test.ts'],
  },
  'serial-framing': {
    mutate: ['src/transport/serial-framing.ts'],
    testFiles: ['test/transport/serial-framing.test.ts', 'test/transport/fuzz.test.ts'],
  },
  window: {
    mutate: ['src/client/window.ts'],
    testFiles: ['test/transfer/window-state.test.ts', 'test/transfer/window.test.ts'],
  },
  boot: {
    mutate: ['src/device/boot.ts'],
    testFiles: ['test/device/boot.test.ts', 'test/device/swap-power-cut.test.ts'],
  },
  'fs-sandbox': {
    mutate: ['src/device/fs-sandbox.ts'],
    testFiles: ['test/device/fs-path.test.ts', 'test/device/fs-sandbox.test.ts'],
  },
  'image-verify': {
    mutate: ['src/image/verify.ts'],
    testFiles: ['test/image/verify.test.ts', 'test/image/sign.test.ts'],
  },
  'image-compression': {
    mutate: ['src/image/compressed.ts', 'src/image/lzma.ts'],
    testFiles: ['test/image/compression.test.ts'],
  },
};

export function selectedModule() {
  const name = process.env.MUTATE_MODULE ?? 'protocol';
  const module = modules[name];
  if (!module) throw new Error(`unknown module ${name}: one of ${Object.keys(modules).join(', ')}`);
  return { name, ...module };
}
const { name, ...module } = selectedModule();

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutate.config.ts', related: false },
  coverageAnalysis: 'perTest',
  concurrency: Number(process.env.MUTATE_CONCURRENCY ?? 1),
  mutate: module.mutate,
  // The module's tests are chosen by vitest.mutate.config.ts, not by Stryker's `testFiles`: with `testFiles`
  // Stryker 9 activates static mutants (module-level code) only after the module has loaded, so none is killed.
  // A loaded machine: a mutant is a timeout only when it takes much longer than the clean run.
  timeoutMS: 10_000,
  timeoutFactor: 3,
  ignorePatterns: ['dist', 'reports', 'example/dist', '.tmp', 'bench-*.json'],
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
  reporters: ['clear-text', 'progress-append-only', 'html', 'json'],
  htmlReporter: { fileName: `reports/mutation/${name}.html` },
  jsonReporter: { fileName: `reports/mutation/${name}.json` },
  clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true, reportMutants: true },
  thresholds: { high: 90, low: 80, break: null },
};
