// What a trial reports: one line `METALLMIX_RESULT {"accuracy": 0.91, "training_time_sec": 812}`
// on stdout, or the same JSON written to the file named by $METALLMIX_RESULT_FILE (which wins
// when both exist). Metric names are the knowledge base's; metrics other than losses, errors and
// times are fractions in [0, 1], as in every record.
import { existsSync, openSync, readSync, closeSync, fstatSync } from 'node:fs';
import { isLowerBetter, type Cost, type Metrics } from '../core/index.ts';
import { MAX_JSON_DEPTH, jsonNestsDeeper } from '../core/json-text.ts';

export const RESULT_PREFIX = 'METALLMIX_RESULT';
export const RESULT_FILE_VARIABLE = 'METALLMIX_RESULT_FILE';

/** Result keys that are the cost of the trial rather than metrics. */
const COST_KEYS: Record<string, keyof Pick<Cost, 'trainingTimeSec' | 'epochs'>> = {
  training_time_sec: 'trainingTimeSec',
  trainingTimeSec: 'trainingTimeSec',
  epochs: 'epochs',
};

export interface TrialResult {
  metrics: Metrics;
  cost: Pick<Cost, 'trainingTimeSec' | 'epochs'>;
  from: 'file' | 'stdout';
}

export type ResultReading = { result: TrialResult } | { problem: string };

/** The JSON of the last METALLMIX_RESULT line of `stdout`, if any. */
export function lastResultLine(stdout: string): string | undefined {
  const lines = stdout.split(/\r?\n/);
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!.trim();
    if (line.startsWith(`${RESULT_PREFIX} `) || line === RESULT_PREFIX)
      return line.slice(RESULT_PREFIX.length).trim();
  }
  return undefined;
}

/** Python's json.dumps writes NaN and Infinity, which JSON does not have: they become null. */
function parseLenientJson(text: string): unknown {
  return JSON.parse(text.replace(/(?<=[:\[,]\s*)(-?Infinity|NaN)(?=\s*[,}\]])/g, 'null'));
}

const excerpt = (text: string) => (text.length > 60 ? `${text.slice(0, 60)}...` : text);

/** Checks one result object against the run's metric; `where` names its origin in messages. */
export function parseResult(
  text: string,
  metric: string,
  from: TrialResult['from'],
): ResultReading {
  const where = from === 'file' ? 'the result file' : `the ${RESULT_PREFIX} line`;
  // A value is quoted in the problem (JSON.stringify recurses): bound the nesting first.
  if (jsonNestsDeeper(text))
    return { problem: `${where} nests deeper than ${MAX_JSON_DEPTH} levels` };
  let value: unknown;
  try {
    value = parseLenientJson(text);
  } catch (err) {
    return { problem: `${where} is not valid JSON: ${(err as Error).message}` };
  }
  if (!value || typeof value !== 'object' || Array.isArray(value))
    return { problem: `${where} must hold one JSON object, like {"${metric}": 0.91}` };
  const metrics: Metrics = {};
  const cost: TrialResult['cost'] = {};
  for (const [key, v] of Object.entries(value)) {
    // A diverged run reports NaN: the metric is absent, as an import treats it.
    if (v === null) continue;
    if (typeof v !== 'number' || !Number.isFinite(v))
      return { problem: `${where}: "${key}" must be a number, got ${excerpt(JSON.stringify(v))}` };
    const costKey = COST_KEYS[key];
    if (costKey) {
      if (v < 0) return { problem: `${where}: "${key}" must be >= 0, got ${v}` };
      cost[costKey] = v;
      continue;
    }
    if (!isLowerBetter(key) && (v < 0 || v > 1))
      return {
        problem: `${where}: ${key} = ${v} is outside [0, 1]${v > 1 && v <= 100 ? ' (it looks like a percentage: report a fraction, 0.91 rather than 91)' : ''}`,
      };
    metrics[key] = v;
  }
  if (metrics[metric] === undefined)
    return {
      problem: `${where} has no "${metric}", the metric of this run${Object.keys(metrics).length ? `; it has ${Object.keys(metrics).join(', ')}` : ''}`,
    };
  return { result: { metrics, cost, from } };
}

/** The last `maxBytes` of a file as text ('' when it does not exist). */
export function tailOf(file: string, maxBytes: number): string {
  if (!existsSync(file)) return '';
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, maxBytes);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    return buffer.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** The last `lines` lines of a text, trimmed of trailing blank lines. */
export function lastLines(text: string, lines: number): string {
  return text.replace(/\s+$/, '').split(/\r?\n/).slice(-lines).join('\n');
}

/** Only this much of a trial's stdout is searched for its result line. */
const STDOUT_TAIL_BYTES = 4 << 20;

/** The result of an ended trial: its result file if it wrote one, else its last result line. */
export function readTrialResult(
  files: { resultFile: string; stdoutFile: string },
  metric: string,
): ResultReading {
  if (existsSync(files.resultFile)) {
    const text = tailOf(files.resultFile, STDOUT_TAIL_BYTES).trim();
    if (text !== '') return parseResult(text, metric, 'file');
  }
  const line = lastResultLine(tailOf(files.stdoutFile, STDOUT_TAIL_BYTES));
  if (line === undefined)
    return {
      problem: `the trial exited 0 but printed no "${RESULT_PREFIX} {...}" line on stdout and wrote no result file ($${RESULT_FILE_VARIABLE})`,
    };
  return parseResult(line, metric, 'stdout');
}
