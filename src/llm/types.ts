// The one provider interface (after the Vercel AI SDK's provider spec): recommender and judge
// call only this, so any backend that implements it can reason or judge.

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface OutputSchema {
  name: string;
  jsonSchema: Record<string, unknown>;
}

export interface GenerateRequest {
  messages: ChatMessage[];
  /** Constrains the answer to this JSON Schema (response_format over HTTP, a grammar in-process). */
  schema?: OutputSchema;
  temperature?: number;
  seed?: number;
  maxTokens?: number;
  /** Deadline for the whole call, retries included. */
  timeoutMs?: number;
  /** Aborting rejects the call with the signal's reason. */
  signal?: AbortSignal;
}

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
}

export interface GenerateResult {
  text: string;
  /** The parsed answer, present when a schema was given and the text parses as JSON. */
  json?: unknown;
  usage?: TokenUsage;
  latencyMs: number;
  model: string;
}

export interface LanguageModel {
  readonly id: string;
  generate(req: GenerateRequest): Promise<GenerateResult>;
  /**
   * A cheap check that the model can answer, called before a prompt is built: resolves, or
   * throws a MetallmixError (exit code 4 when the service is unavailable, so the caller falls
   * back; 2 when the user's setting is wrong). Optional: a provider without one is assumed up.
   */
  probe?(timeoutMs?: number): Promise<void>;
  /**
   * How many tokens `text` takes for this model, counted with its own tokenizer; absent when
   * the provider cannot count (the caller then estimates, see estimateTokens).
   */
  countTokens?(text: string): Promise<number>;
  /** The model's context window in tokens (prompt and answer together); assume 4096 when absent. */
  contextTokens?(): Promise<number>;
  close?(): Promise<void>;
}

/** Characters per token assumed where no tokenizer is at hand: low, so that estimates err long. */
export const CHARS_PER_TOKEN_ESTIMATE = 3;

/** A conservative token count for text whose model's tokenizer is not available (HTTP servers). */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / CHARS_PER_TOKEN_ESTIMATE);
}
