// The HTTP face: routes of the route table bound to the library's operations (run on worker
// threads), request validation by the routes' zod schemas, errors as the CLI words them, bearer
// auth, body limits, an access log, and the built web page at /.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { timingSafeEqual } from 'node:crypto';
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { streamSSE } from 'hono/streaming';
import type { HttpBindings } from '@hono/node-server';
import { serveStatic } from '@hono/node-server/serve-static';
import type { z } from 'zod';
import {
  BenchParams,
  ExitCode,
  MetallmixError,
  RecommendRequest,
  exportContents,
  describeIssues,
  withLocation,
  type DatasetInput,
  type Env,
  type ErrorLocation,
  type LlmSetup,
} from '../index.ts';
import { accessLogLine } from './access-log.ts';
import { Jobs, TooManyJobsError, type JobError, type JobState } from './jobs.ts';
import { openApiDocument } from './openapi.ts';
import {
  ExportRequest,
  ImportUpload,
  ProfileUpload,
  RecommendUpload,
  RecommendUploadOptions,
  RecordsQuery,
  ROUTES,
} from './routes.ts';
import { TooLargeError, UploadDir } from './uploads.ts';
import { BusyError, TaskError, WorkerPool } from './worker-pool.ts';
import type { Operations } from './tasks.ts';

export interface AppOptions {
  version: string;
  /** The knowledge base every request reads (and import writes); default as the CLI's. */
  kb?: string;
  env: Env;
  llm?: LlmSetup;
  /** Bearer token every non-public route requires; none: no auth. */
  token?: string;
  maxJsonBytes: number;
  maxUploadBytes: number;
  /** An archive may unpack to this much. */
  maxExtractedBytes: number;
  /** Folder of the built web page (index.html and assets). */
  webRoot?: string;
  log(line: string): void;
}

/** A request that does not match its route's schema. */
class RequestError extends Error {
  constructor(
    message: string,
    readonly field: string | undefined,
    readonly issues: { field: string; reason: string }[],
  ) {
    super(message);
  }
}

const STATUS_OF_EXIT: Record<number, number> = {
  [ExitCode.badInput]: 400,
  [ExitCode.unsatisfiable]: 422,
  [ExitCode.unavailable]: 503,
};

interface HttpError {
  status: number;
  body: { error: Record<string, unknown> };
  headers?: Record<string, string>;
}

/** What a user can fix, whichever side of the thread boundary it was thrown on. */
function userError(
  err: unknown,
): { message: string; exitCode: number; location: ErrorLocation } | undefined {
  if (err instanceof MetallmixError) return err;
  if (err instanceof TaskError && err.failure.exitCode !== undefined)
    return {
      message: err.failure.message,
      exitCode: err.failure.exitCode,
      location: err.failure.location ?? {},
    };
  return undefined;
}

export function httpError(err: unknown, uploads?: UploadDir): HttpError {
  const clean = (s: string) => (uploads ? uploads.relative(s) : s);
  if (err instanceof RequestError)
    return {
      status: 400,
      body: {
        error: {
          status: 400,
          message: err.message,
          field: err.field,
          reason: err.issues[0]?.reason,
          issues: err.issues,
        },
      },
    };
  if (err instanceof BusyError || err instanceof TooManyJobsError)
    return {
      status: 429,
      body: { error: { status: 429, message: err.message } },
      headers: { 'Retry-After': '5' },
    };
  if (err instanceof TooLargeError)
    return { status: 413, body: { error: { status: 413, message: clean(err.message) } } };
  const user = userError(err);
  if (user) {
    const status = STATUS_OF_EXIT[user.exitCode] ?? 500;
    const loc = user.location;
    const prefix = withLocation('', loc);
    const reason = user.message.startsWith(prefix) ? user.message.slice(prefix.length) : undefined;
    return {
      status,
      body: {
        error: {
          status,
          message: clean(user.message),
          ...(loc.field ? { field: loc.field } : {}),
          ...(reason && prefix ? { reason: clean(reason) } : {}),
          ...(loc.file ? { file: clean(loc.file) } : {}),
          ...(loc.line !== undefined ? { line: loc.line } : {}),
          ...(loc.column ? { column: loc.column } : {}),
        },
      },
    };
  }
  return { status: 500, body: { error: { status: 500, message: 'internal error' } } };
}

/** `within` names the form field the value came from (`options` of an upload), so the field
 * to fix reads `options.topK`. */
