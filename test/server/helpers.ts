// A real server on a free port of 127.0.0.1 with a cache of its own, and requests to it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer, type RunningServer, type ServeOptions } from '../../src/server/server.ts';

export interface TestServer extends RunningServer {
  dir: string;
  env: Record<string, string | undefined>;
  log: string[];
  /** Stops the server and removes its folder. */
  stop(): Promise<void>;
}

export async function testServer(options: ServeOptions = {}): Promise<TestServer> {
  const dir = mkdtempSync(path.join(tmpdir(), 'metallmix-server-test-'));
  const env = {
    ...process.env,
    METALLMIX_CACHE: path.join(dir, 'cache'),
    METALLMIX_DATA: path.join(dir, 'data'),
    METALLMIX_KB: '',
  };
  const log: string[] = [];
  const server = await startServer({
    port: 0,
    env,
    log: (line) => log.push(line),
    ...options,
  });
  return {
    ...server,
    dir,
    env,
    log,
    async stop() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function getJson(url: string): Promise<any> {
  return (await fetch(url)).json();
}

export async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json(), headers: res.headers };
}

export async function postForm(
  url: string,
  form: FormData,
): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { method: 'POST', body: form });
  return { status: res.status, body: await res.json() };
}

/** The events of a text/event-stream, read to its end. */
export async function readEvents(url: string): Promise<{ event: string; data: any }[]> {
  const res = await fetch(url, { headers: { accept: 'text/event-stream' } });
  const text = await res.text();
  return text
    .split(/\n\n/)
    .filter((b) => b.trim())
    .map((block) => {
      const lines = block.split('\n');
      const event =
        lines
          .find((l) => l.startsWith('event:'))
          ?.slice(6)
          .trim() ?? 'message';
      const data = lines
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).trim())
        .join('\n');
      return { event, data: JSON.parse(data) };
    });
}
