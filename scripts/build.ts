// Builds what the package runs: dist/cli.cjs (the CLI, bin/metallmix.js runs it), its V8 code
// cache dist/cli.cjs.v8cache, dist/server-worker.js (the server's worker threads) and
// dist/index.js (the library, package.json `exports`), bundled by esbuild from src/. `npm install`
// runs it (the `prepare` script), so a clone is built before its first command.
//
// The CLI is one CommonJS script with its pure-JS dependencies inside, because Node 20 can only
// reuse compiled code for a script (vm.Script's cachedData; module.enableCompileCache needs Node
// 22): compiling the 3 MB bundle was a fifth of a cached `recommend`. The packages that are only
// used on some paths (the openai SDK, pg, the HTTP server) sit inside lazily initialised
// wrappers, so they cost neither compilation nor start-up until used. Native or optional packages
// stay outside. The library bundle leaves every package external, so an application shares its
// own copies (of zod, say).
// Run: node --import tsx scripts/build.ts
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions, type Plugin } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const common: BuildOptions = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
};
// CommonJS dependencies inside an ES module bundle call require(); give them Node's.
const requireShim =
  "import { createRequire as __createRequire } from 'node:module';\nconst require = __createRequire(import.meta.url);";
// Native or optional packages: resolved at run time from node_modules.
const external = ['better-sqlite3', 'node-llama-cpp', '@energetic-ai/*'];

// bin/metallmix.js hands the bundle its own import() as __metallmixImport: import() inside a
// script compiled from a code cache fails ("a dynamic import callback was not specified").
const loaderImport: Plugin = {
  name: 'loader-import',
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/]core[\\/]import-package\.ts$/ }, () => ({
      contents: 'export const importPackage = (name) => __metallmixImport(name);',
      loader: 'js',
    }));
  },
};

const t0 = performance.now();
// The web page (dist/web, built by Vite: npm run build:web) is not ours to remove.
for (const made of [
  'cli.js',
  'cli.js.map',
  'cli.cjs',
  'cli.cjs.map',
  'cli.cjs.v8cache',
  'index.js',
  'index.js.map',
  'server-worker.js',
  'server-worker.js.map',
  'chunks',
])
  rmSync(`${root}dist/${made}`, { recursive: true, force: true });
await Promise.all([
  build({
    ...common,
    entryPoints: { cli: 'src/cli/main.ts' },
    outdir: 'dist',
    outExtension: { '.js': '.cjs' },
    format: 'cjs',
    external,
    // package-files.ts finds the package root from import.meta.url, which CommonJS lacks.
    define: { 'import.meta.url': '__metallmixUrl' },
    banner: { js: "const __metallmixUrl = require('node:url').pathToFileURL(__filename).href;" },
    // worker-pool.ts reads import.meta.resolve only when it runs from src/ (a .ts URL).
    logOverride: { 'empty-import-meta': 'silent' },
    plugins: [loaderImport],
  }),
  build({
    ...common,
    // The server's worker threads load their own entry (src/server/worker-pool.ts).
    entryPoints: { 'server-worker': 'src/server/worker.ts' },
    outdir: 'dist',
    external,
    banner: { js: requireShim },
  }),
  build({
    ...common,
    entryPoints: { index: 'src/index.ts' },
    outdir: 'dist',
    packages: 'external',
  }),
]);
const built = performance.now();

// The code cache holds what a cached `recommend` compiles: the first run fills the meta-learner
// cache (in a temporary folder), the second writes the code V8 compiled for it. A failure here
// costs only speed: the CLI compiles from source when the cache is missing or rejected.
const cacheDir = mkdtempSync(path.join(tmpdir(), 'metallmix-build-'));
try {
  const args = [
    ...['bin/metallmix.js', 'recommend', '--profile', 'examples/chest-xray-small.json'],
    ...['--kb', 'builtin', '--llm-provider', 'none'],
  ];
  const env = { ...process.env, METALLMIX_CACHE: cacheDir };
  spawnSync(process.execPath, args, { cwd: root, env, stdio: 'ignore' });
  const made = spawnSync(process.execPath, args, {
    cwd: root,
    env: { ...env, METALLMIX_CODE_CACHE: 'write' },
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
  });
  if (made.status !== 0)
    console.warn(`no code cache (the CLI starts slower): ${made.stderr.trim().slice(-500)}`);
} finally {
  rmSync(cacheDir, { recursive: true, force: true });
}
console.log(
  `built dist/cli.cjs, dist/server-worker.js and dist/index.js in ${(built - t0).toFixed(0)} ms, the code cache in ${(performance.now() - built).toFixed(0)} ms`,
);