function validate<S extends z.ZodType>(
  schema: S,
  value: unknown,
  what: string,
  within?: string,
): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  // An unknown key is named itself (a misspelt "topk" is the field to fix), not its parent object.
  const issues = result.error.issues.flatMap((i) =>
    (i.code === 'unrecognized_keys' ? i.keys.map((k) => [...i.path, k]) : [i.path]).map((p) => {
      const path = within ? [within, ...p] : p;
      return { field: path.length ? path.join('.') : '(body)', reason: i.message };
    }),
  );
  const field = issues[0]?.field;
  throw new RequestError(
    withLocation(`invalid ${what}: ${describeIssues(result.error)}`, { field }),
    field,
    issues,
  );
}

function parseJson(text: string, field: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const reason = `not valid JSON: ${(err as Error).message}`;
    throw new RequestError(withLocation(reason, { field }), field, [{ field, reason }]);
  }
}

type App = Hono<{ Bindings: HttpBindings }>;
type Ctx = Context<{ Bindings: HttpBindings }>;

const isMultipart = (c: Ctx) =>
  (c.req.header('content-type') ?? '').toLowerCase().startsWith('multipart/form-data');

async function jsonBody(c: Ctx): Promise<unknown> {
  return parseJson(await c.req.text(), '(body)');
}

/** Form fields as an object; a field given more than once becomes an array. */
async function formBody(c: Ctx): Promise<Record<string, unknown>> {
  try {
    return (await c.req.parseBody({ all: true })) as Record<string, unknown>;
  } catch (err) {
    const reason = `not a readable multipart form: ${(err as Error).message}`;
    throw new RequestError(reason, '(body)', [{ field: '(body)', reason }]);
  }
}

function bearer(token: string): MiddlewareHandler {
  const expected = Buffer.from(`Bearer ${token}`);
  return async (c, next) => {
    const given = Buffer.from(c.req.header('authorization') ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      c.header('WWW-Authenticate', 'Bearer');
      return c.json(
        { error: { status: 401, message: 'a bearer token is required (Authorization header)' } },
        401,
      );
    }
    await next();
  };
}

export interface Services {
  pool: WorkerPool;
  jobs: Jobs;
}

export function createServices(options: { workers: number; maxQueued: number; maxJobs: number }) {
  return {
    pool: new WorkerPool({ size: options.workers, maxQueued: options.maxQueued }),
    jobs: new Jobs(options.maxJobs, (err): JobError => {
      const { status, body } = httpError(err);
      return {
        status,
        message: String(body.error.message),
        ...(body.error.field ? { field: String(body.error.field) } : {}),
      };
    }),
  };
}

