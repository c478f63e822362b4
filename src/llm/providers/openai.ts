import type OpenAI from 'openai';
import type { APIError } from 'openai';
import type { ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import { MetallmixError } from '../../core/errors.ts';
import { Rng } from '../../core/rng.ts';
import { DEFAULT_RETRY, backoffDelayMs, parseRetryAfter, type RetryPolicy } from '../retry.ts';
import { isStrictCompatible } from '../strict-schema.ts';
import { parseJsonAnswer, redact, sleep, startDeadline, unavailable } from '../support.ts';
import type { CommonConfig, ProviderSpec } from '../provider.ts';
import type { GenerateRequest, GenerateResult, LanguageModel } from '../types.ts';

export interface OpenAICompatibleOptions {
  /** e.g. http://127.0.0.1:11434/v1 (Ollama), http://127.0.0.1:8080/v1 (llama.cpp server). */
  baseUrl: string;
  model: string;
  apiKey?: string;
  temperature?: number;
  seed?: number;
  maxTokens?: number;
  timeoutMs?: number;
  /** Context window in tokens of the server's model. */
  context?: number;
  retry?: RetryPolicy;
  /** Source of retry jitter; seeded so that runs repeat exactly. */
  rng?: Rng;
}

/** The longest server message quoted in an error, so a HTML error page does not flood the terminal. */
const MAX_QUOTED = 200;
/** The largest response read from an endpoint: a completion is kilobytes, never a flood. */
export const MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

/** Bearer tokens a server may echo (a proxy's debug page repeating the Authorization header). */
const BEARER = /\bBearer\s+[A-Za-z0-9._~+/=-]{4,}/gi;

/** Text from an endpoint with the configured key and any bearer token removed. */
export function redactSecrets(text: string, apiKey: string | undefined): string {
  return redact(text, apiKey).replace(BEARER, 'Bearer [redacted]');
}

/**
 * fetch that reads at most `limit` bytes of a response body, so a 100 MB answer fails early
 * instead of being held whole; the SDK then gets the body already read.
 */
function cappedFetch(limit: number): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    const declared = Number(response.headers.get('content-length') ?? NaN);
    const tooLarge = () =>
      unavailable(
        `the LLM endpoint sent more than ${Math.round(limit / 1024 / 1024)} MB; a completion is never that large`,
      );
    if (declared > limit) {
      await response.body?.cancel();
      throw tooLarge();
    }
    const chunks: Uint8Array[] = [];
    let total = 0;
    if (response.body) {
      const reader = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        total += value.length;
        if (total > limit) {
          await reader.cancel();
          throw tooLarge();
        }
        chunks.push(value);
      }
    }
    return new Response(response.body ? Buffer.concat(chunks) : null, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}
const PROBE_MAX_MS = 10_000;
/** Ollama's default num_ctx; other servers are larger, and --llm-context says so. */
const HTTP_DEFAULT_CONTEXT = 4096;
/** The SDK's default request timeout, used when no deadline is set. */
const SDK_TIMEOUT_MS = 600_000;

/** The SDK, imported on the first request: loading it costs every other command's start-up. */
let sdk: typeof import('openai') | undefined;

async function loadSdk(): Promise<typeof import('openai')> {
  return (sdk ??= await import('openai'));
}

/** Any server that speaks OpenAI's /chat/completions: Ollama, llama.cpp server, vLLM, LM Studio, OpenAI. */
export class OpenAICompatibleModel implements LanguageModel {
  readonly id: string;
  private client: OpenAI | undefined;
  private readonly options: OpenAICompatibleOptions;
  private readonly baseUrl: string;
  private readonly rng: Rng;

  constructor(options: OpenAICompatibleOptions) {
    this.options = options;
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.id = `openai:${options.model}@${this.baseUrl}`;
    this.rng = options.rng ?? new Rng(options.seed ?? 0).fork('llm-retry');
  }

  private async sdkClient(): Promise<OpenAI> {
    const { default: OpenAI } = await loadSdk();
    return (this.client ??= new OpenAI({
      baseURL: this.baseUrl,
      // Local servers need no key, but the SDK refuses to start without one.
      apiKey: this.options.apiKey ?? 'no-key',
      maxRetries: 0, // retries are ours: only transient errors, seeded jitter, one deadline
      fetch: cappedFetch(MAX_RESPONSE_BYTES),
    }));
  }

