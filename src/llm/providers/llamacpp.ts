import { access, constants } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { MetallmixError } from '../../core/errors.ts';
import { DEFAULT_GRAMMAR_LIMITS, toGrammarSchema, type GrammarLimits } from '../grammar-schema.ts';
import { parseJsonAnswer, startDeadline, unavailable, untilAborted } from '../support.ts';
import type { CommonConfig, ProviderSpec } from '../provider.ts';
import type { ChatMessage, GenerateRequest, GenerateResult, LanguageModel } from '../types.ts';
import { importPackage } from '../../core/import-package.ts';

// node-llama-cpp is an optional dependency: it is imported on first use only, and described here
// by the few members we call so that type checking works without it installed.
interface NodeLlamaCpp {
  getLlama(options: { gpu: false; build: 'never'; logLevel: 'error' }): Promise<Llama>;
  LlamaChat: new (options: { contextSequence: Sequence }) => Chat;
}
interface Llama {
  loadModel(options: { modelPath: string }): Promise<Model>;
  createGrammarForJsonSchema(schema: object): Promise<object>;
}
interface Model {
  readonly trainContextSize: number;
  createContext(options: { threads: number; contextSize: number }): Promise<Context>;
  tokenize(text: string): readonly number[];
  dispose(): Promise<void>;
}
interface Context {
  getSequence(): Sequence;
  dispose(): Promise<void>;
}
interface Sequence {
  readonly nextTokenIndex: number;
}
type HistoryItem =
  { type: 'system' | 'user'; text: string } | { type: 'model'; response: string[] };
interface Chat {
  generateResponse(
    history: HistoryItem[],
    options: {
      grammar?: object;
      maxTokens: number;
      temperature: number;
      seed?: number;
      signal: AbortSignal;
      onToken: (tokens: number[]) => void;
    },
  ): Promise<{ response: string }>;
  dispose(): void;
}

export interface LlamaCppOptions {
  /** Path of a GGUF model file. */
  gguf: string;
  /** CPU threads for generation; set explicitly because the library default can crawl on small machines. */
  threads?: number;
  /** Token window; defaults to the model's training context capped at 4096. */
  contextSize?: number;
  /** The same as contextSize, as the common `context` setting names it. */
  context?: number;
  temperature?: number;
  seed?: number;
  /** Default cap on generated tokens, so a model that never closes its answer still stops. */
  maxTokens?: number;
  timeoutMs?: number;
  grammarLimits?: GrammarLimits;
}

export const LLAMACPP_DEFAULT_THREADS = 2;
export const LLAMACPP_DEFAULT_MAX_TOKENS = 1024;
const MAX_DEFAULT_CONTEXT = 4096;

/** A loaded model with one context whose single sequence serves one generation at a time. */
interface Slot {
  /** The context window actually created, in tokens. */
  contextSize: number;
  llama: Llama;
  lib: NodeLlamaCpp;
  model: Model;
  context: Context;
  sequence: Sequence;
  grammars: Map<string, Promise<object>>;
  /** Settles when the generation in progress ends; the next one waits for it. */
  busy: Promise<void>;
  holders: number;
}

let library: Promise<{ lib: NodeLlamaCpp; llama: Llama }> | undefined;
/** Loaded models by path, thread count and context size: loading once serves the whole process. */
const slots = new Map<string, Promise<Slot>>();

/** In-process llama.cpp through node-llama-cpp: no server, the data never leaves the process. */
export class LlamaCppModel implements LanguageModel {
  readonly id: string;
  private readonly options: LlamaCppOptions;
  private readonly key: string;
  private slot: Promise<Slot> | undefined;

  constructor(options: LlamaCppOptions) {
    this.options = {
      ...options,
      gguf: resolve(options.gguf),
      contextSize: options.contextSize ?? options.context,
    };
    this.id = `llamacpp:${basename(this.options.gguf)}`;
    this.key = `${this.options.gguf}|${this.threads}|${this.options.contextSize ?? 'auto'}`;
  }