export function createApp(options: AppOptions, { pool, jobs }: Services): App {
  const app: App = new Hono();
  const started = performance.now();
  const library = { kb: options.kb, env: options.env };
  const document = openApiDocument(options.version, options.token !== undefined);

  // A client may put the token in the URL itself (?access_token=...): it is masked there too.
  const { token } = options;
  const masked = (url: string) => (token ? url.split(token).join('[token]') : url);

  // Logged when the response has gone out, so streams are logged with their final status.
  app.use('*', async (c, next) => {
    const t0 = performance.now();
    const { incoming, outgoing } = c.env;
    let bytes: string | null = null;
    outgoing.once('finish', () =>
      options.log(
        accessLogLine({
          remote: incoming.socket.remoteAddress,
          method: incoming.method ?? c.req.method,
          url: masked(incoming.url ?? c.req.path),
          httpVersion: incoming.httpVersion,
          status: outgoing.statusCode,
          bytes,
          ms: performance.now() - t0,
        }),
      ),
    );
    await next();
    // The adapter sizes bodies as it writes them; an event stream has no size until it ends.
    bytes = c.res.headers.get('content-length');
    if (
      bytes === null &&
      c.res.body &&
      !c.res.headers.get('content-type')?.includes('event-stream')
    )
      bytes = String((await c.res.clone().arrayBuffer()).byteLength);
  });

  app.onError((err, c) => {
    const { status, body, headers } = httpError(err);
    if (status === 500) options.log(`internal error: ${err.stack ?? err.message}`);
    for (const [k, v] of Object.entries(headers ?? {})) c.header(k, v);
    return c.json(body, status as 500);
  });

  /** Runs `fn` with a fresh upload folder, removed afterwards; errors name the upload files. */
  const withUploads = async (c: Ctx, fn: (dir: UploadDir) => Promise<Response>) => {
    const dir = await UploadDir.create();
    try {
      return await fn(dir);
    } catch (err) {
      const { status, body, headers } = httpError(err, dir);
      if (status === 500) throw err;
      for (const [k, v] of Object.entries(headers ?? {})) c.header(k, v);
      return c.json(body, status as 400);
    } finally {
      await dir.remove();
    }
  };

  /** The dataset of an upload: a manifest (its images in the archive), an archive, or a profile file. */
  const uploadedDataset = async (
    dir: UploadDir,
    form: { manifest?: File; archive?: File; profile?: File },
  ): Promise<DatasetInput> => {
    const unpacked = form.archive
      ? await dir.unpack(form.archive, options.maxExtractedBytes)
      : undefined;
    if (form.manifest) {
      const saved = await dir.save(
        form.manifest,
        unpacked ? path.relative(dir.dir, unpacked.root) : 'manifest',
      );
      return { manifest: saved };
    }
    if (unpacked) return { imageFolder: unpacked.root, name: unpacked.name };
    if (form.profile) return { profile: parseJson(await form.profile.text(), 'profile') };
    const reason = 'give a profile, a manifest or an archive of an image folder';
    throw new RequestError(withLocation(reason, { field: 'profile' }), 'profile', [
      { field: 'profile', reason },
    ]);
  };

  const run = <K extends keyof Operations>(op: K, input: Operations[K]['input']) =>
    pool.run(op, input);

  const handlers: Record<string, (c: Ctx) => Promise<Response> | Response> = {
    health: (c) =>
      c.json({
        status: 'ok',
        version: options.version,
        uptimeSec: (performance.now() - started) / 1000,
        jobsRunning: jobs.running,
        requestsQueued: pool.queued,
      }),
    openapi: (c) => c.json(document),
    recommend: async (c) => {
      const shared = { ...library, llm: options.llm, cache: true };
      if (!isMultipart(c)) {
        const { profile, modality, ...params } = validate(
          RecommendRequest,
          await jsonBody(c),
          'recommendation request',
        );
        return c.json(
          await run('recommend', { ...shared, ...params, dataset: { profile, modality } }),
        );
      }
      return withUploads(c, async (dir) => {
        const form = validate(RecommendUpload, await formBody(c), 'recommendation upload');
        const { modality, ...params } = form.options
          ? validate(
              RecommendUploadOptions,
              parseJson(form.options, 'options'),
              'recommendation options',
              'options',
            )
          : validate(RecommendUploadOptions, {}, 'recommendation options');
        const dataset = { ...(await uploadedDataset(dir, form)), modality };
        return c.json(await run('recommend', { ...shared, ...params, dataset }));
      });
    },
    profile: (c) =>
      withUploads(c, async (dir) => {
        const { manifest, archive, ...rest } = validate(
          ProfileUpload,
          await formBody(c),
          'profile upload',
        );
        if (!manifest && !archive) {
          const reason = 'give an archive of an image folder, or a manifest with its images';
          throw new RequestError(withLocation(reason, { field: 'archive' }), 'archive', [
            { field: 'archive', reason },
          ]);
        }
        const dataset = await uploadedDataset(dir, { manifest, archive });
        return c.json(
          await run('profile', {
            imageFolder: dataset.imageFolder,
            manifest: dataset.manifest,
            ...rest,
            name: rest.name ?? dataset.name,
          }),
        );
      }),
    export: async (c) => {
      const { recommendation, format, name } = validate(
        ExportRequest,
        await jsonBody(c),
        'export request',
      );
      const files = await exportContents({ ...library, recommendation, format, out: name });
      return c.json({
        files: files.map((f) => ({ name: f.name, content: f.content, what: f.what })),
      });
    },
    kbOverview: async (c) => c.json(await run('kbOverview', library)),
    kbRecords: async (c) => {
      const query = validate(RecordsQuery, c.req.query(), 'records query');
      return c.json(await run('kbRecords', { ...library, ...query }));
    },
    import: (c) =>
      withUploads(c, async (dir) => {
        const form = validate(ImportUpload, await formBody(c), 'import upload');
        const files = [];
        for (const f of Array.isArray(form.files) ? form.files : [form.files])
          files.push(await dir.save(f, 'sources'));
        const attachments = form.attachments ?? [];
        for (const f of Array.isArray(attachments) ? attachments : [attachments])
          await dir.save(f, 'mapping');
        return c.json(
          await run('import', {
            ...library,
            files,
            mapping: await dir.save(form.mapping, 'mapping'),
            format: form.format,
            study: form.study,
            skipInvalid: form.skipInvalid === 'true',
          }),
        );
      }),
    bench: async (c) => {
      const params = validate(BenchParams, await jsonBody(c), 'bench request');
      const job = jobs.submit('bench', (onProgress) =>
        pool.runIsolated('bench', { ...library, llm: options.llm, ...params }, onProgress),
      );
      c.header('Location', `/v1/jobs/${job.id}`);
      return c.json(job, 202);
    },
    listJobs: (c) => c.json(jobs.list()),
    getJob: (c) => {
      const job = jobs.get(c.req.param('id')!);
      return job ? c.json(job) : noJob(c);
    },
    cancelJob: async (c) => {
      const job = await jobs.cancel(c.req.param('id')!);
      return job ? c.json(job) : noJob(c);
    },
    jobEvents: (c) => {
      const id = c.req.param('id')!;
      const current = jobs.get(id);
      if (!current) return noJob(c);
      return streamSSE(c, async (stream) => {
        let seq = 0;
        const send = (s: JobState) => {
          const { result: _result, ...running } = s;
          return stream.writeSSE({
            id: String(++seq),
            event: s.status === 'running' ? 'progress' : 'end',
            data: JSON.stringify(s.status === 'running' ? running : s),
          });
        };
        if (current.status !== 'running') return send(current);
        await new Promise<void>((resolve) => {
          // The stream closes once the callback returns: the end event is written first.
          const unsubscribe = jobs.subscribe(id, (s) => {
            const sent = send(s);
            if (s.status !== 'running') void sent.then(resolve, resolve);
          });
          stream.onAbort(() => {
            unsubscribe();
            resolve();
          });
          void send(current);
        });
      });
    },
  };

  for (const route of ROUTES) {
    const middleware: MiddlewareHandler[] = [];
    if (!route.public && options.token !== undefined) middleware.push(bearer(options.token));
    if (route.json || route.multipart) middleware.push(sizeLimit(options));
    const handler: MiddlewareHandler = async (c) => {
      if (route.params) validate(route.params, c.req.param(), 'path');
      return handlers[route.operationId](c as Ctx);
    };
    // Hono's overloads type a fixed number of handlers; the route table gives a variable one.
    (app.on as (method: string, path: string, ...h: MiddlewareHandler[]) => App).apply(app, [
      route.method.toUpperCase(),
      route.path.replace(/\{(\w+)\}/g, ':$1'),
      ...middleware,
      handler,
    ]);
  }
  // A known path asked with another method is a 405 that lists the methods it has.
  const methodsOf = new Map<string, string[]>();
  for (const route of ROUTES) {
    const key = route.path.replace(/\{(\w+)\}/g, ':$1');
    methodsOf.set(key, [...(methodsOf.get(key) ?? []), route.method.toUpperCase()]);
  }
  for (const [key, methods] of methodsOf)
    app.all(key, (c) => {
      const allow = methods.join(', ');
      c.header('Allow', allow);
      return c.json(
        {
          error: {
            status: 405,
            message: `${c.req.method} is not a method of ${c.req.path}: use ${allow}`,
          },
        },
        405,
      );
    });
  app.all('/v1/*', (c) =>
    c.json({ error: { status: 404, message: `no route ${c.req.method} ${c.req.path}` } }, 404),
  );
  webPage(app, options.webRoot);
  return app;
}