  async generate(req: GenerateRequest): Promise<GenerateResult> {
    const started = performance.now();
    const timeoutMs = req.timeoutMs ?? this.options.timeoutMs;
    const deadline = startDeadline(timeoutMs, req.signal);
    try {
      const completion = await this.createWithRetries(
        this.requestBody(req),
        deadline.signal,
        // The SDK's own timeout only backs ours up: it would count as a retriable connection error.
        timeoutMs === undefined ? SDK_TIMEOUT_MS : timeoutMs + 1000,
      );
      // A server that is not OpenAI-compatible (a text/plain page, an HTML proxy error) answers
      // with something that is not a completion: say so instead of failing on its shape.
      if (!completion || typeof completion !== 'object' || !Array.isArray(completion.choices))
        throw unavailable(
          `the LLM endpoint ${this.baseUrl} did not answer with a chat completion (${typeof completion === 'string' ? 'plain text' : 'no "choices"'}): is it an OpenAI-compatible /v1 URL?`,
        );
      const content = completion.choices[0]?.message?.content;
      // Stored and printed as the attempt's raw answer: never with a secret a server echoed.
      const text = redactSecrets(typeof content === 'string' ? content : '', this.options.apiKey);
      return {
        text,
        json: req.schema ? parseJsonAnswer(text) : undefined,
        usage: completion.usage
          ? {
              promptTokens: completion.usage.prompt_tokens,
              completionTokens: completion.usage.completion_tokens,
            }
          : undefined,
        latencyMs: performance.now() - started,
        model: completion.model || this.options.model,
      };
    } catch (err) {
      if (deadline.timedOut())
        throw unavailable(
          `no answer from the LLM endpoint ${this.baseUrl} (model ${this.options.model}) within ${timeoutMs} ms`,
        );
      if (req.signal?.aborted) throw req.signal.reason;
      throw err;
    } finally {
      deadline.dispose();
    }
  }

  /** A server's window is not discoverable over the OpenAI protocol: the setting, else 4096. */
  async contextTokens(): Promise<number> {
    return this.options.context ?? HTTP_DEFAULT_CONTEXT;
  }

  /**
   * GET /models: any answer but an authentication failure means reachable. The deadline is the
   * call timeout, at most 10 s: a refused connection fails at once, and a loaded machine must not
   * turn a live local server into a fallback.
   */
  async probe(
    timeoutMs = Math.min(this.options.timeoutMs ?? PROBE_MAX_MS, PROBE_MAX_MS),
  ): Promise<void> {
    let response: Response | undefined;
    // A kept-alive connection that the server closed while idle fails once with ECONNRESET; a
    // fresh connection then answers. Only that error is tried again.
    for (let attempt = 1; !response; attempt++) {
      try {
        response = await fetch(`${this.baseUrl}/models`, {
          headers: this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {},
          signal: AbortSignal.timeout(timeoutMs),
        });
        await response.body?.cancel();
      } catch (err) {
        const detail = connectionDetail(err);
        if (attempt === 1 && (detail === 'ECONNRESET' || detail === 'UND_ERR_SOCKET')) continue;
        throw unavailable(`cannot reach the LLM endpoint ${this.baseUrl} (${detail})`);
      }
    }
    if (response.status === 401 || response.status === 403)
      throw unavailable(this.authMessage(response.status));
  }

  private requestBody(req: GenerateRequest): ChatCompletionCreateParamsNonStreaming {
    const temperature = req.temperature ?? this.options.temperature;
    const seed = req.seed ?? this.options.seed;
    const maxTokens = req.maxTokens ?? this.options.maxTokens;
    return {
      model: this.options.model,
      messages: req.messages.map((m) => ({ role: m.role, content: m.content })),
      ...(temperature !== undefined && { temperature }),
      ...(seed !== undefined && { seed }),
      ...(maxTokens !== undefined && { max_tokens: maxTokens }),
      ...(req.schema && {
        response_format: {
          type: 'json_schema' as const,
          json_schema: {
            name: req.schema.name,
            schema: req.schema.jsonSchema,
            // OpenAI rejects strict mode for schemas outside its subset (e.g. records).
            strict: isStrictCompatible(req.schema.jsonSchema),
          },
        },
      }),
    };
  }

  private async createWithRetries(
    body: ChatCompletionCreateParamsNonStreaming,
    signal: AbortSignal,
    timeout: number,
  ): Promise<OpenAI.Chat.Completions.ChatCompletion> {
    const policy = this.options.retry ?? DEFAULT_RETRY;
    const client = await this.sdkClient();
    for (let attempt = 1; ; attempt++) {
      try {
        return await client.chat.completions.create(body, { signal, timeout });
      } catch (err) {
        if (signal.aborted) throw err;
        // The SDK wraps what our fetch throws (a response over the cap) as a connection error.
        const ours = (err as { cause?: unknown }).cause;
        if (ours instanceof MetallmixError) throw ours;
        const transient = isTransient(err);
        if (!transient || attempt > policy.maxRetries) throw this.describe(err, attempt);
        const retryAfter = isApiError(err)
          ? parseRetryAfter(err.headers?.get('retry-after'))
          : undefined;
        await sleep(backoffDelayMs(policy, attempt, this.rng, retryAfter), signal);
      }
    }
  }

