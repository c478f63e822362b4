// The reasoning loop and the judge with a real (tiny, not instruction-tuned) GGUF model through
// in-process llama.cpp: schema-constrained answers must parse, the same seed must give the same
// answers, and the rules must reject what the model writes (children's stories that cite no
// evidence in their justification), each rejection with its reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Attempt, LlmProposal } from '../../src/core/index.ts';
import { judgeWithLlm, loadPromptTemplates } from '../../src/judge/index.ts';
import { LlamaCppModel } from '../../src/llm/index.ts';
import { reasonWithLlm } from '../../src/recommend/reasoning/llm-reasoning.ts';
import { makeContext, validProposal } from '../judge/fixture.ts';

const GGUF = fileURLToPath(
  new URL('../../../shared/models/stories260K-gguf/stories260K.gguf', import.meta.url),
);
async function skipReason(): Promise<string | false> {
  if (!existsSync(GGUF)) return `tiny GGUF model absent: ${GGUF}`;
  try {
    // A variable specifier: the package is an on-demand install (npm run llamacpp:install), so
    // type checking must not need it.
    const name = 'node-llama-cpp';
    await import(name);
  } catch {
    return 'node-llama-cpp is not installed (npm run llamacpp:install)';
  }
  return false;
}
const skip = await skipReason();

// Short templates keep each prompt to a few hundred tokens: the default ones (about 1,800 tokens
// of this model's 512-token vocabulary) took ~17-24 s per attempt on the loaded 2-core machine.
const shortTemplates = () =>
  loadPromptTemplates({
    promptsDir: fileURLToPath(new URL('./fixtures/short-prompts/', import.meta.url)),
  });

// One thread: with two, llama.cpp's worker threads spin-wait for each other, and on a shared
// 2-core machine under load 50 tokens took 49 s instead of 0.1 s (measured).
function tinyModel() {
  return new LlamaCppModel({ gguf: GGUF, threads: 1, timeoutMs: 60_000 });
}

test(
  'llama.cpp: the llm and hybrid loops run, answers follow the schema, rejections carry reasons',
  { skip },
  async (t) => {
    const llm = tinyModel();
    t.after(() => llm.close());
    const templates = shortTemplates();
    const context = makeContext();
    for (const strategy of ['llm', 'hybrid'] as const) {
      const run = () =>
        reasonWithLlm({
          context,
          strategy,
          llm,
          templates,
          maxAttempts: 2,
          maxTokens: 400,
          seed: 3,
        });
      const r = await run();
      assert.ok(r.attempts.length >= 1 && r.attempts.length <= 2);
      for (const a of r.attempts) Attempt.parse(a);
      const parsed = r.attempts.filter((a) => LlmProposal.safeParse(safeJson(a.raw)).success);
      assert.ok(
        parsed.length >= 1,
        `some answer follows the schema: ${JSON.stringify(r.attempts)}`,
      );
      assert.equal(r.accepted, false, `a story is not a grounded answer: ${r.attempts[0].raw}`);
      assert.equal(r.final, undefined);
      assert.equal(r.fallbackToMetaLearner, true);
      assert.match(r.notice!, /the meta-learner's pick is used instead\.$/);
      for (const a of r.attempts)
        assert.ok(a.ruleViolations.length > 0, `each rejection says why: ${JSON.stringify(a)}`);
      assert.ok(r.tokens > 0 && r.llmMs > 0);
      const again = await run();
      assert.deepEqual(
        again.attempts.map((a) => [a.raw, a.ruleViolations]),
        r.attempts.map((a) => [a.raw, a.ruleViolations]),
        'same seed, same answers',
      );
    }
  },
);

test('llama.cpp: the judge scores or fails with a reason, never crashes', { skip }, async (t) => {
  const judge = tinyModel();
  t.after(() => judge.close());
  const context = makeContext();
  const proposal = validProposal();
  const ask = () =>
    judgeWithLlm({
      context,
      proposal,
      prediction: context.predict({ model: proposal.model, config: proposal.hyperparameters }),
      strategy: 'llm',
      judge,
      templates: shortTemplates(),
      maxTokens: 200,
      seed: 1,
    });
  const j = await ask();
  assert.equal(j.unreachable, false);
  assert.ok(
    j.scores !== undefined || /judge answer unusable/.test(j.error ?? ''),
    JSON.stringify(j),
  );
  assert.ok(j.tokens > 0);
  const again = await ask();
  assert.deepEqual([again.scores, again.error], [j.scores, j.error], 'same seed, same verdict');
});

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
