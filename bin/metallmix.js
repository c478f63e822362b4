#!/usr/bin/env node
// Runs the CLI from the build in dist/ (made by `npm install` through the `prepare` script, or
// by `npm run build`). Tests and `npm run metallmix:src` run the TypeScript sources through tsx.
//
// The bundle is compiled with the code cache the build wrote beside it (V8's cachedData), which
// Node 20 offers only for scripts, not ES modules: compiling it from source was a fifth of a
// cached `recommend`. A cache V8 rejects (another Node version) only costs that time.
// METALLMIX_CODE_CACHE=write (scripts/build.ts) writes the cache after the command ran; =off
// compiles from source (bench/startup.ts measures what the cache saves).
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

const bundle = fileURLToPath(new URL('../dist/cli.cjs', import.meta.url));
const cacheFile = `${bundle}.v8cache`;
let source;
try {
  source = readFileSync(bundle, 'utf8');
} catch (err) {
  if (err?.code !== 'ENOENT') throw err;
  process.stderr.write('metallmix: not built yet: run `npm run build` (npm install runs it)\n');
  process.exit(1);
}
const cacheMode = process.env.METALLMIX_CODE_CACHE;
let cachedData;
try {
  if (cacheMode !== 'off' && cacheMode !== 'write') cachedData = readFileSync(cacheFile);
} catch {
  // No cache: compile from source.
}
// One line, so line numbers in stack traces are the bundle's own.
const script = new vm.Script(
  `(function (exports, require, module, __filename, __dirname, __metallmixImport) {${source}\n})`,
  { filename: bundle, cachedData },
);
const module = { exports: {} };
script.runInThisContext()(
  module.exports,
  createRequire(bundle),
  module,
  bundle,
  path.dirname(bundle),
  // The optional packages (node-llama-cpp, the neural embedder's runtime), imported from here:
  // a script compiled from a code cache cannot import() itself (src/core/import-package.ts).
  (name) => import(name),
);
process.exitCode = await module.exports.main(process.argv);
if (cacheMode === 'write') {
  writeFileSync(`${cacheFile}.tmp`, script.createCachedData());
  renameSync(`${cacheFile}.tmp`, cacheFile);
}
