// What running the CLI from a build saves: `metallmix --help` and a cached `recommend` (built-in
// knowledge base, no LLM) as whole processes, for several ways of running the same CLI, in one
// run and interleaved (so every variant sees the same load), against `node -e 0`.
//   node --import tsx bench/startup.ts [--runs 15] [--variant NAME=BIN]...
// Default variants: `bundle`, bin/metallmix.js running the esbuild bundle in dist/ compiled from
// its code cache (what ships), and `bundle-no-code-cache`, the same compiled from source; add
// e.g. `--variant tsx=OLD/bin/metallmix.js` (a checkout that runs src/ through tsx) or
// `--variant tsc=FILE.mjs` (a script importing tsc's per-file output and calling main).
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cpu, describe, load, spawnTimed, timeSource, wall, type Sample } from './timing.ts';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '15' },
    variant: { type: 'string', multiple: true, default: [] },
    profile: {
      type: 'string',
      default: new URL('../examples/chest-xray-small.json', import.meta.url).pathname,
    },
  },
});
const runs = Number(args.runs);
const bin = new URL('../bin/metallmix.js', import.meta.url).pathname;
/** name, script, extra environment */
const variants: [string, string, Record<string, string>][] = [
  ['bundle', bin, {}],
  ['bundle-no-code-cache', bin, { METALLMIX_CODE_CACHE: 'off' }],
  ...args.variant!.map((v): [string, string, Record<string, string>] => {
    const i = v.indexOf('=');
    if (i < 1) throw new Error(`--variant NAME=BIN, got ${v}`);
    return [v.slice(0, i), v.slice(i + 1), {}];
  }),
];
console.log(
  `bench/startup: ${runs} samples each, interleaved; ${cpus().length} cores; load average ${load()}; CPU from ${timeSource}`,
);
const cache = mkdtempSync(join(tmpdir(), 'metallmix-bench-startup-'));
try {
  const env = { ...process.env, METALLMIX_CACHE: cache };
  const recommend = (bin: string) => [bin, 'recommend', '--profile', args.profile!, '--json'];
  // Fill the cache once per variant (a variant of other code may keep other files in it).
  for (const [, bin, extra] of variants) spawnTimed(recommend(bin), { ...env, ...extra });
  const samples = new Map<string, Sample[]>();
  const add = (key: string, s: Sample) => samples.set(key, [...(samples.get(key) ?? []), s]);
  for (let i = 0; i < runs; i++) {
    const order = i % 2 ? [...variants].reverse() : variants;
    add('node -e 0', spawnTimed(['-e', '0'], env));
    for (const [name, bin, extra] of order) {
      add(`${name} --help`, spawnTimed([bin, '--help'], { ...env, ...extra }));
      add(`${name} recommend (cached)`, spawnTimed(recommend(bin), { ...env, ...extra }));
    }
  }
  for (const [key, s] of samples)
    console.log(`${key.padEnd(32)} wall ${describe(wall(s))}; CPU ${describe(cpu(s))}`);
  console.log(`load average at end: ${load()}`);
} finally {
  rmSync(cache, { recursive: true, force: true });
}