  /** A one-line MetallmixError for a failed call: what was asked of whom, and what came back. */
  private describe(err: unknown, attempts: number): Error {
    const tries = attempts > 1 ? ` after ${attempts} attempts` : '';
    if (isConnectionError(err))
      return unavailable(
        `cannot reach the LLM endpoint ${this.baseUrl} (${connectionDetail(err)})${tries}`,
      );
    if (isApiError(err) && err.status !== undefined) {
      if (err.status === 401 || err.status === 403)
        return unavailable(this.authMessage(err.status));
      const said = redactSecrets(serverMessage(err), this.options.apiKey);
      const what =
        err.status === 404
          ? `has no model "${this.options.model}" or no /chat/completions route`
          : 'refused the request';
      return unavailable(
        `the LLM endpoint ${this.baseUrl} ${what}${tries} (HTTP ${err.status}${said ? `: ${said}` : ''})`,
      );
    }
    return err instanceof Error ? err : new Error(String(err));
  }

  private authMessage(status: number): string {
    return this.options.apiKey
      ? `the LLM endpoint ${this.baseUrl} rejected the API key (HTTP ${status})`
      : `the LLM endpoint ${this.baseUrl} needs an API key (HTTP ${status}): set METALLMIX_LLM_API_KEY`;
  }
}

// Errors come only from SDK calls, so the SDK is loaded whenever these are asked.
const isApiError = (err: unknown): err is APIError =>
  sdk !== undefined && err instanceof sdk.APIError;
const isConnectionError = (err: unknown): boolean =>
  sdk !== undefined && err instanceof sdk.APIConnectionError;

/** Rate limits, server errors and broken connections pass; anything else would fail again. */
function isTransient(err: unknown): boolean {
  if (isConnectionError(err)) return true;
  if (isApiError(err) && err.status !== undefined) return err.status === 429 || err.status >= 500;
  return false;
}

function serverMessage(err: APIError): string {
  const body = err.error as { message?: unknown } | undefined;
  const text = typeof body?.message === 'string' ? body.message : '';
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > MAX_QUOTED ? `${oneLine.slice(0, MAX_QUOTED)}...` : oneLine;
}

/** The system error code (ECONNREFUSED, ENOTFOUND, ...) buried in fetch's cause chain. */
function connectionDetail(err: unknown): string {
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    if (e instanceof Error && e.name === 'TimeoutError') return 'no answer in time';
  }
  return 'connection failed';
}

export interface OpenAIConfig extends CommonConfig {
  provider: 'openai';
  baseUrl: string;
  model: string;
  apiKey?: string;
}

function isHttpUrl(text: string): boolean {
  try {
    return ['http:', 'https:'].includes(new URL(text).protocol);
  } catch {
    return false;
  }
}

export const openaiProvider: ProviderSpec<OpenAIConfig> = {
  name: 'openai',
  description: 'any OpenAI-compatible server (Ollama, llama.cpp server, vLLM, LM Studio, OpenAI)',
  settings: {
    baseUrl: {
      kind: 'url',
      help: 'OpenAI-compatible base URL, e.g. http://127.0.0.1:11434/v1 for Ollama',
      endpoint: true,
    },
    model: { kind: 'text', help: 'model name on the server' },
    apiKey: {
      kind: 'secret',
      help: 'API key (prefer the environment variable: flags show in the process list)',
      endpoint: true,
    },
  },
  selectedBy: 'baseUrl',
  // The OpenAI SDK's own convention: the weakest source of a key.
  fallbackVariables: { apiKey: 'OPENAI_API_KEY' },
  configure(s, common) {
    const baseUrl = s.required(
      'baseUrl',
      'the openai provider needs a base URL, e.g. http://127.0.0.1:11434/v1 (Ollama) or https://api.openai.com/v1',
    );
    if (!isHttpUrl(baseUrl)) throw s.invalid('baseUrl', `not an http(s) URL: ${baseUrl}`);
    const model = s.required('model', `the openai provider needs a model name for ${baseUrl}`);
    return { provider: 'openai', baseUrl, model, apiKey: s.text('apiKey'), ...common };
  },
  create: (config, options) =>
    new OpenAICompatibleModel({ ...config, retry: options.retry, rng: options.rng }),
};
