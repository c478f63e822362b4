// The settings of a run that come from the user as text: the per-trial time limit, job
// variables (NAME=value), and the run config file (YAML or JSON) that may hold them all.
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { MetallmixError, parseWith } from '../core/index.ts';
import { readTextFile } from '../core/text-file.ts';
import type { TimeLimit } from './state.ts';

/**
 * `auto` (from the predicted training time), `none`, or a duration: N (minutes, as Slurm's
 * --time), Ns, Nm, Nh, H:MM:SS or D-HH:MM:SS.
 */
export function parseTimeLimit(text: string | number, field = 'time'): TimeLimit {
  const bad = () =>
    new MetallmixError(
      `"${text}" is not a time limit; give auto, none, minutes (30), 90s, 20m, 2h, 1:30:00 or 1-00:00:00`,
      { location: { field } },
    );
  if (typeof text === 'number') {
    if (!(text > 0) || !Number.isFinite(text)) throw bad();
    return { kind: 'fixed', seconds: text * 60 };
  }
  const t = text.trim().toLowerCase();
  if (t === 'auto') return { kind: 'auto' };
  if (t === 'none') return { kind: 'none' };
  let seconds: number | undefined;
  let m: RegExpExecArray | null;
  if ((m = /^(\d+(?:\.\d+)?)$/.exec(t))) seconds = Number(m[1]) * 60;
  else if ((m = /^(\d+(?:\.\d+)?)(s|m|min|h)$/.exec(t)))
    seconds = Number(m[1]) * { s: 1, m: 60, min: 60, h: 3600 }[m[2] as 's' | 'm' | 'min' | 'h'];
  else if ((m = /^(?:(\d+)-)?(\d+):([0-5]\d):([0-5]\d)$/.exec(t)))
    seconds = Number(m[1] ?? 0) * 86400 + Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4]);
  if (seconds === undefined || !(seconds > 0) || !Number.isFinite(seconds)) throw bad();
  return { kind: 'fixed', seconds };
}

const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `NAME=value` pairs (--env), checked; later pairs win. */
export function parseEnvPairs(pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const name = eq < 0 ? pair : pair.slice(0, eq);
    if (eq < 0 || !VARIABLE_NAME.test(name))
      throw new MetallmixError(
        `"${pair}" is not NAME=value with NAME made of letters, digits and _ (not starting with a digit)`,
        { location: { field: 'env' } },
      );
    out[name] = pair.slice(eq + 1);
  }
  return out;
}

export const RunConfigFile = z.strictObject({
  command: z.string().min(1).optional(),
  /** Variables for every trial's job (values may use placeholders such as {trial}). */
  env: z
    .record(z.string().regex(VARIABLE_NAME, 'a variable name'), z.union([z.string(), z.number()]))
    .optional(),
  trials: z.number().int().positive().optional(),
  parallel: z.number().int().positive().optional(),
  executor: z.enum(['local', 'slurm']).optional(),
  time: z.union([z.string(), z.number()]).optional(),
  partition: z.string().min(1).optional(),
  gres: z.string().min(1).optional(),
  sbatchArgs: z.array(z.string()).optional(),
  metric: z.string().min(1).optional(),
  models: z.array(z.string().min(1)).optional(),
});
export type RunConfigFile = z.infer<typeof RunConfigFile>;

/** Reads a run config file (YAML, of which JSON is a part). */
export function loadRunConfig(file: string): RunConfigFile {
  const text = readTextFile(file, 'the run config');
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (err) {
    throw new MetallmixError(`the run config is not valid YAML: ${(err as Error).message}`, {
      location: { file },
      cause: err,
    });
  }
  return parseWith(RunConfigFile, value ?? {}, { file, what: 'run config' });
}
