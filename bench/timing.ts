// Timing helpers of the benchmarks that spawn whole processes: wall time from spawn to exit,
// the child's CPU time and peak RSS through GNU time when /usr/bin/time exists, and medians
// with their spread.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { maxOf, minOf } from '../src/core/index.ts';

const TIME = '/usr/bin/time';
export const hasTime = existsSync(TIME);
export const timeSource = hasTime ? TIME : '(no /usr/bin/time: wall times only)';

export interface Sample {
  wallMs: number;
  cpuMs?: number;
  rssMb?: number;
  out: string;
}

/** Spawns `node ...argv`; fails with the child's stderr when it exits non-zero. */
export function spawnTimed(argv: string[], env: NodeJS.ProcessEnv = process.env): Sample {
  const cmd = hasTime ? TIME : process.execPath;
  const full = hasTime ? ['-f', '@@time %U %S %M', process.execPath, ...argv] : argv;
  const t0 = performance.now();
  const r = spawnSync(cmd, full, { env, encoding: 'utf8', maxBuffer: 1 << 28 });
  const wallMs = performance.now() - t0;
  if (r.status !== 0)
    throw new Error(`node ${argv.join(' ')} exited ${r.status}: ${r.stderr.slice(-2000)}`);
  const m = /@@time ([\d.]+) ([\d.]+) (\d+)/.exec(r.stderr);
  return {
    wallMs,
    ...(m ? { cpuMs: 1000 * (Number(m[1]) + Number(m[2])), rssMb: Number(m[3]) / 1024 } : {}),
    out: r.stdout,
  };
}

export function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  return s[lo] + (s[Math.min(lo + 1, s.length - 1)] - s[lo]) * (pos - lo);
}

/** `p50 123 ms (p10-p90 110-140, min-max 100-170, n=15)` */
export function describe(xs: readonly number[], unit = 'ms'): string {
  if (xs.length === 0) return 'n/a';
  const f = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
  return `p50 ${f(quantile(xs, 0.5))} ${unit} (p10-p90 ${f(quantile(xs, 0.1))}-${f(quantile(xs, 0.9))}, min-max ${f(minOf(xs))}-${f(maxOf(xs))}, n=${xs.length})`;
}

export const wall = (s: readonly Sample[]) => s.map((x) => x.wallMs);
export const cpu = (s: readonly Sample[]) =>
  s.flatMap((x) => (x.cpuMs === undefined ? [] : [x.cpuMs]));
export const rss = (s: readonly Sample[]) =>
  s.flatMap((x) => (x.rssMb === undefined ? [] : [x.rssMb]));
export const load = () =>
  loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');
