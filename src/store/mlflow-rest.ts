// Reads runs from an MLflow tracking server through its REST API (MLflow's documented 2.0
// protocol): POST /api/2.0/mlflow/experiments/search and /api/2.0/mlflow/runs/search, page after
// page (next_page_token), and GET /api/2.0/mlflow/metrics/get-history for the metrics the
// mapping reads (their min, max or best, and the learning curve). Credentials come from the URL (basic), or the
// environment MLflow's own clients read: MLFLOW_TRACKING_TOKEN (bearer) or
// MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (basic); they are never shown.
import { z } from 'zod';
import { ExitCode, MetallmixError, describeIssues, type Env } from '../core/index.ts';
import type { Mapping } from './mapping.ts';
import {
  historyKeys,
  latestOf,
  mlflowTable,
  parseMetricValue,
  type MetricPoint,
  type MlflowExperiment,
  type MlflowRun,
} from './mlflow.ts';
import { withSharedColumns, type SourceTable } from './source-table.ts';
import { pushAll } from '../core/arrays.ts';

const PAGE = 1000;
const HISTORY_PAGE = 25_000;
const TIMEOUT_MS = 60_000;

export const isHttpUrl = (s: string) => /^https?:\/\//i.test(s);

// The answers are checked before use: a proxy's page or another service's JSON on that port
// must fail as the server's fault (exit 4), not as a TypeError deep in the import.
const int64 = z.union([z.number(), z.string()]).optional();
// protobuf's JSON mapping may leave out an empty value.
const KeyValue = z.object({ key: z.string(), value: z.string().default('') });
const RestMetric = z.object({
  key: z.string(),
  value: z.union([z.number(), z.string()]),
  timestamp: int64,
  step: int64,
});
type RestMetric = z.output<typeof RestMetric>;
const RestRun = z.object({
  info: z.object({
    run_id: z.string().optional(),
    run_uuid: z.string().optional(),
    run_name: z.string().optional(),
    experiment_id: z.string(),
    user_id: z.string().optional(),
    status: z.string(),
    start_time: int64,
    end_time: int64,
    lifecycle_stage: z.string().optional(),
  }),
  data: z
    .object({
      metrics: z.array(RestMetric).optional(),
      params: z.array(KeyValue).optional(),
      tags: z.array(KeyValue).optional(),
    })
    .optional(),
});
const page = { next_page_token: z.string().optional() };
const ExperimentsPage = z.object({
  experiments: z
    .array(
      z.object({ experiment_id: z.string(), name: z.string(), tags: z.array(KeyValue).optional() }),
    )
    .optional(),
  ...page,
});
const RunsPage = z.object({ runs: z.array(RestRun).optional(), ...page });
const HistoryPage = z.object({ metrics: z.array(RestMetric).optional(), ...page });

/** The most read of one answer: a page of 1,000 runs is megabytes, never this. */
const MAX_RESPONSE_BYTES = 256 * 1024 * 1024;

