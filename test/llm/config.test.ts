import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Command } from 'commander';
import { MetallmixError } from '../../src/core/errors.ts';
import { llmOptions } from '../../src/cli/llm-options.ts';
import { resolveLlmConfig, type LlmFlags } from '../../src/llm/config.ts';
import { createLanguageModel } from '../../src/llm/create.ts';
import { LlamaCppModel } from '../../src/llm/providers/llamacpp.ts';
import { OpenAICompatibleModel } from '../../src/llm/providers/openai.ts';

const dir = mkdtempSync(join(tmpdir(), 'metallmix-llm-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));
/** HOME without a config file, so the user's real ~/.config never leaks into a test. */
const home = { HOME: join(dir, 'empty-home') };

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function rejects(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof MetallmixError, String(e));
    assert.match(e.message, message);
    return true;
  });
}

describe('resolveLlmConfig', () => {
  test('nothing configured: no LLM and no judge', () => {
    assert.deepEqual(resolveLlmConfig({ env: home }), { llm: undefined, judge: undefined });
    // A key alone configures nothing: data must never go to an endpoint nobody named.
    assert.deepEqual(resolveLlmConfig({ env: { ...home, OPENAI_API_KEY: 'sk-x' } }), {
      llm: undefined,
      judge: undefined,
    });
  });

  test('flags beat environment beats config file beats defaults', () => {
    const configFile = file(
      'precedence.yaml',
      'llm:\n  baseUrl: http://127.0.0.1:1/v1\n  model: from-file\n  temperature: 0.5\n  seed: 3\n',
    );
    const env = { ...home, METALLMIX_LLM_MODEL: 'from-env', METALLMIX_LLM_SEED: '4' };
    const flags: LlmFlags = { llmModel: 'from-flag' };
    assert.deepEqual(resolveLlmConfig({ flags, env, configFile }).llm, {
      provider: 'openai',
      baseUrl: 'http://127.0.0.1:1/v1',
      model: 'from-flag',
      apiKey: undefined,
      temperature: 0.5,
      seed: 4,
      maxTokens: 1024,
      timeoutMs: 60_000,
    });
    const fromEnv = resolveLlmConfig({ env, configFile }).llm;
    assert.equal(fromEnv?.provider === 'openai' && fromEnv.model, 'from-env');
    const fromFile = resolveLlmConfig({ env: home, configFile }).llm;
    assert.equal(fromFile?.provider === 'openai' && fromFile.model, 'from-file');
    assert.equal(fromFile?.seed, 3);
  });

  test('a GGUF path means the in-process provider, with an explicit thread count', () => {
    const env = {
      ...home,
      METALLMIX_LLM_GGUF: '/models/tiny.gguf',
      METALLMIX_LLM_MAX_TOKENS: '64',
    };
    assert.deepEqual(resolveLlmConfig({ env }).llm, {
      provider: 'llamacpp',
      gguf: '/models/tiny.gguf',
      threads: 2,
      temperature: 0,
      seed: undefined,
      maxTokens: 64,
      timeoutMs: 60_000,
    });
    const flagged = resolveLlmConfig({ env, flags: { llmThreads: '1' } }).llm;
    assert.equal(flagged?.provider === 'llamacpp' && flagged.threads, 1);
  });

  test('API key: flag, then METALLMIX_LLM_API_KEY, then the file, then OPENAI_API_KEY', () => {
    const configFile = file(
      'key.yaml',
      'llm:\n  baseUrl: http://127.0.0.1:1/v1\n  model: m\n  apiKey: file-key\n',
    );
    const key = (env: Record<string, string>, flags: LlmFlags = {}, cf?: string) => {
      const llm = resolveLlmConfig({ env: { ...home, ...env }, flags, configFile: cf }).llm;
      return llm?.provider === 'openai' ? llm.apiKey : undefined;
    };
    const base = { METALLMIX_LLM_BASE_URL: 'http://127.0.0.1:1/v1', METALLMIX_LLM_MODEL: 'm' };
    assert.equal(key({ ...base, OPENAI_API_KEY: 'openai-key' }), 'openai-key');
    assert.equal(key({ OPENAI_API_KEY: 'openai-key' }, {}, configFile), 'file-key');
    assert.equal(key({ ...base, OPENAI_API_KEY: 'o', METALLMIX_LLM_API_KEY: 'mx' }), 'mx');
    assert.equal(key({ ...base, METALLMIX_LLM_API_KEY: 'mx' }, { llmApiKey: 'flag' }), 'flag');
  });

  test('the judge inherits what it does not set; its own endpoint brings its own provider', () => {
    const env = {
      ...home,
      METALLMIX_LLM_BASE_URL: 'http://127.0.0.1:11434/v1',
      METALLMIX_LLM_MODEL: 'small',
      METALLMIX_LLM_API_KEY: 'k',
      METALLMIX_LLM_TEMPERATURE: '0.7',
    };
    const same = resolveLlmConfig({ env });
    assert.deepEqual(same.judge, same.llm);
    const bigger = resolveLlmConfig({ env, flags: { judgeModel: 'big', judgeTemperature: 0 } });
    assert.deepEqual(bigger.judge, { ...same.llm, model: 'big', temperature: 0 });
    const local = resolveLlmConfig({ env: { ...env, METALLMIX_JUDGE_GGUF: '/m/judge.gguf' } });
    assert.equal(local.llm?.provider, 'openai');
    assert.deepEqual(local.judge, {
      provider: 'llamacpp',
      gguf: '/m/judge.gguf',
      threads: 2,
      temperature: 0.7,
      seed: undefined,
      maxTokens: 1024,
      timeoutMs: 60_000,
    });
    const elsewhere = resolveLlmConfig({
      env: {
        ...env,
        OPENAI_API_KEY: 'sk-o',
        METALLMIX_JUDGE_BASE_URL: 'https://api.openai.com/v1',
      },
    });
    const judgeKey = elsewhere.judge?.provider === 'openai' && elsewhere.judge.apiKey;
    assert.equal(judgeKey, 'sk-o', "another server never gets the recommender's key");
    const none = resolveLlmConfig({ env: { ...env, METALLMIX_JUDGE_PROVIDER: 'none' } });
    assert.equal(none.judge, undefined);
    assert.ok(none.llm);
  });

  test('config file: JSON or YAML, from METALLMIX_CONFIG or ~/.config/metallmix/config.yaml', () => {
    const json = file('c.json', JSON.stringify({ kb: 'other module', judge: { gguf: '/j.gguf' } }));
    assert.equal(
      resolveLlmConfig({ env: { ...home, METALLMIX_CONFIG: json } }).judge?.provider,
      'llamacpp',
    );
    const userHome = join(dir, 'home');
    mkdirSync(join(userHome, '.config', 'metallmix'), { recursive: true });
    writeFileSync(join(userHome, '.config', 'metallmix', 'config.yaml'), 'llm:\n  gguf: /h.gguf\n');
    const llm = resolveLlmConfig({ env: { HOME: userHome } }).llm;
    assert.equal(llm?.provider === 'llamacpp' && llm.gguf, '/h.gguf');
  });

  test('bad values name the flag, variable, or file line and field', () => {
    rejects(
      () =>
        resolveLlmConfig({
          env: { ...home, METALLMIX_LLM_GGUF: '/m.gguf', METALLMIX_LLM_THREADS: 'two' },
        }),
      /^field "METALLMIX_LLM_THREADS": expected an integer >= 1, got "two"$/,
    );
    rejects(
      () => resolveLlmConfig({ env: home, flags: { llmGguf: '/m.gguf', llmTemperature: '3' } }),
      /^field "--llm-temperature": expected a number in \[0, 2\], got "3"$/,
    );
    rejects(
      () => resolveLlmConfig({ env: home, flags: { llmBaseUrl: 'http://127.0.0.1:1/v1' } }),
      /field "--llm-model": the openai provider needs a model name for http:\/\/127\.0\.0\.1:1\/v1: set --llm-model or METALLMIX_LLM_MODEL/,
    );
    rejects(
      () => resolveLlmConfig({ env: { ...home, METALLMIX_LLM_MODEL: 'llama3' } }),
      /an LLM model is named \(llama3\) but no endpoint: set --llm-base-url/,
    );
    rejects(
      () => resolveLlmConfig({ env: home, flags: { llmProvider: 'llamacpp' } }),
      /the llamacpp provider needs a GGUF model file: set --llm-gguf or METALLMIX_LLM_GGUF/,
    );
    rejects(
      () => resolveLlmConfig({ env: home, flags: { llmProvider: 'ollama' } }),
      /field "--llm-provider": unknown LLM provider "ollama"/,
    );
    rejects(
      () =>
        resolveLlmConfig({ env: home, flags: { llmBaseUrl: 'localhost:11434', llmModel: 'm' } }),
      /field "--llm-base-url": not an http\(s\) URL: localhost:11434/,
    );
    const typo = file('typo.yaml', 'llm:\n  model: m\n  base_url: http://x/v1\n');
    rejects(
      () => resolveLlmConfig({ env: home, configFile: typo }),
      new RegExp(`^${typo}:3 field "llm.base_url": unknown setting; known: provider, baseUrl,`),
    );
    const badType = file('bad-type.yaml', 'judge:\n  gguf: /j.gguf\n  threads: -1\n');
    rejects(
      () => resolveLlmConfig({ env: home, configFile: badType }),
      new RegExp(`^${badType}:3 field "judge.threads": Too small: expected number to be >0$`),
    );
    const broken = file('broken.yaml', 'llm:\n  model: [unclosed\n');
    rejects(
      () => resolveLlmConfig({ env: home, configFile: broken }),
      new RegExp(`^${broken}:\\d+: not valid YAML or JSON`),
    );
    rejects(
      () => resolveLlmConfig({ env: { ...home, METALLMIX_CONFIG: join(dir, 'nope.yaml') } }),
      new RegExp(`^${join(dir, 'nope.yaml')}: config file not found$`),
    );
  });
});

