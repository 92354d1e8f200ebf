import { defineConfig } from 'vitest/config';
import { selectedModule } from './stryker.config.mjs';

// The unit tests StrykerJS runs for the module in MUTATE_MODULE (stryker.config.mjs): they need no build, so no
// global setup; the seeded fuzz tests run fewer cases, since every mutant they cover runs them again.
export default defineConfig({
  test: {
    // MUTATE_TESTS (comma-separated globs) narrows a re-run of the surviving mutants to the tests written for them.
    include: process.env.MUTATE_TESTS?.split(',') ?? selectedModule().testFiles,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    env: { FUZZ_RUNS: '2000' },
  },
});
