// A local OpenAI-compatible server for tests: it records every request and answers from a script,
// so a test can check what metallmix sends and how it copes with what comes back. Listens on
// 127.0.0.1 on a random port; reuse it in any test that needs an LLM endpoint.
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  /** Path after the base URL's /v1, e.g. /chat/completions. */
  path: string;
  headers: IncomingHttpHeaders;
  /** Parsed JSON body (undefined for GET). */
  body: any;
  receivedAtMs: number;
}

/** One scripted answer; `hang` never answers (until the server closes). */
export type ScriptedResponse =
  | { status?: number; headers?: Record<string, string>; json: unknown }
  | { status?: number; headers?: Record<string, string>; text: string }
  | { hang: true };

export interface FakeOpenAIServer {
  /** e.g. http://127.0.0.1:43210/v1 */
  baseUrl: string;
  requests: RecordedRequest[];
  /** Chat-completion requests only (probes excluded). */
  chatRequests(): RecordedRequest[];
  /** Queues answers for the next /chat/completions requests, in order. */
  enqueue(...responses: ScriptedResponse[]): void;
  close(): Promise<void>;
}

export interface FakeOpenAIServerOptions {
  /** Answers used in order, one per /chat/completions request. */
  script?: ScriptedResponse[];
  /** Answer once the script is used up (default: a 500 that says so). */
  fallback?: ScriptedResponse | ((req: RecordedRequest) => ScriptedResponse);
}

/** A successful chat completion whose message is `content`. */
export function completion(
  content: string,
  options: { model?: string; promptTokens?: number; completionTokens?: number } = {},
): ScriptedResponse {
  return {
    json: {
      id: 'chatcmpl-test',
      object: 'chat.completion',
      created: 0,
      model: options.model ?? 'fake-model',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content },
          finish_reason: 'stop',
          logprobs: null,
        },
      ],
      usage: {
        prompt_tokens: options.promptTokens ?? 11,
        completion_tokens: options.completionTokens ?? 7,
        total_tokens: (options.promptTokens ?? 11) + (options.completionTokens ?? 7),
      },
    },
  };
}

/** An OpenAI-style error answer. */
export function failure(
  status: number,
  message = `status ${status}`,
  headers?: Record<string, string>,
): ScriptedResponse {
  return { status, headers, json: { error: { message, type: 'test_error', code: null } } };
}

export async function startFakeOpenAIServer(
  options: FakeOpenAIServerOptions = {},
): Promise<FakeOpenAIServer> {
  const script = [...(options.script ?? [])];
  const requests: RecordedRequest[] = [];
  const fallback = options.fallback ?? failure(500, 'fake server: script used up');

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const recorded: RecordedRequest = {
        method: req.method ?? 'GET',
        path: (req.url ?? '/').replace(/^\/v1/, ''),
        headers: req.headers,
        body: raw ? JSON.parse(raw) : undefined,
        receivedAtMs: performance.now(),
      };
      requests.push(recorded);
      if (recorded.method === 'GET' && recorded.path === '/models')
        return send(res, {
          json: { object: 'list', data: [{ id: 'fake-model', object: 'model' }] },
        });
      if (recorded.path !== '/chat/completions') return send(res, failure(404, 'no such route'));
      const next =
        script.shift() ?? (typeof fallback === 'function' ? fallback(recorded) : fallback);
      send(res, next);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    chatRequests: () => requests.filter((r) => r.path === '/chat/completions'),
    enqueue: (...responses) => script.push(...responses),
    close: () =>
      new Promise<void>((resolve) => {
        // Hanging requests keep their sockets open; end them so close() returns.
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function send(res: ServerResponse, response: ScriptedResponse): void {
  if ('hang' in response) return;
  const isJson = 'json' in response;
  res.writeHead(response.status ?? 200, {
    'content-type': isJson ? 'application/json' : 'text/plain',
    ...response.headers,
  });
  res.end(isJson ? JSON.stringify(response.json) : response.text);
}

/** A base URL on which nothing listens: a port that was free a moment ago, so connecting is refused. */
export async function refusedBaseUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/v1`;
}