describe('llmOptions and createLanguageModel', () => {
  test('flags parsed by commander resolve into providers', () => {
    const cmd = llmOptions(new Command('recommend').exitOverride());
    cmd.parse(
      [
        '--llm-base-url',
        'http://127.0.0.1:11434/v1',
        '--llm-model',
        'qwen',
        '--llm-seed',
        '9',
        '--judge-gguf',
        '/j.gguf',
        '--judge-threads',
        '1',
      ],
      { from: 'user' },
    );
    const settings = resolveLlmConfig({ flags: cmd.opts(), env: home });
    const llm = createLanguageModel(settings.llm!);
    const judge = createLanguageModel(settings.judge!);
    assert.ok(llm instanceof OpenAICompatibleModel);
    assert.equal(llm.id, 'openai:qwen@http://127.0.0.1:11434/v1');
    assert.equal(settings.llm!.seed, 9);
    assert.ok(judge instanceof LlamaCppModel);
    assert.equal(judge.id, 'llamacpp:j.gguf');
    const flags = cmd.options.map((o) => o.long);
    for (const name of [
      'provider',
      'base-url',
      'model',
      'api-key',
      'gguf',
      'threads',
      'temperature',
      'seed',
      'max-tokens',
      'timeout-ms',
    ])
      for (const role of ['llm', 'judge'])
        assert.ok(flags.includes(`--${role}-${name}`), `--${role}-${name}`);
  });
});
