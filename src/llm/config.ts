import { existsSync } from 'node:fs';
import { LineCounter, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { locations, type Env } from '../core/environment.ts';
import { MetallmixError } from '../core/errors.ts';
import { readTextFile } from '../core/text-file.ts';
import type { CommonConfig, ProviderSpec, SettingSpec, SettingsReader } from './provider.ts';
import type { LlamaCppConfig } from './providers/llamacpp.ts';
import type { OpenAIConfig } from './providers/openai.ts';
import { PROVIDERS } from './registry.ts';

// Where an LLM setting comes from, strongest first: command-line flags, environment variables,
// the config file, defaults. The judge has its own section and inherits every setting it does
// not name from the recommender's LLM, so "same server, bigger model" is one setting. Which
// settings exist comes from the provider registry: a new provider brings its own.

export type LlmRole = 'llm' | 'judge';

/** Flag values as commander gives them (`--llm-base-url` -> `llmBaseUrl`), strings or numbers. */
export type LlmFlags = Partial<Record<string, string | number>>;

export type LlmConfig = OpenAIConfig | LlamaCppConfig;

/** What is configured; a role is absent when no model is configured for it. */
export interface LlmSettings {
  llm?: LlmConfig;
  judge?: LlmConfig;
}

export const LLM_DEFAULTS = { temperature: 0, maxTokens: 1024, timeoutMs: 60_000 };

/** Settings every provider takes, with `provider` itself first. */
const COMMON_SETTINGS: Record<string, SettingSpec> = {
  provider: {
    kind: 'text',
    help: `LLM provider: ${PROVIDERS.map((p) => `${p.name} (${p.description})`).join(', ')}, or none`,
  },
  temperature: {
    kind: 'float',
    help: 'sampling temperature',
    min: 0,
    max: 2,
    default: LLM_DEFAULTS.temperature,
  },
  seed: { kind: 'int', help: 'sampling seed', min: -(2 ** 31), max: 2 ** 32 - 1 },
  maxTokens: {
    kind: 'int',
    help: 'most tokens per answer',
    min: 1,
    default: LLM_DEFAULTS.maxTokens,
  },
  timeoutMs: {
    kind: 'int',
    help: 'deadline per LLM call, retries included',
    min: 1,
    default: LLM_DEFAULTS.timeoutMs,
  },
  context: {
    kind: 'int',
    help: "context window in tokens, prompt and answer together (default: the GGUF model's own, capped at 4096; 4096 for HTTP servers, as Ollama's default num_ctx: set it to your server's window)",
    min: 256,
  },
};

/** Every setting a role can take, common and per provider, in flag order. */
export const LLM_SETTINGS: Readonly<Record<string, SettingSpec>> = (() => {
  const [provider, ...common] = Object.entries(COMMON_SETTINGS);
  return Object.fromEntries([
    provider,
    ...PROVIDERS.flatMap((p) => Object.entries(p.settings)),
    ...common,
  ]);
})();
export const LLM_FIELDS: readonly string[] = Object.keys(LLM_SETTINGS);

function fieldSchema(spec: SettingSpec): z.ZodType {
  switch (spec.kind) {
    case 'url':
      return z.url({ protocol: /^https?$/ });
    case 'int': {
      const n = z.number().int();
      return spec.min === 1 ? n.positive() : n.min(spec.min ?? -Infinity).max(spec.max ?? Infinity);
    }
    case 'float':
      return z
        .number()
        .min(spec.min ?? -Infinity)
        .max(spec.max ?? Infinity);
    default:
      return z.string().min(1);
  }
}

const Section = z
  .object(Object.fromEntries(LLM_FIELDS.map((f) => [f, fieldSchema(LLM_SETTINGS[f])])))
  .partial()
  .strict();
type Section = Record<string, unknown>;

/** One value with the place it came from, so an error can point at the flag, variable or line. */
interface Sourced {
  value: unknown;
  source: string;
}
type Layer = Partial<Record<string, Sourced>>;

export interface ResolveLlmConfigInput {
  flags?: LlmFlags;
  env?: Env;
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
  const fallback: Layer = {};
  for (const p of PROVIDERS)
    for (const [field, variable] of Object.entries(p.fallbackVariables ?? {}))
      if (env[variable]) fallback[field] ??= { value: env[variable], source: variable };
  const llm = merge([...layers('llm'), fallback]);
  const judgeOwn = merge(layers('judge'));
  return {
    llm: build(llm, 'llm'),
    judge: build(inherit(judgeOwn, llm, fallback), 'judge'),
  };
}

export function flagName(role: LlmRole, field: string): string {
  return `--${role}-${field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

export function envName(role: LlmRole, field: string): string {
  return `METALLMIX_${role.toUpperCase()}_${field.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

function fromFlags(flags: LlmFlags, role: LlmRole): Layer {
  const layer: Layer = {};
  for (const field of LLM_FIELDS) {
    const key = `${role}${field[0].toUpperCase()}${field.slice(1)}`;
    if (flags[key] !== undefined)
      layer[field] = { value: flags[key], source: flagName(role, field) };
  }
  return layer;
}

function fromEnv(env: Env, role: LlmRole): Layer {
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
function inherit(judge: Layer, llm: Layer, fallback: Layer): Layer {
  const endpointBound = (field: string) => field === 'provider' || LLM_SETTINGS[field].endpoint;
  const ownEndpoint = LLM_FIELDS.some((f) => endpointBound(f) && judge[f] !== undefined);
  const out: Layer = {};
  for (const field of LLM_FIELDS)
    out[field] = judge[field] ?? (ownEndpoint && endpointBound(field) ? undefined : llm[field]);
  if (ownEndpoint) for (const [field, value] of Object.entries(fallback)) out[field] ??= value;
  return out;
}

function build(layer: Layer, role: LlmRole): LlmConfig | undefined {
  const named = text(layer.provider);
  if (named === 'none') return undefined;
  let spec: ProviderSpec | undefined;
  if (named !== undefined) {
    spec = PROVIDERS.find((p) => p.name === named);
    if (!spec)
      throw new MetallmixError(
        `unknown LLM provider "${named}": use ${PROVIDERS.map((p) => p.name).join(', ')} or none`,
        { location: { field: layer.provider!.source } },
      );
  } else spec = PROVIDERS.find((p) => p.selectedBy && layer[p.selectedBy] !== undefined);
  if (!spec) {
    if (layer.model)
      throw new MetallmixError(
        `an LLM model is named (${text(layer.model)}) but no endpoint: set ${PROVIDERS.map((p) => flagName(role, p.selectedBy!)).join(' (e.g. http://127.0.0.1:11434/v1 for Ollama) or ')}`,
        { location: { field: layer.model.source } },
      );
    return undefined;
  }
  const common: CommonConfig = {
    temperature: number(layer, 'temperature') ?? LLM_DEFAULTS.temperature,
    seed: number(layer, 'seed'),
    maxTokens: number(layer, 'maxTokens') ?? LLM_DEFAULTS.maxTokens,
    timeoutMs: number(layer, 'timeoutMs') ?? LLM_DEFAULTS.timeoutMs,
    ...(layer.context !== undefined ? { context: number(layer, 'context') } : {}),
  };
  const reader: SettingsReader = {
    text: (name) => text(layer[name]),
    number: (name) => number(layer, name),
    required(name, why) {
      const value = text(layer[name]);
      if (!value)
        throw new MetallmixError(`${why}: set ${flagName(role, name)} or ${envName(role, name)}`, {
          location: { field: flagName(role, name) },
        });
      return value;
    },
    invalid: (name, reason) =>
      new MetallmixError(reason, {
        location: { field: layer[name]?.source ?? flagName(role, name) },
      }),
  };
  return spec.configure(reader, common) as LlmConfig;
}

function text(s: Sourced | undefined): string | undefined {
  return s === undefined ? undefined : String(s.value);
}

/** A number setting from a flag, variable or file value, or a MetallmixError naming where it came from. */
function number(layer: Layer, field: string): number | undefined {
  const s = layer[field];
  if (s === undefined) return undefined;
  const spec = LLM_SETTINGS[field];
  const kind = spec.kind === 'int' ? 'int' : 'float';
  const min = spec.min ?? -Infinity;
  const max = spec.max ?? Infinity;
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

/** Reads the `llm` and `judge` sections; other top-level keys belong to other modules. */
function readConfigFile(explicit: string | undefined, env: Env): Partial<Record<LlmRole, Layer>> {
  const where = locations(env);
  const path = explicit ?? where.configFile;
  if (!existsSync(path)) {
    if (explicit !== undefined || where.configFileExplicit)
      throw new MetallmixError('config file not found', { location: { file: path } });
    return {};
  }
  const lines = new LineCounter();
  const doc = parseDocument(readTextFile(path, 'config file'), { lineCounter: lines });
  const syntax = doc.errors[0];
  if (syntax)
    throw new MetallmixError(`not valid YAML or JSON: ${syntax.message.split('\n')[0]}`, {
      location: { file: path, line: syntax.linePos?.[0].line },
    });
  let root: unknown;
  try {
    root = doc.toJS() ?? {};
  } catch (err) {
    // An alias expanded past yaml's bound (a "billion laughs" file) throws only here.
    throw new MetallmixError(`not valid YAML or JSON: ${(err as Error).message}`, {
      location: { file: path },
      cause: err,
    });
  }
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
    out[role] = toLayer(parsed.data as Section, path, role, doc, lines);
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
