// The recommender's prompt fits the model's context with room for the answer (tokens counted by
// the real GGUF model's tokenizer in-process, estimated for HTTP servers), trimming the least
// similar evidence first; the output schema closes the hyperparameters to the search space; and
// the prompts' citation examples are ids the rules accept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { checkAnswer, loadPromptTemplates } from '../../src/judge/index.ts';
import { LlamaCppModel, OpenAICompatibleModel, estimateTokens } from '../../src/llm/index.ts';
import { hyperparameterSchema } from '../../src/recommend/reasoning/hyperparameter-schema.ts';
import {
  buildRecommenderMessages,
  proposalSchemaFor,
} from '../../src/recommend/reasoning/llm-prompts.ts';
import { fitPrompt, promptBudget } from '../../src/recommend/reasoning/prompt-budget.ts';
import { FIXTURE_SPACE, makeContext, validProposal } from '../judge/fixture.ts';

const GGUF = fileURLToPath(
  new URL('../../../shared/models/stories260K-gguf/stories260K.gguf', import.meta.url),
);
const templates = loadPromptTemplates();
const build = (strategy: 'llm' | 'hybrid') => (ctx: ReturnType<typeof makeContext>) =>
  buildRecommenderMessages({ context: ctx, strategy, templates, attempt: 1, maxAttempts: 2 });

test('HTTP: an estimated budget trims the least similar evidence first and says so', async () => {
  const context = makeContext();
  const full = build('llm')(context);
  const fullTokens = full.reduce((n, m) => n + estimateTokens(m.content) + 8, 0);
  // A window that holds the prompt only once two evidence items are gone.
  const llm = new OpenAICompatibleModel({
    baseUrl: 'http://127.0.0.1:9/v1',
    model: 'm',
    context: fullTokens + 256 - 60,
  });
  const budget = await promptBudget(llm, 256);
  assert.equal(budget.estimated, true);
  const fitted = await fitPrompt(context, build('llm'), budget);
  assert.equal(fitted.overflow, undefined);
  assert.ok(fitted.tokens <= budget.context - budget.answer);
  const kept = new Set(fitted.context.evidence.map((e) => e.id));
  const dropped = context.evidence.filter((e) => !kept.has(e.id));
  assert.ok(dropped.length >= 1, 'something was trimmed');
  const least = Math.min(...context.evidence.map((e) => e.similarity));
  assert.ok(
    dropped.some((e) => e.similarity === least),
    'the least similar goes first',
  );
  for (const d of dropped)
    for (const k of fitted.context.evidence) assert.ok(d.similarity <= k.similarity);
  assert.match(fitted.notice!, /trimmed to fit the model's context of \d+ tokens .*estimated/);
  const roomy = await fitPrompt(
    context,
    build('llm'),
    await promptBudget(
      new OpenAICompatibleModel({ baseUrl: 'http://127.0.0.1:9/v1', model: 'm', context: 100_000 }),
      256,
    ),
  );
  assert.equal(roomy.notice, undefined, 'nothing trimmed when it fits');
  assert.deepEqual(roomy.context, context);
});

test(
  'in-process: the GGUF tokenizer counts, and a prompt that cannot fit stops with a reason',
  { skip: existsSync(GGUF) ? false : `no model at ${GGUF}` },
  async (t) => {
    const llm = new LlamaCppModel({ gguf: GGUF, threads: 1, context: 512 });
    t.after(() => llm.close());
    const budget = await promptBudget(llm, 1024);
    assert.deepEqual([budget.context, budget.answer, budget.estimated], [512, 256, false]);
    const counted = await budget.count([{ role: 'user', content: 'Once upon a time' }]);
    assert.ok(counted > 8 && counted < 8 + 16, `tokens of a short sentence: ${counted}`);
    const fitted = await fitPrompt(makeContext(), build('hybrid'), budget);
    assert.match(
      fitted.overflow!,
      /needs \d+ tokens \(counted\) even trimmed, but the model's context of 512 tokens leaves 256/,
    );
  },
);

test('the answer schema closes hyperparameters to the space, with conditions', () => {
  const schema = z.fromJSONSchema(
    proposalSchemaFor(makeContext(), 'llm').jsonSchema as Parameters<typeof z.fromJSONSchema>[0],
  );
  assert.ok(schema.safeParse(validProposal()).success, 'a proposal inside the space');
  assert.equal(schema.safeParse(validProposal({ hyperparameters: {} })).success, false, 'no {}');
  const { learning_rate: _lr, ...missing } = validProposal().hyperparameters;
  assert.equal(schema.safeParse(validProposal({ hyperparameters: missing })).success, false);
  const extra = { ...validProposal().hyperparameters, momentum: 0.9 };
  assert.equal(schema.safeParse(validProposal({ hyperparameters: extra })).success, false);
  assert.equal(FIXTURE_SPACE.parameters.length, 3);
  const conditional = z.fromJSONSchema(
    hyperparameterSchema({
      parameters: [
        { name: 'strategy', type: 'categorical', choices: ['lp', 'partial'] },
        {
          name: 'depth',
          type: 'int',
          low: 1,
          high: 3,
          log: false,
          condition: { parent: 'strategy', values: ['partial'] },
        },
      ],
    }),
  );
  assert.ok(conditional.safeParse({ strategy: 'lp' }).success);
  assert.ok(conditional.safeParse({ strategy: 'partial', depth: 2 }).success);
  assert.equal(conditional.safeParse({ strategy: 'partial' }).success, false, 'active: required');
  assert.equal(
    conditional.safeParse({ strategy: 'lp', depth: 2 }).success,
    false,
    'inactive: absent',
  );
  assert.equal(conditional.safeParse({ strategy: 'partial', depth: 4 }).success, false, 'in range');
});

test('the citation example in the prompts is made of real ids that the rules accept', () => {
  const context = makeContext();
  for (const strategy of ['llm', 'hybrid'] as const) {
    const text = build(strategy)(context)
      .map((m) => m.content)
      .join('\n');
    const example = /e\.g\. ((?:\[[^\]]+\](?:, | or )?)+)/.exec(text)?.[1];
    assert.ok(example, 'the prompt shows an example citation');
    const ids = [...example!.matchAll(/\[([^\]]+)\]/g)].map((m) => m[1]);
    const proposal = validProposal({
      justification: `Following the evidence ${ids.map((id) => `[${id}]`).join(' ')}.`,
      citedEvidence: ids,
    });
    const { violations } = checkAnswer(context, {
      text: JSON.stringify(proposal),
      json: proposal,
    });
    assert.deepEqual(
      violations.filter((v) => /cite|citedEvidence/.test(v)),
      [],
      `${strategy}: citing the example ${ids.join(', ')} satisfies the rules`,
    );
  }
});
