// The page's client of the HTTP API: JSON and multipart requests with the bearer token when the
// server wants one, errors as the server words them, and a job's server-sent events read from a
// fetch stream (EventSource cannot send an Authorization header).

export interface FieldIssue {
  field: string;
  reason: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
    readonly issues: FieldIssue[] = [],
  ) {
    super(message);
  }
}

const TOKEN_KEY = 'metallmix-token';

export function setToken(token: string): void {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

function headers(extra: Record<string, string> = {}): Record<string, string> {
  const token = sessionStorage.getItem(TOKEN_KEY);
  return token ? { ...extra, authorization: `Bearer ${token}` } : extra;
}

/** Called when the server answers 401, so the page can ask for a token. */
let onUnauthorized: () => void = () => {};
export function whenUnauthorized(fn: () => void): void {
  onUnauthorized = fn;
}

async function answer<T>(res: Response): Promise<T> {
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (res.ok) return body as T;
  if (res.status === 401) onUnauthorized();
  const error = (body as { error?: { message?: string; field?: string; issues?: FieldIssue[] } })
    ?.error;
  const issues = error?.issues ?? (error?.field ? [{ field: error.field, reason: '' }] : []);
  throw new ApiError(
    res.status,
    error?.message ?? `${res.status} ${res.statusText}`,
    error?.field,
    issues,
  );
}

export async function getJson<T>(path: string): Promise<T> {
  return answer<T>(await fetch(path, { headers: headers() }));
}

export async function postJson<T>(path: string, body: unknown): Promise<T> {
  return answer<T>(
    await fetch(path, {
      method: 'POST',
      headers: headers({ 'content-type': 'application/json' }),
      body: JSON.stringify(body),
    }),
  );
}

export async function postForm<T>(path: string, form: FormData): Promise<T> {
  return answer<T>(await fetch(path, { method: 'POST', headers: headers(), body: form }));
}

export interface SseEvent {
  event: string;
  data: string;
}

/** Reads a text/event-stream response event by event until it ends. */
export async function* events(path: string, signal?: AbortSignal): AsyncGenerator<SseEvent> {
  const res = await fetch(path, { headers: headers({ accept: 'text/event-stream' }), signal });
  if (!res.ok || !res.body) await answer(res);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end: number;
    while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, '');
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split(/\r?\n/)) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (data.length) yield { event, data: data.join('\n') };
    }
  }
}

/** The request schemas' enums (strategies, objectives, modalities), from the server's OpenAPI document. */
export interface Choices {
  strategy: string[];
  objective: string[];
  modality: string[];
  task: string[];
}

interface SchemaNode {
  properties?: Record<string, SchemaNode>;
  enum?: string[];
}

export async function choices(): Promise<Choices> {
  const doc = await getJson<{
    paths: Record<
      string,
      Record<string, { requestBody?: { content: Record<string, { schema: SchemaNode }> } }>
    >;
  }>('/v1/openapi.json');
  const body = doc.paths['/v1/recommend'].post.requestBody!.content['application/json'].schema;
  const props = body.properties ?? {};
  const profile = props.profile?.properties ?? {};
  return {
    strategy: props.strategy?.enum ?? [],
    objective: props.objective?.enum ?? [],
    modality: profile.modality?.enum ?? [],
    task: profile.task?.enum ?? [],
  };
}
