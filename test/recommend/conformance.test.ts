// The Recommender contract (src/recommend/types.ts), checked for every strategy of the registry
// in the manner of Optuna's tests that run over every sampler: same seed, same answer;
// candidates restricted as asked; top-k ranked best-first; the budget honoured. The LLM
// strategies run with the real tiny GGUF model through llama.cpp (which does not ground its
// answers, so they fall back, as they must, without breaking the contract).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Candidate, Recommendation } from '../../src/core/index.ts';
import { LlamaCppModel } from '../../src/llm/index.ts';
import { readProfileFile } from '../../src/profile/index.ts';
import { candidateKey, viewOf } from '../../src/recommend/kb-view.ts';
import { metaLearnerSource } from '../../src/recommend/metalearner-source.ts';
import { recommendOnView } from '../../src/recommend/pipeline.ts';
import { STRATEGIES } from '../../src/recommend/registry.ts';
import type { StrategyDeps } from '../../src/recommend/types.ts';
import { openKnowledgeBase } from '../../src/store/index.ts';
import { EXAMPLE } from './example.ts';

const GGUF = fileURLToPath(
  new URL('../../../shared/models/stories260K-gguf/stories260K.gguf', import.meta.url),
);
const SHORT_PROMPTS = fileURLToPath(new URL('./fixtures/short-prompts/', import.meta.url));
const haveGguf = existsSync(GGUF);

const cacheDir = mkdtempSync(path.join(tmpdir(), 'metallmix-conformance-'));
const kb = await openKnowledgeBase('builtin', {
  mode: 'read',
  env: { ...process.env, METALLMIX_CACHE: cacheDir },
});
const view = viewOf(await kb.snapshot(), kb.label);
await kb.close();
const profile = readProfileFile(EXAMPLE);
const metaLearners = metaLearnerSource(view);
const llm = haveGguf ? new LlamaCppModel({ gguf: GGUF, threads: 1, timeoutMs: 60_000 }) : undefined;
const deps: StrategyDeps = {
  metaLearners,
  ...(llm
    ? {
        llm,
        reasoning: { maxAttempts: 1, maxTokens: 48, promptsDir: SHORT_PROMPTS, llmJudge: false },
      }
    : {}),
};
const base = { metric: 'accuracy', objective: 'best' as const, topK: 6, seed: 3 };

/** The answer without what may differ between two equal requests: timings and latencies. */
const stable = (r: Recommendation) => ({
  ...r,
  timingsMs: {},
  attempts: r.attempts.map(({ latencyMs: _latency, ...a }) => a),
});
const keyOf = (c: { model: string; config: Candidate['config'] }) =>
  candidateKey(c.model, c.config);

for (const entry of STRATEGIES) {
  const skip = entry.needsLlm && !haveGguf ? `no tiny GGUF model at ${GGUF}` : false;

  test(
    `${entry.name}: same request and seed, same answer; another seed changes only what is random`,
    { skip },
    async () => {
      const a = await recommendOnView(view, profile, { ...base, strategy: entry.name }, deps);
      const b = await recommendOnView(view, profile, { ...base, strategy: entry.name }, deps);
      assert.deepEqual(stable(a), stable(b));
      assert.equal(a.strategy, entry.name);
      if (!entry.stochastic) {
        const c = await recommendOnView(
          view,
          profile,
          { ...base, seed: 4, strategy: entry.name },
          deps,
        );
        assert.deepEqual(
          c.topK.map(keyOf),
          a.topK.map(keyOf),
          'a deterministic strategy ignores the seed',
        );
      }
    },
  );

  test(
    `${entry.name}: answers only among the candidates and models it is given`,
    { skip },
    async () => {
      const all = await recommendOnView(
        view,
        profile,
        { ...base, topK: 40, strategy: entry.name },
        deps,
      );
      const given = all.topK.filter((_, i) => i % 3 === 1).slice(0, 8);
      const allowed = new Set(given.map(keyOf));
      const rec = await recommendOnView(
        view,
        profile,
        { ...base, topK: 20, candidates: given, budgetMinutes: 600, strategy: entry.name },
        deps,
      );
      const returned = [
        ...rec.topK,
        ...rec.paretoFront,
        ...(rec.budgetPick ? [rec.budgetPick] : []),
      ];
      for (const c of returned) assert.ok(allowed.has(keyOf(c)), `${keyOf(c)} was not a candidate`);
      assert.equal(rec.topK.length, given.length, 'every candidate is ranked when top-k allows');
      const models = await recommendOnView(
        view,
        profile,
        { ...base, models: ['resnet18', 'densenet121'], strategy: entry.name },
        deps,
      );
      for (const c of models.topK)
        assert.ok(['resnet18', 'densenet121'].includes(c.model), c.model);
    },
  );

  test(
    `${entry.name}: top-k ranked 1..k with the pick first, under the objective asked`,
    { skip },
    async () => {
      for (const objective of ['best', 'balanced', 'fastest'] as const) {
        const rec = await recommendOnView(
          view,
          profile,
          { ...base, objective, strategy: entry.name },
          deps,
        );
        assert.equal(rec.objective, objective);
        assert.deepEqual(
          rec.topK.map((c) => c.rank),
          rec.topK.map((_, i) => i + 1),
        );
        assert.deepEqual(rec.pick, rec.topK[0]);
        assert.equal(new Set(rec.topK.map(keyOf)).size, rec.topK.length, 'no candidate twice');
        // Strategies that rank by their prediction list the best predicted first under "best"
        // (single-best lists a greedy portfolio after its first pick, random a uniform order).
        if (
          objective === 'best' &&
          !['single-best', 'random'].includes(entry.name) &&
          !rec.llmAnswer
        )
          for (let i = 1; i < rec.topK.length; i++)
            assert.ok(
              rec.topK[i].predictedMetric.mean <= rec.topK[i - 1].predictedMetric.mean + 1e-12,
              `rank ${i + 1} is predicted above rank ${i}`,
            );
      }
    },
  );

  test(
    `${entry.name}: the budget pick fits the budget, or nothing does and says so`,
    { skip },
    async () => {
      const fits = await recommendOnView(
        view,
        profile,
        { ...base, budgetMinutes: 1.6, strategy: entry.name },
        deps,
      );
      if (fits.budgetPick) {
        assert.ok(fits.budgetPick.predictedTrainingTimeSec!.mean <= 1.6 * 60);
        assert.deepEqual(fits.unmet, []);
      } else {
        assert.equal(fits.unmet[0]?.constraint, 'budget');
        assert.ok(
          fits.notices.some((n) => /budget|minutes/.test(n)),
          fits.notices.join('\n'),
        );
      }
      const none = await recommendOnView(
        view,
        profile,
        { ...base, budgetMinutes: 0.001, strategy: entry.name },
        deps,
      );
      assert.equal(none.budgetPick, null);
      assert.deepEqual(
        none.unmet.map((u) => u.constraint),
        ['budget'],
      );
    },
  );
}

test('the metalearner strategy predicts times, so some budget pick exists on the built-in knowledge base', async () => {
  const rec = await recommendOnView(
    view,
    profile,
    { ...base, budgetMinutes: 1.6, strategy: 'metalearner' },
    deps,
  );
  assert.ok(rec.budgetPick, 'a 1.6-minute candidate exists in the MedMNIST aggregates');
});

test.after(async () => {
  await llm?.close();
  rmSync(cacheDir, { recursive: true, force: true });
});