  private get threads(): number {
    return this.options.threads ?? LLAMACPP_DEFAULT_THREADS;
  }

  /** Loads the model (or joins the process's copy); throws an unavailable MetallmixError if it cannot. */
  load(): Promise<Slot> {
    if (!this.slot) {
      let shared = slots.get(this.key);
      if (!shared) {
        shared = loadSlot(this.options.gguf, this.threads, this.options.contextSize);
        slots.set(this.key, shared);
        shared.catch(() => slots.delete(this.key));
      }
      this.slot = shared.then((slot) => {
        slot.holders++;
        return slot;
      });
      this.slot.catch(() => (this.slot = undefined));
    }
    return this.slot;
  }

  /**
   * Loads the model now, so that a pipeline can fall back before it builds prompts. A missing
   * file is the user's mistake (exit 2), not an unavailable service.
   */
  async probe(): Promise<void> {
    try {
      await access(this.options.gguf, constants.R_OK);
    } catch {
      throw new MetallmixError('GGUF model file not found or not readable', {
        location: { file: this.options.gguf },
      });
    }
    await this.load();
  }

  async contextTokens(): Promise<number> {
    return (await this.load()).contextSize;
  }

  /** Tokens of `text` by the model's own tokenizer (loads the model). */
  async countTokens(text: string): Promise<number> {
    return (await this.load()).model.tokenize(text).length;
  }

  async generate(req: GenerateRequest): Promise<GenerateResult> {
    const started = performance.now();
    const timeoutMs = req.timeoutMs ?? this.options.timeoutMs;
    const deadline = startDeadline(timeoutMs, req.signal);
    try {
      // Loading and grammar building cannot be interrupted, but the caller need not wait for them.
      const slot = await untilAborted(this.load(), deadline.signal);
      const grammar =
        req.schema &&
        (await untilAborted(this.grammarFor(slot, req.schema.jsonSchema), deadline.signal));
      const { text, completionTokens, promptTokens } = await exclusively(
        slot,
        deadline.signal,
        async () => {
          const chat = new slot.lib.LlamaChat({ contextSequence: slot.sequence });
          let generated = 0;
          try {
            const { response } = await chat.generateResponse(toHistory(req.messages), {
              grammar,
              maxTokens: req.maxTokens ?? this.options.maxTokens ?? LLAMACPP_DEFAULT_MAX_TOKENS,
              temperature: req.temperature ?? this.options.temperature ?? 0,
              seed: req.seed ?? this.options.seed,
              signal: deadline.signal,
              onToken: (tokens) => (generated += tokens.length),
            });
            return {
              text: response,
              completionTokens: generated,
              promptTokens: Math.max(0, slot.sequence.nextTokenIndex - generated),
            };
          } finally {
            chat.dispose();
          }
        },
      );
      return {
        text,
        json: req.schema ? parseJsonAnswer(text) : undefined,
        usage: { promptTokens, completionTokens },
        latencyMs: performance.now() - started,
        model: this.id,
      };
    } catch (err) {
      if (deadline.timedOut())
        throw unavailable(
          `no answer from ${this.options.gguf} within ${timeoutMs} ms (in-process llama.cpp, ${this.threads} thread${this.threads === 1 ? '' : 's'})`,
        );
      if (req.signal?.aborted) throw req.signal.reason;
      throw err;
    } finally {
      deadline.dispose();
    }
  }

  /** Releases this handle; the model is unloaded when no handle holds it any more. */
  async close(): Promise<void> {
    const pending = this.slot;
    this.slot = undefined;
    const slot = await pending?.catch(() => undefined);
    if (!slot || --slot.holders > 0) return;
    slots.delete(this.key);
    await slot.context.dispose();
    await slot.model.dispose();
  }

  private grammarFor(slot: Slot, jsonSchema: Record<string, unknown>): Promise<object> {
    const schema = toGrammarSchema(
      jsonSchema,
      this.options.grammarLimits ?? DEFAULT_GRAMMAR_LIMITS,
    );
    const key = JSON.stringify(schema);
    let grammar = slot.grammars.get(key);
    if (!grammar) {
      grammar = slot.llama.createGrammarForJsonSchema(schema);
      slot.grammars.set(key, grammar);
    }
    return grammar;
  }
}

