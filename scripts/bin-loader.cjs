'use strict';
// Runs a bundled executable (dist/bin/NAME.bundle.cjs) with V8's code cache (NAME.bundle.cache, written by the
// build from a run of the command), so that a one-shot command does not compile its bundle again at every start.
// V8 ignores a cache made by another Node version. The bundle has no import() (esbuild turns it into require()):
// code compiled from a cache cannot import dynamically.
const { readFileSync, writeFileSync } = require('node:fs');
const { createRequire, wrap } = require('node:module');
const { join } = require('node:path');
const vm = require('node:vm');

exports.run = (name) => {
  const file = join(__dirname, `${name}.bundle.cjs`);
  const cacheFile = join(__dirname, `${name}.bundle.cache`);
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    // no cache: V8 compiles from the source
  }
  const script = new vm.Script(wrap(readFileSync(file, 'utf8')), { filename: file, cachedData });
  if (process.env.MCUMGR_TS_WRITE_CODE_CACHE) process.once('exit', () => writeFileSync(cacheFile, script.createCachedData()));
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(file), module, file, __dirname);
};
