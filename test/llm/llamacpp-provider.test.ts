import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { z } from 'zod';
import { ExitCode, MetallmixError } from '../../src/core/errors.ts';
import { jsonSchemaOf, SCHEMA_NAMES } from '../../src/core/json-schema.ts';
import { LlmProposal } from '../../src/core/recommendation.ts';
import { toGrammarSchema } from '../../src/llm/grammar-schema.ts';
import { LlamaCppModel } from '../../src/llm/providers/llamacpp.ts';
import type { ChatMessage } from '../../src/llm/types.ts';

const GGUF = fileURLToPath(
  new URL('../../../shared/models/stories260K-gguf/stories260K.gguf', import.meta.url),
);
const REPO = fileURLToPath(new URL('../../', import.meta.url));

function libraryInstalled(): boolean {
  try {
    import.meta.resolve('node-llama-cpp');
    return true;
  } catch {
    return false;
  }
}

const skip = !existsSync(GGUF)
  ? `skipped: ${GGUF} is absent`
  : !libraryInstalled()
    ? 'skipped: the optional package node-llama-cpp is not installed'
    : false;

const messages: ChatMessage[] = [
  { role: 'system', content: 'You recommend a pretrained model and hyperparameters as JSON.' },
  { role: 'user', content: 'Dataset: chest x-ray, 5,000 images, 2 classes.' },
];
const proposal = { name: 'LlmProposal', jsonSchema: jsonSchemaOf('LlmProposal') };
/** An answer of several hundred tokens: it runs far longer than the deadlines below. */
const longStory = {
  name: 'LongStory',
  jsonSchema: {
    type: 'object',
    properties: { story: { type: 'string', minLength: 600, maxLength: 600 } },
    required: ['story'],
  },
};

