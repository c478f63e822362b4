// Builds what the package runs: dist/cli.js (the CLI, bin/metallmix.js runs it) and dist/index.js
// (the library, package.json `exports`), bundled by esbuild from src/. `npm install` runs it
// (the `prepare` script), so a clone is built before its first command.
//
// The CLI bundle includes its pure-JS dependencies (one file to parse instead of hundreds to
// resolve and load); dynamic imports (the openai SDK, node-llama-cpp, the neural embedder) stay
// separate chunks or packages, loaded only on the paths that use them. The library bundle
// leaves every package external, so an application shares its own copies (of zod, say).
// Run: node --import tsx scripts/build.ts
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions } from 'esbuild';

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

const t0 = performance.now();
// The web page (dist/web, built by Vite: npm run build:web) is not ours to remove.
for (const made of [
  'cli.js',
  'cli.js.map',
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
    // The server's worker threads load their own entry (src/server/worker-pool.ts).
    entryPoints: { cli: 'src/cli/main.ts', 'server-worker': 'src/server/worker.ts' },
    outdir: 'dist',
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    // Native or optional packages: resolved at run time from node_modules.
    external: ['better-sqlite3', 'node-llama-cpp', '@energetic-ai/*'],
    banner: { js: requireShim },
  }),
  build({
    ...common,
    entryPoints: { index: 'src/index.ts' },
    outdir: 'dist',
    packages: 'external',
  }),
]);
console.log(
  `built dist/cli.js, dist/server-worker.js and dist/index.js in ${(performance.now() - t0).toFixed(0)} ms`,
);
