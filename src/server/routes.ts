// The HTTP API as data: every route with the zod schemas of what it takes and returns. The server
// routes and validates requests from this table, and /v1/openapi.json is generated from it, so the
// two cannot disagree.
import { z } from 'zod';
import {
  BenchParams,
  DatasetProfile,
  EXPORT_FORMATS,
  ExperimentRecord,
  Modality,
  Recommendation,
  RecommendRequest,
  RunStatus,
  Task,
} from '../index.ts';

export const ErrorBody = z.object({
  error: z.object({
    status: z.number().int(),
    /** As the CLI prints it: file, line, column or field, then the reason. */
    message: z.string(),
    field: z.string().optional(),
    reason: z.string().optional(),
    file: z.string().optional(),
    line: z.number().int().optional(),
    column: z.string().optional(),
    /** Every failed field of a request body, when it did not match its schema. */
    issues: z.array(z.object({ field: z.string(), reason: z.string() })).optional(),
  }),
});

export const Health = z.object({
  status: z.literal('ok'),
  version: z.string(),
  uptimeSec: z.number(),
  jobsRunning: z.number().int(),
  requestsQueued: z.number().int(),
});

const Progress = z.object({
  label: z.string(),
  done: z.number(),
  total: z.number(),
  note: z.string().optional(),
});

export const Job = z.object({
  id: z.string(),
  kind: z.string(),
  status: z.enum(['running', 'succeeded', 'failed', 'cancelled']),
  createdAt: z.string(),
  finishedAt: z.string().optional(),
  progress: Progress.nullable(),
  /** The job's answer once it succeeded (a bench: the BenchReport of `bench --json`). */
  result: z.unknown().optional(),
  error: z
    .object({ status: z.number().int(), message: z.string(), field: z.string().optional() })
    .optional(),
});

