import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { LineCounter, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { MetallmixError } from '../core/errors.ts';

// Where an LLM setting comes from, strongest first: command-line flags, environment variables,
// the config file, defaults. The judge has its own section and inherits every setting it does
// not name from the recommender's LLM, so "same server, bigger model" is one setting.

export const LLM_FIELDS = [
  'provider',
  'baseUrl',
  'model',
  'apiKey',
  'gguf',
  'threads',
  'temperature',
  'seed',
  'maxTokens',
  'timeoutMs',
] as const;
export type LlmField = (typeof LLM_FIELDS)[number];
export type LlmRole = 'llm' | 'judge';

/** Flag values as commander gives them (`--llm-base-url` -> `llmBaseUrl`), strings or numbers. */
export type LlmFlags = Partial<Record<`${LlmRole}${Capitalize<LlmField>}`, string | number>>;

interface Common {
  temperature: number;
  seed?: number;
  maxTokens: number;
  timeoutMs: number;
}
export interface OpenAIConfig extends Common {
  provider: 'openai';
  baseUrl: string;
  model: string;
  apiKey?: string;
}
export interface LlamaCppConfig extends Common {
  provider: 'llamacpp';
  gguf: string;
  threads: number;
}
export type LlmConfig = OpenAIConfig | LlamaCppConfig;

/** What is configured; a role is absent when no model is configured for it. */
export interface LlmSettings {
  llm?: LlmConfig;
  judge?: LlmConfig;
}

export const LLM_DEFAULTS = { temperature: 0, maxTokens: 1024, timeoutMs: 60_000, threads: 2 };

const Section = z
  .object({
    provider: z.enum(['openai', 'llamacpp', 'none']),
    baseUrl: z.url({ protocol: /^https?$/ }),
    model: z.string().min(1),
    apiKey: z.string().min(1),
    gguf: z.string().min(1),
    threads: z.number().int().positive(),
    temperature: z.number().min(0).max(2),
    seed: z.number().int(),
    maxTokens: z.number().int().positive(),
    timeoutMs: z.number().int().positive(),
  })
  .partial()
  .strict();
type Section = z.infer<typeof Section>;

/** One value with the place it came from, so an error can point at the flag, variable or line. */
interface Sourced {
  value: unknown;
  source: string;
}
type Layer = Partial<Record<LlmField, Sourced>>;

export interface ResolveLlmConfigInput {
  flags?: LlmFlags;
  env?: Record<string, string | undefined>;
  /** Config file (JSON or YAML); default METALLMIX_CONFIG, else ~/.config/metallmix/config.yaml if present. */
  configFile?: string;
}

export function resolveLlmConfig(input: ResolveLlmConfigInput = {}): LlmSettings {
  const env = input.env ?? process.env;
  const file = readConfigFile(input.configFile, env);
  const layers = (role: LlmRole): Layer[] => [
    fromFlags(input.flags ?? {}, role),
    fromEnv(env, role),
    file[role] ?? {},
  ];
  // OPENAI_API_KEY is the OpenAI SDK's own convention: the weakest source of a key.
  const fallbackKey: Layer = env.OPENAI_API_KEY
    ? { apiKey: { value: env.OPENAI_API_KEY, source: 'OPENAI_API_KEY' } }
    : {};
  const llm = merge([...layers('llm'), fallbackKey]);
  const judgeOwn = merge(layers('judge'));
  return {
    llm: build(llm, 'llm'),
    judge: build(inherit(judgeOwn, llm, fallbackKey), 'judge'),
  };
}

function flagName(role: LlmRole, field: LlmField): string {
  return `--${role}-${field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

function envName(role: LlmRole, field: LlmField): string {
  return `METALLMIX_${role.toUpperCase()}_${field.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

function fromFlags(flags: LlmFlags, role: LlmRole): Layer {
  const layer: Layer = {};
  for (const field of LLM_FIELDS) {
    const key = `${role}${field[0].toUpperCase()}${field.slice(1)}` as keyof LlmFlags;
    if (flags[key] !== undefined)
      layer[field] = { value: flags[key], source: flagName(role, field) };
  }
  return layer;
}

function fromEnv(env: Record<string, string | undefined>, role: LlmRole): Layer {
  const layer: Layer = {};
  for (const field of LLM_FIELDS) {
    const name = envName(role, field);
    if (env[name] !== undefined && env[name] !== '')
      layer[field] = { value: env[name], source: name };
  }
  return layer;
}

function merge(layers: Layer[]): Layer {
  const out: Layer = {};
  for (const field of LLM_FIELDS) out[field] = layers.find((l) => l[field] !== undefined)?.[field];
  return out;
}

/**
 * The judge's own settings over the recommender's. A judge that names its own endpoint gets
 * neither the recommender's provider nor its API key: a key never travels to another server.
 */
function inherit(judge: Layer, llm: Layer, fallbackKey: Layer): Layer {
  const ownEndpoint = judge.provider ?? judge.baseUrl ?? judge.gguf;
  const out: Layer = {};
  for (const field of LLM_FIELDS) {
    const endpointBound = ['provider', 'baseUrl', 'gguf', 'apiKey'].includes(field);
    out[field] = judge[field] ?? (ownEndpoint && endpointBound ? undefined : llm[field]);
  }
  if (ownEndpoint) out.apiKey ??= fallbackKey.apiKey;
  return out;
}

function build(layer: Layer, role: LlmRole): LlmConfig | undefined {
  const provider =
    text(layer.provider) ?? (layer.gguf ? 'llamacpp' : layer.baseUrl ? 'openai' : undefined);
  if (provider === 'none') return undefined;
  if (provider === undefined) {
    if (layer.model)
      throw new MetallmixError(
        `an LLM model is named (${text(layer.model)}) but no endpoint: set ${flagName(role, 'baseUrl')} (e.g. http://127.0.0.1:11434/v1 for Ollama) or ${flagName(role, 'gguf')}`,
        { location: { field: layer.model.source } },
      );
    return undefined;
  }
  const common: Common = {
    temperature: number(layer.temperature, 'float', 0, 2) ?? LLM_DEFAULTS.temperature,
    seed: number(layer.seed, 'int', -(2 ** 31), 2 ** 32 - 1),
    maxTokens: number(layer.maxTokens, 'int', 1) ?? LLM_DEFAULTS.maxTokens,
    timeoutMs: number(layer.timeoutMs, 'int', 1) ?? LLM_DEFAULTS.timeoutMs,
  };
  if (provider === 'llamacpp') {
    const gguf = text(layer.gguf);
    if (!gguf) throw missing(role, 'gguf', 'the llamacpp provider needs a GGUF model file');
    return {
      provider,
      gguf,
      threads: number(layer.threads, 'int', 1) ?? LLM_DEFAULTS.threads,
      ...common,
    };
  }
  if (provider !== 'openai')
    throw new MetallmixError(`unknown LLM provider "${provider}": use openai, llamacpp or none`, {
      location: { field: layer.provider!.source },
    });
  const baseUrl = text(layer.baseUrl);
  if (!baseUrl)
    throw missing(
      role,
      'baseUrl',
      'the openai provider needs a base URL, e.g. http://127.0.0.1:11434/v1 (Ollama) or https://api.openai.com/v1',
    );
  if (!isHttpUrl(baseUrl))
    throw new MetallmixError(`not an http(s) URL: ${baseUrl}`, {
      location: { field: layer.baseUrl!.source },
    });
  const model = text(layer.model);
  if (!model) throw missing(role, 'model', `the openai provider needs a model name for ${baseUrl}`);
  return { provider, baseUrl, model, apiKey: text(layer.apiKey), ...common };
}

function isHttpUrl(text: string): boolean {
  try {
    return ['http:', 'https:'].includes(new URL(text).protocol);
  } catch {
    return false;
  }
}

function missing(role: LlmRole, field: LlmField, why: string): MetallmixError {
  return new MetallmixError(`${why}: set ${flagName(role, field)} or ${envName(role, field)}`, {
    location: { field: flagName(role, field) },
  });
}

function text(s: Sourced | undefined): string | undefined {
  return s === undefined ? undefined : String(s.value);
}

/** A number from a flag, variable or file value, or a MetallmixError naming where it came from. */
function number(
  s: Sourced | undefined,
  kind: 'int' | 'float',
  min: number,
  max = Infinity,
): number | undefined {
  if (s === undefined) return undefined;
  const n = typeof s.value === 'number' ? s.value : Number(String(s.value).trim() || NaN);
  const ok =
    Number.isFinite(n) && (kind === 'float' || Number.isInteger(n)) && n >= min && n <= max;
  if (!ok) {
    const range = max === Infinity ? `>= ${min}` : `in [${min}, ${max}]`;
    throw new MetallmixError(
      `expected ${kind === 'int' ? 'an integer' : 'a number'} ${range}, got ${JSON.stringify(s.value)}`,
      {
        location: { field: s.source },
      },
    );
  }
  return n;
}

export function defaultConfigPath(env: Record<string, string | undefined>): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'metallmix', 'config.yaml');
}

/** Reads the `llm` and `judge` sections; other top-level keys belong to other modules. */
function readConfigFile(
  explicit: string | undefined,
  env: Record<string, string | undefined>,
): Partial<Record<LlmRole, Layer>> {
  const path = explicit ?? env.METALLMIX_CONFIG ?? defaultConfigPath(env);
  if (!existsSync(path)) {
    if (explicit ?? env.METALLMIX_CONFIG)
      throw new MetallmixError('config file not found', { location: { file: path } });
    return {};
  }
  const lines = new LineCounter();
  const doc = parseDocument(readFileSync(path, 'utf8'), { lineCounter: lines });
  const syntax = doc.errors[0];
  if (syntax)
    throw new MetallmixError(`not valid YAML or JSON: ${syntax.message.split('\n')[0]}`, {
      location: { file: path, line: syntax.linePos?.[0].line },
    });
  const root: unknown = doc.toJS() ?? {};
  if (typeof root !== 'object' || Array.isArray(root))
    throw new MetallmixError('expected a mapping at the top level', { location: { file: path } });
  const out: Partial<Record<LlmRole, Layer>> = {};
  for (const role of ['llm', 'judge'] as const) {
    const raw = (root as Record<string, unknown>)[role];
    if (raw === undefined || raw === null) continue;
    const parsed = Section.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const keyPath = [
        role,
        ...(issue.code === 'unrecognized_keys' ? issue.keys.slice(0, 1) : issue.path),
      ];
      const reason =
        issue.code === 'unrecognized_keys'
          ? `unknown setting; known: ${LLM_FIELDS.join(', ')}`
          : issue.message;
      throw new MetallmixError(reason, {
        location: { file: path, line: lineOf(doc, lines, keyPath), field: keyPath.join('.') },
      });
    }
    out[role] = toLayer(parsed.data, path, role, doc, lines);
  }
  return out;
}

function toLayer(
  section: Section,
  path: string,
  role: LlmRole,
  doc: Document,
  lines: LineCounter,
): Layer {
  const layer: Layer = {};
  for (const field of LLM_FIELDS) {
    if (section[field] === undefined) continue;
    const line = lineOf(doc, lines, [role, field]);
    layer[field] = {
      value: section[field],
      source: `${path}${line ? `:${line}` : ''} ${role}.${field}`,
    };
  }
  return layer;
}

function lineOf(doc: Document, lines: LineCounter, keyPath: PropertyKey[]): number | undefined {
  const node = doc.getIn(keyPath as unknown[], true) as
    { range?: [number, number, number] } | undefined;
  // An unknown key has no value node to point at; its parent section does.
  const at =
    node?.range?.[0] ??
    (doc.getIn(keyPath.slice(0, 1) as unknown[], true) as typeof node)?.range?.[0];
  return at === undefined ? undefined : lines.linePos(at).line;
}
