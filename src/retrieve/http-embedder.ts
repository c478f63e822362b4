import { ExitCode, MetallmixError } from '../core/index.ts';
import { inBatches, l2normalize, type Embedder } from './embedder.ts';

export interface HttpEmbedderOptions {
  /** OpenAI-compatible base URL, e.g. http://127.0.0.1:11434/v1 for Ollama. */
  baseUrl: string;
  model: string;
  /** Sent as a bearer token; never logged or put into errors. */
  apiKey?: string;
  /** Per request (default 60 s). */
  timeoutMs?: number;
  /** Texts per request (default 64). */
  batchSize?: number;
}

/**
 * An OpenAI-compatible `/embeddings` endpoint (Ollama, llama.cpp server, vLLM, LM Studio, OpenAI).
 * `connect` sends one probe text to learn the dimension and fail early when the endpoint is
 * down. Vectors are normalized here, since not every server returns unit vectors.
 */
export class HttpEmbedder implements Embedder {
  readonly id: string;

  private constructor(
    private readonly options: HttpEmbedderOptions,
    private readonly url: string,
    readonly dim: number,
  ) {
    this.id = `http:${url}#${options.model}`;
  }

  static async connect(options: HttpEmbedderOptions): Promise<HttpEmbedder> {
    const url = `${options.baseUrl.replace(/\/+$/, '')}/embeddings`;
    const [probe] = await request(url, options, ['dimension probe']);
    return new HttpEmbedder(options, url, probe.length);
  }

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    const vectors = await inBatches(texts, this.options.batchSize ?? 64, (batch) =>
      request(this.url, this.options, batch),
    );
    vectors.forEach((v, i) => {
      if (v.length !== this.dim)
        throw new MetallmixError(
          `embedding endpoint ${this.url} returned ${v.length} dimensions for text ${i}, earlier ${this.dim}`,
          { exitCode: ExitCode.unavailable },
        );
    });
    return vectors;
  }
}

async function request(
  url: string,
  options: HttpEmbedderOptions,
  input: readonly string[],
): Promise<Float32Array[]> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
  const unavailable = (reason: string, cause?: unknown) =>
    new MetallmixError(`embedding endpoint ${url} (model ${options.model}): ${reason}`, {
      exitCode: ExitCode.unavailable,
      cause,
    });
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers,
      body: JSON.stringify({ model: options.model, input, encoding_format: 'float' }),
      signal: AbortSignal.timeout(options.timeoutMs ?? 60_000),
    });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const reason =
      e.name === 'TimeoutError'
        ? `no answer within ${options.timeoutMs ?? 60_000} ms`
        : `unreachable (${e.cause?.code ?? e.cause?.message ?? e.message})`;
    throw unavailable(reason, err);
  }
  const body = await response.text();
  if (!response.ok) throw unavailable(`HTTP ${response.status}: ${body.slice(0, 200)}`);
  let parsed: { data?: { embedding?: unknown; index?: unknown }[] };
  try {
    parsed = JSON.parse(body);
  } catch {
    throw unavailable(`answer is not JSON: ${body.slice(0, 200)}`);
  }
  const data = parsed?.data;
  if (!Array.isArray(data) || data.length !== input.length)
    throw unavailable(`field "data" should list ${input.length} embeddings`);
  const out: Float32Array[] = new Array(input.length);
  data.forEach((item, i) => {
    const at = typeof item?.index === 'number' ? item.index : i;
    const e = item?.embedding;
    if (
      !Array.isArray(e) ||
      e.length === 0 ||
      e.some((x) => typeof x !== 'number' || !Number.isFinite(x))
    )
      throw unavailable(`field "data[${i}].embedding" is not a list of numbers`);
    if (!Number.isInteger(at) || at < 0 || at >= input.length || out[at])
      throw unavailable(`field "data[${i}].index" is ${String(item.index)}, not a free position`);
    out[at] = l2normalize(Float32Array.from(e as number[]));
  });
  return out;
}