function noJob(c: Ctx) {
  return c.json({ error: { status: 404, message: `no job "${c.req.param('id')}"` } }, 404);
}

/** 413 past the limit of the body's kind: uploads may be far larger than JSON bodies. */
function sizeLimit(options: AppOptions): MiddlewareHandler {
  const limit = (maxSize: number, what: string) =>
    bodyLimit({
      maxSize,
      // The rest of the body is never read: the connection cannot carry another request.
      onError: (c) =>
        c.json(
          {
            error: {
              status: 413,
              message: `the ${what} is larger than ${formatBytes(maxSize)}, the most this server accepts`,
            },
          },
          413,
          { Connection: 'close' },
        ),
    });
  const json = limit(options.maxJsonBytes, 'request body');
  const upload = limit(options.maxUploadBytes, 'upload');
  return (c, next) => (isMultipart(c as Ctx) ? upload(c, next) : json(c, next));
}

function formatBytes(n: number): string {
  return n >= 2 ** 20 ? `${(n / 2 ** 20).toFixed(0)} MiB` : `${(n / 1024).toFixed(0)} KiB`;
}

function webPage(app: App, webRoot: string | undefined): void {
  const index = webRoot ? path.join(webRoot, 'index.html') : undefined;
  if (!index || !existsSync(index)) {
    app.get('/', (c) =>
      c.html(
        '<!doctype html><meta charset="utf-8"><title>metallmix</title><p>The web page is not built. Run <code>npm run build:web</code>, then restart <code>metallmix serve</code>. The API answers at <a href="/v1/openapi.json">/v1/openapi.json</a>.</p>',
        503,
      ),
    );
    return;
  }
  app.use('/assets/*', serveStatic({ root: webRoot }));
  app.get('/', async (c) => c.html(await readFile(index, 'utf8')));
}