async function loadSlot(gguf: string, threads: number, contextSize?: number): Promise<Slot> {
  try {
    await access(gguf, constants.R_OK);
  } catch {
    throw unavailable(`GGUF model file not found or not readable: ${gguf}`);
  }
  const { lib, llama } = await loadLibrary();
  let model: Model;
  try {
    model = await llama.loadModel({ modelPath: gguf });
  } catch (err) {
    throw unavailable(`cannot load the GGUF model ${gguf}: ${firstLine(err)}`, err);
  }
  const size = contextSize ?? Math.min(model.trainContextSize, MAX_DEFAULT_CONTEXT);
  const context = await model.createContext({ threads, contextSize: size });
  return {
    contextSize: size,
    lib,
    llama,
    model,
    context,
    sequence: context.getSequence(),
    grammars: new Map(),
    busy: Promise.resolve(),
    holders: 0,
  };
}

function loadLibrary(): Promise<{ lib: NodeLlamaCpp; llama: Llama }> {
  library ??= (async () => {
    let lib: NodeLlamaCpp;
    try {
      lib = (await importPackage('node-llama-cpp')) as NodeLlamaCpp;
    } catch (err) {
      throw unavailable(
        `the in-process provider needs the optional package node-llama-cpp, which is not installed (npm install node-llama-cpp): ${firstLine(err)}`,
        err,
      );
    }
    try {
      // CPU only and no compiling from source: this must work offline on any machine.
      return { lib, llama: await lib.getLlama({ gpu: false, build: 'never', logLevel: 'error' }) };
    } catch (err) {
      throw unavailable(
        `node-llama-cpp has no usable prebuilt llama.cpp binary here: ${firstLine(err)}`,
        err,
      );
    }
  })();
  library.catch(() => (library = undefined));
  return library;
}

/** Runs `task` once the slot's previous generation ended; gives up waiting if `signal` aborts. */
async function exclusively<T>(slot: Slot, signal: AbortSignal, task: () => Promise<T>): Promise<T> {
  const previous = slot.busy;
  let release!: () => void;
  const mine = new Promise<void>((r) => (release = r));
  slot.busy = previous.then(() => mine);
  try {
    await untilAborted(previous, signal);
    return await task();
  } finally {
    release();
  }
}

/** Chat messages as node-llama-cpp history; an empty model turn asks for the next answer. */
function toHistory(messages: ChatMessage[]): HistoryItem[] {
  const history: HistoryItem[] = messages.map((m) =>
    m.role === 'assistant'
      ? { type: 'model', response: [m.content] }
      : { type: m.role, text: m.content },
  );
  // A trailing assistant message is a prefix that the model continues.
  if (messages.at(-1)?.role !== 'assistant') history.push({ type: 'model', response: [] });
  return history;
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0];
}

export interface LlamaCppConfig extends CommonConfig {
  provider: 'llamacpp';
  gguf: string;
  threads: number;
}

export const llamacppProvider: ProviderSpec<LlamaCppConfig> = {
  name: 'llamacpp',
  description: 'a GGUF model in-process through node-llama-cpp (an optional dependency)',
  settings: {
    gguf: {
      kind: 'path',
      help: 'GGUF model file for the in-process llamacpp provider',
      endpoint: true,
    },
    threads: {
      kind: 'int',
      help: 'CPU threads of the in-process provider',
      min: 1,
      default: LLAMACPP_DEFAULT_THREADS,
    },
  },
  selectedBy: 'gguf',
  configure(s, common) {
    const gguf = s.required('gguf', 'the llamacpp provider needs a GGUF model file');
    return {
      provider: 'llamacpp',
      gguf,
      threads: s.number('threads') ?? LLAMACPP_DEFAULT_THREADS,
      ...common,
    };
  },
  create: (config) => new LlamaCppModel(config),
};
