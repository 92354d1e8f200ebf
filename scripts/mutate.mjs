#!/usr/bin/env node
// `npm run mutate [module...]`: StrykerJS over each core module in turn (one at a time: the runs are CPU heavy),
// then the score table. Modules and their globs are in stryker.config.mjs; reports go to reports/mutation/.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { modules } from '../stryker.config.mjs';

const asked = process.argv.slice(2);
for (const name of asked) {
  if (!(name in modules)) {
    console.error(`unknown module ${name}: one of ${Object.keys(modules).join(', ')}`);
    process.exit(64);
  }
}
const names = asked.length > 0 ? asked : Object.keys(modules);

/** Stryker's score: killed and timed-out mutants over every valid one (ignored and invalid ones do not count). */
function summary(name) {
  const report = JSON.parse(readFileSync(`reports/mutation/${name}.json`, 'utf8'));
  const count = {};
  for (const file of Object.values(report.files)) {
    for (const m of file.mutants) count[m.status] = (count[m.status] ?? 0) + 1;
  }
  const n = (s) => count[s] ?? 0;
  const detected = n('Killed') + n('Timeout');
  const valid = detected + n('Survived') + n('NoCoverage');
  return { name, score: valid ? (100 * detected) / valid : 100, detected, survived: n('Survived'), noCoverage: n('NoCoverage'), ignored: n('Ignored') };
}

let failed = false;
for (const name of names) {
  console.log(`\n=== ${name}: ${modules[name].mutate.join(' ')}`);
  const run = spawnSync('npx', ['stryker', 'run', 'stryker.config.mjs'], { stdio: 'inherit', env: { ...process.env, MUTATE_MODULE: name } });
  if (run.status !== 0) {
    console.error(`stryker failed on ${name} (exit ${run.status})`);
    failed = true;
  }
}

console.log('\nmodule           score  killed  survived  no-coverage  ignored');
for (const name of names) {
  try {
    const s = summary(name);
    console.log(
      `${s.name.padEnd(16)} ${s.score.toFixed(1).padStart(5)}%  ${String(s.detected).padStart(6)}  ${String(s.survived).padStart(8)}  ${String(s.noCoverage).padStart(11)}  ${String(s.ignored).padStart(7)}`,
    );
    if (s.score < 80) failed = true;
  } catch {
    console.log(`${name.padEnd(16)} no report`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