export const RecordsQuery = z.strictObject({
  dataset: z.string().min(1).optional(),
  model: z.string().min(1).optional(),
  status: RunStatus.optional(),
  offset: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export const RecordsPage = z.object({
  total: z.number().int(),
  offset: z.number().int(),
  limit: z.number().int(),
  records: z.array(ExperimentRecord.extend({ id: z.string() })),
});

const upload = (what: string) => z.file().optional().describe(what);

/** The recommendation options beside an upload: the JSON body without its profile. */
export const RecommendUploadOptions = RecommendRequest.omit({ profile: true });

export const RecommendUpload = z.strictObject({
  options: z
    .string()
    .optional()
    .describe('JSON of the recommendation options (the JSON body without `profile`)'),
  profile: upload('a profile JSON file (`metallmix profile --output`)'),
  manifest: upload(
    'a CSV manifest path,label[,split]; its paths are read inside `archive`, the only files a request can name',
  ),
  archive: upload('a zip, tar or tar.gz of an image folder (one sub-folder per class)'),
});

export const ProfileUpload = z.strictObject({
  manifest: upload('a CSV manifest path,label[,split], paths inside `archive`'),
  archive: upload(
    'a zip, tar or tar.gz of an image folder (one sub-folder per class), or of the images a manifest names',
  ),
  split: z.string().min(1).optional().describe('with a manifest: profile only this split'),
  name: z.string().min(1).optional(),
  task: Task.optional(),
  modality: Modality.optional(),
});

export const ProfileAnswer = z.object({
  profile: DatasetProfile,
  skipped: z.array(
    z.object({ file: z.string(), reason: z.string(), line: z.number().int().optional() }),
  ),
  counts: z.object({ files: z.number(), images: z.number(), skipped: z.number() }),
});

export const ImportUpload = z.strictObject({
  files: z
    .union([z.file(), z.array(z.file()).min(1)])
    .describe('source files (CSV, JSONL, a W&B run-table export, an Optuna SQLite storage)'),
  mapping: z.file().describe('the mapping JSON (data/README.md)'),
  attachments: z
    .union([z.file(), z.array(z.file()).min(1)])
    .optional()
    .describe('files the mapping names (profiles, model cards), saved beside it'),
  format: z.enum(['csv', 'jsonl', 'wandb', 'optuna']).optional(),
  study: z.string().min(1).optional(),
  skipInvalid: z.enum(['true', 'false']).optional(),
});

export const ExportRequest = z.strictObject({
  recommendation: Recommendation.describe('a Recommendation as /v1/recommend answered it'),
  format: z.enum(EXPORT_FORMATS),
  /** The main file's name, as `recommend --export-out` takes it (default: the format's own). */
  name: z
    .string()
    .regex(/^[\w][\w.-]*$/, 'letters, digits, dot, dash and underscore only')
    .optional(),
});

export const ExportAnswer = z.object({
  files: z.array(z.object({ name: z.string(), content: z.string(), what: z.string() })),
});

export const JobParams = z.strictObject({ id: z.string().min(1) });

type Method = 'get' | 'post' | 'delete';

export interface Response {
  description: string;
  schema?: z.ZodType;
  /** Served as text/event-stream. */
  events?: boolean;
  /** Served as HTML or JSON documents outside the API's schemas. */
  contentType?: string;
}

export interface Route {
  method: Method;
  /** OpenAPI's path template: `/v1/jobs/{id}`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  /** Open without the bearer token (health checks, the API document). */
  public?: boolean;
  params?: z.ZodObject;
  query?: z.ZodObject;
  json?: z.ZodType;
  multipart?: z.ZodObject;
  responses: Record<number, Response>;
}

const errors = (...statuses: number[]): Record<number, Response> => {
  const text: Record<number, string> = {
    400: 'a field of the request is invalid: `error.field` names it and `error.reason` says why',
    401: 'the bearer token is missing or wrong',
    404: 'no such job',
    413: 'the body is larger than the server accepts',
    422: 'nothing satisfies the request (for example an empty knowledge base)',
    429: 'too many jobs or requests are running; retry after the `Retry-After` seconds',
    503: 'an external service or file is unavailable',
  };
  return Object.fromEntries(statuses.map((s) => [s, { description: text[s], schema: ErrorBody }]));
};

export const ROUTES: Route[] = [
  {
    method: 'get',
    path: '/v1/health',
    operationId: 'health',
    summary: 'Liveness: answers at once, also while jobs run',
    public: true,
    responses: { 200: { description: 'the server is up', schema: Health } },
  },
  {
    method: 'get',
    path: '/v1/openapi.json',
    operationId: 'openapi',
    summary: 'This document',
    public: true,
    responses: { 200: { description: 'OpenAPI 3.1', contentType: 'application/json' } },
  },
  {
    method: 'post',
    path: '/v1/recommend',
    operationId: 'recommend',
    summary: 'Recommend a model and hyperparameters for a dataset, zero-shot',
    description:
      'A JSON body with the profile and the options of `metallmix recommend` under their camelCase names, or a multipart upload (a manifest with an archive of its images, an archive of an image folder, or a profile file) with the options as JSON. Answers the Recommendation of `recommend --json`; a budget no candidate meets is data (`unmet`), not an error.',
    json: RecommendRequest,
    multipart: RecommendUpload,
    responses: {
      200: { description: 'the recommendation', schema: Recommendation },
      ...errors(400, 401, 413, 422, 429, 503),
    },
  },
  {
    method: 'post',
    path: '/v1/profile',
    operationId: 'profile',
    summary: 'Meta-features of an uploaded image folder (archive) or manifest',
    multipart: ProfileUpload,
    responses: {
      200: { description: 'the profile and the files skipped', schema: ProfileAnswer },
      ...errors(400, 401, 413, 429),
    },
  },
  {
    method: 'post',
    path: '/v1/export',
    operationId: 'export',
    summary:
      'The top-k of a recommendation as Optuna trials and their enqueue script, JSON or YAML',
    description: 'The files of `recommend --export FORMAT`, as text to save or paste.',
    json: ExportRequest,
    responses: {
      200: { description: 'the files', schema: ExportAnswer },
      ...errors(400, 401, 413),
    },
  },
  {
    method: 'get',
    path: '/v1/kb',
    operationId: 'kbOverview',
    summary: 'Knowledge-base statistics: counts per dataset and model, the observed search space',
    responses: {
      200: { description: 'the overview of the knowledge base' },
      ...errors(401, 503),
    },
  },
  {
    method: 'get',
    path: '/v1/kb/records',
    operationId: 'kbRecords',
    summary: 'Experiment records, filtered and paged',
    query: RecordsQuery,
    responses: {
      200: { description: 'one page of records', schema: RecordsPage },
      ...errors(400, 401, 503),
    },
  },
  {
    method: 'post',
    path: '/v1/import',
    operationId: 'import',
    summary: "Import past runs (source files + mapping) into the server's knowledge base",
    multipart: ImportUpload,
    responses: {
      200: { description: 'what was imported, as `metallmix import --json`' },
      ...errors(400, 401, 413, 429),
    },
  },
  {
    method: 'post',
    path: '/v1/bench',
    operationId: 'bench',
    summary: 'Start a leave-one-dataset-out bench as a background job',
    json: BenchParams,
    responses: {
      202: { description: 'the job, running; follow it at /v1/jobs/{id}', schema: Job },
      ...errors(400, 401, 413, 429),
    },
  },
  {
    method: 'get',
    path: '/v1/jobs',
    operationId: 'listJobs',
    summary: 'Jobs running and recently finished (without their results)',
    responses: { 200: { description: 'the jobs', schema: z.array(Job) }, ...errors(401) },
  },
  {
    method: 'get',
    path: '/v1/jobs/{id}',
    operationId: 'getJob',
    summary: 'A job: status, progress, and its result once it succeeded',
    params: JobParams,
    responses: { 200: { description: 'the job', schema: Job }, ...errors(401, 404) },
  },
  {
    method: 'delete',
    path: '/v1/jobs/{id}',
    operationId: 'cancelJob',
    summary: 'Cancel a running job',
    params: JobParams,
    responses: { 200: { description: 'the job, cancelled', schema: Job }, ...errors(401, 404) },
  },
  {
    method: 'get',
    path: '/v1/jobs/{id}/events',
    operationId: 'jobEvents',
    summary: "A job's progress as server-sent events",
    description:
      'Events `progress` (the job without its result) on every change, then one `end` (the job with its result); the stream closes after `end`.',
    params: JobParams,
    responses: {
      200: { description: 'the event stream', schema: Job, events: true },
      ...errors(401, 404),
    },
  },
];
