// Reads runs from an MLflow tracking server through its REST API (MLflow's documented 2.0
// protocol): POST /api/2.0/mlflow/experiments/search and /api/2.0/mlflow/runs/search, page after
// page (next_page_token), and GET /api/2.0/mlflow/metrics/get-history for the metrics the
// mapping reads (their min, max or best, and the learning curve). Credentials come from the URL (basic), or the
// environment MLflow's own clients read: MLFLOW_TRACKING_TOKEN (bearer) or
// MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (basic); they are never shown.
import { ExitCode, MetallmixError, type Env } from '../core/index.ts';
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

interface KeyValue {
  key: string;
  value: string;
}

interface RestMetric {
  key: string;
  value: number | string;
  timestamp?: number | string;
  step?: number | string;
}

interface RestRun {
  info: {
    run_id?: string;
    run_uuid?: string;
    run_name?: string;
    experiment_id: string;
    user_id?: string;
    status: string;
    start_time?: number | string;
    end_time?: number | string;
    lifecycle_stage?: string;
  };
  data?: { metrics?: RestMetric[]; params?: KeyValue[]; tags?: KeyValue[] };
}

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

  async call<T>(
    endpoint: string,
    init: { body?: object; query?: Record<string, string> },
  ): Promise<T> {
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
    const text = await response.text();
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
    return body as T;
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

export async function readMlflowServer(
  url: string,
  options: { env: Env; mapping?: Mapping },
): Promise<SourceTable[]> {
  const client = new MlflowClient(url, options.env);
  const needHistory = historyKeys(options.mapping);
  const experiments = await client.all(async (page_token) => {
    const r = await client.call<{
      experiments?: { experiment_id: string; name: string; tags?: KeyValue[] }[];
      next_page_token?: string;
    }>('experiments/search', {
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
      const r = await client.call<{ runs?: RestRun[]; next_page_token?: string }>('runs/search', {
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
          const h = await client.call<{ metrics?: RestMetric[]; next_page_token?: string }>(
            'metrics/get-history',
            {
              query: {
                run_id: runId,
                metric_key: key,
                max_results: String(HISTORY_PAGE),
                ...(page_token ? { page_token } : {}),
              },
            },
          );
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