/** int64 fields may arrive as JSON numbers or, from protobuf's JSON mapping, as strings. */
const int = (v: number | string | undefined): number | undefined => {
  if (v === undefined || v === null || v === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
};

const point = (m: RestMetric): MetricPoint => ({
  value: typeof m.value === 'number' ? m.value : parseMetricValue(String(m.value)),
  timestamp: int(m.timestamp) ?? 0,
  step: int(m.step) ?? 0,
});

class MlflowClient {
  readonly base: string;
  readonly label: string;
  private readonly headers: Record<string, string>;

  constructor(url: string, env: Env) {
    const parsed = new URL(url);
    const user = decodeURIComponent(parsed.username);
    const password = decodeURIComponent(parsed.password);
    parsed.username = '';
    parsed.password = '';
    this.base = parsed.toString().replace(/\/+$/, '');
    this.label = user ? this.base.replace('://', `://${encodeURIComponent(user)}:***@`) : this.base;
    this.headers = { 'content-type': 'application/json', accept: 'application/json' };
    const basic = (u: string, p: string) =>
      `Basic ${Buffer.from(`${u}:${p}`, 'utf8').toString('base64')}`;
    if (user) this.headers.authorization = basic(user, password);
    else if (env.MLFLOW_TRACKING_TOKEN)
      this.headers.authorization = `Bearer ${env.MLFLOW_TRACKING_TOKEN}`;
    else if (env.MLFLOW_TRACKING_USERNAME)
      this.headers.authorization = basic(
        env.MLFLOW_TRACKING_USERNAME,
        env.MLFLOW_TRACKING_PASSWORD ?? '',
      );
  }

  async call<S extends z.ZodType>(
    endpoint: string,
    schema: S,
    init: { body?: object; query?: Record<string, string> },
  ): Promise<z.output<S>> {
    const query = init.query ? `?${new URLSearchParams(init.query)}` : '';
    const where = `${this.label}/api/2.0/mlflow/${endpoint}`;
    let response: Response;
    try {
      response = await fetch(`${this.base}/api/2.0/mlflow/${endpoint}${query}`, {
        method: init.body ? 'POST' : 'GET',
        headers: this.headers,
        body: init.body ? JSON.stringify(init.body) : undefined,
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new MetallmixError(
        `cannot reach the MLflow tracking server: ${cause?.code ?? cause?.message ?? (err as Error).message}`,
        { location: { file: where }, exitCode: ExitCode.unavailable, cause: err },
      );
    }
    const text = await cappedText(response, where);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (!response.ok) {
      const e = (body ?? {}) as { error_code?: string; message?: string };
      throw new MetallmixError(
        `the MLflow tracking server answered ${response.status}${e.error_code ? ` ${e.error_code}` : ''}: ${e.message ?? text.slice(0, 200)}`,
        {
          location: { file: where },
          exitCode:
            response.status >= 500 || response.status === 401 || response.status === 403
              ? ExitCode.unavailable
              : ExitCode.badInput,
        },
      );
    }
    if (body === undefined || typeof body !== 'object')
      throw new MetallmixError(`the MLflow tracking server did not answer with JSON`, {
        location: { file: where },
        exitCode: ExitCode.unavailable,
      });
    const parsed = schema.safeParse(body);
    if (!parsed.success)
      throw new MetallmixError(
        `the MLflow tracking server answered in a shape MLflow's REST API does not have: ${describeIssues(parsed.error)}`,
        { location: { file: where }, exitCode: ExitCode.unavailable },
      );
    return parsed.data;
  }

  /** Every item of a paged endpoint, following next_page_token. */
  async all<T>(
    fetchPage: (token: string | undefined) => Promise<{ items?: T[]; next_page_token?: string }>,
  ): Promise<T[]> {
    const out: T[] = [];
    let token: string | undefined;
    const seen = new Set<string>();
    do {
      const page = await fetchPage(token);
      pushAll(out, page.items ?? []);
      token = page.next_page_token || undefined;
      if (token && seen.has(token))
        throw new MetallmixError('the MLflow tracking server repeated a page token', {
          location: { file: this.label },
          exitCode: ExitCode.unavailable,
        });
      if (token) seen.add(token);
    } while (token);
    return out;
  }
}

/** The body as text, refused past MAX_RESPONSE_BYTES instead of held whole. */
async function cappedText(response: Response, where: string): Promise<string> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = response.body?.getReader();
  for (;;) {
    const chunk = reader ? await reader.read() : { done: true as const, value: undefined };
    if (chunk.done) break;
    total += chunk.value.length;
    if (total > MAX_RESPONSE_BYTES) {
      await reader!.cancel();
      throw new MetallmixError(
        `the MLflow tracking server sent more than ${MAX_RESPONSE_BYTES / 1024 / 1024} MB in one answer`,
        { location: { file: where }, exitCode: ExitCode.unavailable },
      );
    }
    chunks.push(chunk.value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function readMlflowServer(
  url: string,
  options: { env: Env; mapping?: Mapping },
): Promise<SourceTable[]> {
  const client = new MlflowClient(url, options.env);
  const needHistory = historyKeys(options.mapping);
  const experiments = await client.all(async (page_token) => {
    const r = await client.call('experiments/search', ExperimentsPage, {
      body: { max_results: PAGE, view_type: 'ACTIVE_ONLY', ...(page_token ? { page_token } : {}) },
    });
    return { items: r.experiments, next_page_token: r.next_page_token };
  });
  experiments.sort((a, b) =>
    a.experiment_id.localeCompare(b.experiment_id, 'en', { numeric: true }),
  );
  const tables: SourceTable[] = [];
  for (const e of experiments) {
    const experiment: MlflowExperiment = {
      id: e.experiment_id,
      name: e.name,
      tags: new Map((e.tags ?? []).map((t) => [t.key, t.value])),
    };
    const restRuns = await client.all(async (page_token) => {
      const r = await client.call('runs/search', RunsPage, {
        body: {
          experiment_ids: [experiment.id],
          max_results: PAGE,
          run_view_type: 'ACTIVE_ONLY',
          ...(page_token ? { page_token } : {}),
        },
      });
      return { items: r.runs, next_page_token: r.next_page_token };
    });
    const runs: MlflowRun[] = [];
    for (const r of restRuns) {
      if (r.info.lifecycle_stage === 'deleted') continue;
      const runId = r.info.run_id ?? r.info.run_uuid ?? '';
      const byKey = new Map<string, MetricPoint[]>();
      for (const m of r.data?.metrics ?? [])
        byKey.set(m.key, [...(byKey.get(m.key) ?? []), point(m)]);
      const latest = new Map<string, MetricPoint>();
      for (const [k, points] of byKey) latest.set(k, latestOf(points)!);
      const history = new Map<string, MetricPoint[]>();
      for (const key of latest.keys()) {
        if (!needHistory.has(key)) continue;
        const points = await client.all(async (page_token) => {
          const h = await client.call('metrics/get-history', HistoryPage, {
            query: {
              run_id: runId,
              metric_key: key,
              max_results: String(HISTORY_PAGE),
              ...(page_token ? { page_token } : {}),
            },
          });
          return { items: h.metrics, next_page_token: h.next_page_token };
        });
        history.set(key, points.map(point));
      }
      runs.push({
        runId,
        runName: r.info.run_name || undefined,
        experimentId: r.info.experiment_id,
        status: r.info.status,
        userId: r.info.user_id || undefined,
        startTime: int(r.info.start_time),
        endTime: int(r.info.end_time),
        params: new Map((r.data?.params ?? []).map((p) => [p.key, p.value])),
        tags: new Map((r.data?.tags ?? []).map((t) => [t.key, t.value])),
        latest,
        history,
      });
    }
    if (runs.length === 0) continue;
    runs.sort((a, b) => (a.startTime ?? 0) - (b.startTime ?? 0) || (a.runId < b.runId ? -1 : 1));
    tables.push(
      mlflowTable(client.label, `mlflow:${client.label}#${experiment.name}`, experiment, runs),
    );
  }
  return withSharedColumns(tables);
}