/** Rejects with an unavailable MetallmixError, one line; returns it. */
async function unavailableError(promise: Promise<unknown>): Promise<MetallmixError> {
  const err = await promise.then(
    () => assert.fail('expected a rejection'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof MetallmixError, `expected MetallmixError, got ${String(err)}`);
  assert.equal(err.exitCode, ExitCode.unavailable);
  assert.ok(!err.message.includes('\n'));
  return err;
}

describe('in-process llama.cpp with stories260K', { skip }, () => {
  let model: LlamaCppModel;
  before(() => {
    model = new LlamaCppModel({ gguf: GGUF, threads: 1 });
  });
  after(() => model.close());

  test('loads once and generates JSON that parses and validates against the LlmProposal schema', async (t) => {
    const loadStart = performance.now();
    await model.probe();
    const loadMs = performance.now() - loadStart;

    const result = await model.generate({ messages, schema: proposal, temperature: 0, seed: 1 });
    assert.ok(result.json !== undefined, `not JSON: ${result.text}`);
    const validator = z.fromJSONSchema(proposal.jsonSchema);
    const check = validator.safeParse(result.json);
    assert.ok(check.success, `does not validate: ${result.text}`);
    assert.ok(LlmProposal.safeParse(result.json).success);
    assert.equal(result.model, 'llamacpp:stories260K.gguf');
    assert.ok(result.usage!.promptTokens > 0 && result.usage!.completionTokens > 0);

    const again = new LlamaCppModel({ gguf: GGUF, threads: 1 });
    const reuseStart = performance.now();
    await again.load();
    const reuseMs = performance.now() - reuseStart;
    assert.ok(reuseMs < 50, `the second handle reuses the loaded model (${reuseMs} ms)`);
    await again.close();

    const tokensPerSec = result.usage!.completionTokens / (result.latencyMs / 1000);
    t.diagnostic(
      `load ${loadMs.toFixed(0)} ms; JSON answer of ${result.usage!.completionTokens} tokens in ${result.latencyMs.toFixed(0)} ms (${tokensPerSec.toFixed(0)} tokens/s, prompt ${result.usage!.promptTokens} tokens)`,
    );
  });

  test('node-llama-cpp accepts the converted schema of every domain type', async () => {
    const { llama } = await model.load();
    for (const name of SCHEMA_NAMES)
      await assert.doesNotReject(
        llama.createGrammarForJsonSchema(toGrammarSchema(jsonSchemaOf(name))),
        name,
      );
  });

  test('maxTokens bounds free text; the same seed gives the same sample', async (t) => {
    const ask = () =>
      model.generate({
        messages: [{ role: 'user', content: 'Tell me a story.' }],
        temperature: 0.9,
        seed: 42,
        maxTokens: 16,
      });
    const first = await ask();
    const second = await ask();
    assert.ok(first.usage!.completionTokens <= 16);
    assert.equal(first.json, undefined);
    assert.equal(second.text, first.text);
    t.diagnostic(`16 tokens in ${first.latencyMs.toFixed(0)} ms: ${JSON.stringify(first.text)}`);
  });

  test('a generation past its timeout fails with an unavailable error in bounded time', async () => {
    await model.load();
    const started = performance.now();
    const err = await unavailableError(
      model.generate({ messages, schema: longStory, maxTokens: 4000, timeoutMs: 150 }),
    );
    const elapsed = performance.now() - started;
    assert.match(
      err.message,
      /stories260K\.gguf within 150 ms \(in-process llama\.cpp, 1 thread\)/,
    );
    assert.ok(elapsed >= 145 && elapsed < 3000, `elapsed ${elapsed} ms`);
  });

  test('aborting stops a running generation and one waiting for its turn', async () => {
    const controller = new AbortController();
    const reason = new Error('cancelled by the caller');
    const ask = () =>
      model.generate({ messages, schema: longStory, maxTokens: 4000, signal: controller.signal });
    const running = ask();
    const waiting = ask();
    setTimeout(() => controller.abort(reason), 50);
    const started = performance.now();
    await Promise.all([
      assert.rejects(running, (e) => e === reason),
      assert.rejects(waiting, (e) => e === reason),
    ]);
    assert.ok(performance.now() - started < 3000);
    // The model is still usable afterwards.
    const after = await model.generate({ messages, maxTokens: 4 });
    assert.ok(after.usage!.completionTokens <= 4);
  });

  test('concurrent calls take turns on the one context', async () => {
    const ask = (seed: number) =>
      model.generate({ messages, maxTokens: 6, seed, temperature: 0.5 });
    const results = await Promise.all([ask(1), ask(2), ask(3)]);
    for (const r of results) assert.ok(r.usage!.completionTokens > 0);
  });
});

describe('in-process llama.cpp unavailable', () => {
  test('a missing GGUF file names the path', async () => {
    const missing = new LlamaCppModel({ gguf: '/nonexistent/dir/model.gguf' });
    const err = await unavailableError(missing.generate({ messages }));
    assert.equal(
      err.message,
      'GGUF model file not found or not readable: /nonexistent/dir/model.gguf',
    );
    // Probing before a prompt is built: a missing file is the user's setting to fix (exit 2).
    await assert.rejects(missing.probe(), (e: unknown) => {
      assert.ok(e instanceof MetallmixError);
      assert.equal(e.exitCode, 2);
      assert.equal(
        e.message,
        '/nonexistent/dir/model.gguf: GGUF model file not found or not readable',
      );
      return true;
    });
  });

  test(
    'a missing node-llama-cpp package says which package to install',
    { skip: existsSync(GGUF) ? false : `skipped: ${GGUF} is absent` },
    async () => {
      // A child process whose module resolution cannot find node-llama-cpp, as on a base install.
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [
          '--import',
          'tsx',
          '--import',
          './test/llm/fixtures/hide-node-llama-cpp.mjs',
          'test/llm/fixtures/generate-once.ts',
          GGUF,
        ],
        { cwd: REPO, timeout: 30_000 },
      );
      const outcome = JSON.parse(stdout);
      assert.equal(outcome.ok, false);
      assert.equal(outcome.name, 'MetallmixError');
      assert.equal(outcome.exitCode, ExitCode.unavailable);
      assert.match(
        outcome.message,
        /^the in-process provider needs the optional package node-llama-cpp, which is not installed \(npm install node-llama-cpp\)/,
      );
    },
  );
});
