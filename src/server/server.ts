// Starting and stopping the HTTP server: the bind rules (loopback by default; elsewhere only with
// a token or an explicit no-auth), the worker threads and jobs, and a clean shutdown.
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { MetallmixError, type Env, type LlmSetup } from '../index.ts';
import { packagePath } from '../core/package-files.ts';
import { createApp, createServices } from './app.ts';

export interface ServeOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  kb?: string;
  env?: Env;
  llm?: LlmSetup;
  token?: string;
  /** Bind beyond loopback without a token: the caller said so explicitly. */
  noAuth?: boolean;
  /** Bench jobs running at once (each on its own worker thread); more are answered 429. */
  maxJobs?: number;
  /** Worker threads serving recommend, profile, import and knowledge-base reads. */
  workers?: number;
  /** Requests that may wait for a worker; more are answered 429. */
  maxQueued?: number;
  maxJsonBytes?: number;
  maxUploadBytes?: number;
  /** Folder of the built web page; default dist/web of this package. */
  webRoot?: string;
  /** Where access-log lines go (one per request). */
  log?: (line: string) => void;
}

export interface RunningServer {
  url: string;
  host: string;
  port: number;
  close(): Promise<void>;
}

/** metallmix's version, from its package.json (found from the package root, bundled or not). */
function packageVersion(): string {
  return (JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version: string })
    .version;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export async function startServer(options: ServeOptions = {}): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  if (options.token !== undefined && options.token.length < 16)
    throw new MetallmixError('a token needs at least 16 characters', {
      location: { field: 'token' },
    });
  if (!isLoopback(host) && options.token === undefined && !options.noAuth)
    throw new MetallmixError(
      `binding to ${host} opens the server beyond this machine: give --token (clients send it as a bearer token) or, to run without auth, --no-auth`,
      { location: { field: 'host' } },
    );
  const maxUploadBytes = options.maxUploadBytes ?? 64 * 2 ** 20;
  const services = createServices({
    workers: options.workers ?? 1,
    maxQueued: options.maxQueued ?? 16,
    maxJobs: options.maxJobs ?? 1,
  });
  const app = createApp(
    {
      version: packageVersion(),
      kb: options.kb,
      env: { ...(options.env ?? process.env) },
      llm: options.llm,
      token: options.token,
      maxJsonBytes: options.maxJsonBytes ?? 2 ** 20,
      maxUploadBytes,
      maxExtractedBytes: 4 * maxUploadBytes,
      webRoot: options.webRoot ?? packagePath('dist', 'web'),
      log: options.log ?? (() => {}),
    },
    services,
  );
  const server = await new Promise<Server>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: host, port: options.port ?? 8080 }, () =>
      resolve(s as Server),
    ) as Server;
    s.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new MetallmixError(`cannot listen on ${host}:${options.port ?? 8080}: ${err.message}`, {
          location: { field: err.code === 'EADDRINUSE' ? 'port' : 'host' },
          exitCode: 4,
          cause: err,
        }),
      ),
    );
  });
  // Clients keep idle connections for a while (Node's fetch about 4 s); a server that closes
  // them first races a client's next request on the same connection, so it waits longer.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  services.pool.warm();
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    host,
    port,
    async close() {
      await services.jobs.close();
      await services.pool.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Event streams and keep-alive connections would hold the close open.
        server.closeAllConnections();
      });
    },
  };
}
