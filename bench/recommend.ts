// Recommendation response time without an LLM (target: median under 300 ms with a cached
// meta-learner). Measures, in one run and on the same knowledge base:
//   cold    the first request: fit the meta-learner (and build the retrieval index), then answer;
//   cached  later requests that each open the knowledge base and load the cached meta-learner
//           and index from disk, as every `metallmix recommend` process does (in this process);
//   warm    repeated requests in one process with the meta-learner in memory (a server).
// Prints medians and the ratios cached/cold and cached/target.
// Run: node --import tsx bench/recommend.ts [--kb FILE] [--profile FILE] [--runs 15]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { recommend } from '../src/api/index.ts';
import { median } from '../src/bench/metrics.ts';
import { readProfileFile } from '../src/profile/index.ts';
import { viewOf } from '../src/recommend/kb-view.ts';
import { metaLearnerSource } from '../src/recommend/metalearner-source.ts';
import { metalearnerRecommender } from '../src/recommend/strategies/metalearner.ts';
import { openKnowledgeBase, readLocator } from '../src/store/index.ts';

const { values: args } = parseArgs({
  options: {
    kb: { type: 'string' },
    profile: {
      type: 'string',
      default: new URL('../examples/chest-xray-small.json', import.meta.url).pathname,
    },
    runs: { type: 'string', default: '15' },
  },
});
const TARGET_MS = 300;
const runs = Number(args.runs);
const profile = readProfileFile(args.profile!);
const cacheDir = mkdtempSync(join(tmpdir(), 'metallmix-bench-recommend-'));
const env = { ...process.env, METALLMIX_CACHE: cacheDir };
const options = { metric: 'accuracy', objective: 'best' as const, topK: 5, seed: 0 };

async function oneRequest(): Promise<{ ms: number; stages: Record<string, number> }> {
  const t0 = performance.now();
  const rec = await recommend({
    dataset: { profile },
    kb: args.kb,
    strategy: 'metalearner',
    ...options,
    env,
  });
  return { ms: performance.now() - t0, stages: rec.timingsMs };
}

try {
  const cold = await oneRequest();
  const cached: number[] = [];
  const stages: Record<string, number[]> = {};
  for (let i = 0; i < runs; i++) {
    const r = await oneRequest();
    cached.push(r.ms);
    for (const [k, v] of Object.entries(r.stages)) (stages[k] ??= []).push(v);
  }
  const kb = await openKnowledgeBase(readLocator(args.kb, env), { mode: 'read', env });
  const view = viewOf(await kb.snapshot(), kb.label);
  await kb.close();
  const inMemory = metalearnerRecommender(view, {
    metaLearners: metaLearnerSource(view, { cacheDir }),
  });
  await inMemory.prepare!('accuracy');
  const warm: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await inMemory.recommend(profile, options);
    warm.push(performance.now() - t0);
  }
  const m = median(cached);
  console.log(
    `knowledge base: ${args.kb ?? 'built-in'}; ${view.records.length} records; ${runs} runs each`,
  );
  console.log(`cold (fit + index + answer):      ${cold.ms.toFixed(0)} ms`);
  console.log(`cached (open KB, load models):    median ${m.toFixed(0)} ms`);
  console.log(`warm (meta-learner in memory):    median ${median(warm).toFixed(0)} ms`);
  console.log(
    `cached / cold: ${(m / cold.ms).toFixed(3)}   cached / ${TARGET_MS} ms target: ${(m / TARGET_MS).toFixed(2)}`,
  );
  console.log(
    `cached stage medians (ms): ${Object.entries(stages)
      .map(([k, v]) => `${k} ${median(v).toFixed(0)}`)
      .join(', ')}`,
  );
} finally {
  rmSync(cacheDir, { recursive: true, force: true });
}
