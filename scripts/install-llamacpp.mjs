#!/usr/bin/env node
// On-demand install of the in-process LLM provider: node-llama-cpp with the prebuilt llama.cpp
// binary of this platform's CPU build only. A plain `npm install node-llama-cpp` also fetches the
// CUDA, Vulkan and other platforms' builds (about 670 MB on linux-x64); the provider runs
// llama.cpp on the CPU (gpu: false), so one build is all it needs. It is installed into its own
// folder (.llamacpp/, so that leaving out optional packages there cannot touch the project's
// tree) and linked into node_modules. Run it again after `npm ci`, which empties node_modules.
// Usage: npm run llamacpp:install
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// 3.21.1: the newest release whose platform packages the registry serves.
const VERSION = '3.21.1';
const root = fileURLToPath(new URL('..', import.meta.url));
const arch = { x64: 'x64', arm64: 'arm64', arm: 'armv7l' }[process.arch];
const platform = { linux: 'linux', darwin: 'mac', win32: 'win' }[process.platform];
if (!arch || !platform) {
  console.error(`install-llamacpp: no prebuilt llama.cpp for ${process.platform}-${process.arch}`);
  process.exit(1);
}
const binary = `@node-llama-cpp/${platform}-${platform === 'mac' && arch === 'arm64' ? 'arm64-metal' : arch}`;
const prefix = path.join(root, '.llamacpp');
mkdirSync(prefix, { recursive: true });
writeFileSync(
  path.join(prefix, 'package.json'),
  `${JSON.stringify({ private: true, description: 'metallmix: node-llama-cpp, CPU build only (scripts/install-llamacpp.mjs)' }, null, 2)}\n`,
);
execFileSync(
  process.platform === 'win32' ? 'npm.cmd' : 'npm',
  [
    'install',
    '--prefix',
    prefix,
    '--omit=optional',
    '--no-audit',
    '--no-fund',
    '--no-package-lock',
    `node-llama-cpp@${VERSION}`,
    `${binary}@${VERSION}`,
  ],
  { stdio: 'inherit' },
);
const link = path.join(root, 'node_modules', 'node-llama-cpp');
rmSync(link, { recursive: true, force: true });
symlinkSync(path.join(prefix, 'node_modules', 'node-llama-cpp'), link, 'junction');
console.log(`install-llamacpp: node-llama-cpp ${VERSION} with ${binary} (CPU build) in ${prefix}`);
