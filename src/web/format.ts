// How the page shows the numbers of a Recommendation: metrics on the knowledge base's 0-1 scale
// as percentage points (losses as logged), times in minutes.
import type { Config, RecommendedConfig } from '../index.ts';

export const lowerIsBetter = (metric: string) => /loss|error|time/i.test(metric);

/** Display scale: 100 for a 0-1 score, 1 for a loss. */
export const scaleOf = (metric: string) => (lowerIsBetter(metric) ? 1 : 100);

export function metricText(metric: string, v: number): string {
  return lowerIsBetter(metric) ? v.toFixed(3) : `${(v * 100).toFixed(1)}%`;
}

export function intervalText(metric: string, c: RecommendedConfig): string {
  const i = c.predictedMetric;
  return `${metricText(metric, i.mean)} (80%: ${metricText(metric, i.low)} to ${metricText(metric, i.high)})`;
}

export function minutes(sec: number | undefined | null): string {
  return sec === undefined || sec === null ? '-' : `${(sec / 60).toFixed(1)} min`;
}

export function configText(config: Config): string {
  const entries = Object.entries(config);
  return entries.length ? entries.map(([k, v]) => `${k}=${String(v)}`).join(', ') : '(defaults)';
}

export const number = (x: number | null | undefined, digits = 2) =>
  x === null || x === undefined || Number.isNaN(x) ? '-' : x.toFixed(digits);

/**
 * Candidates not told apart from the pick: those the recommendation marks `tied` (the
 * metalearner strategy's validated tie margin, the rule its balanced objective uses), else those
 * whose 80% interval reaches the pick's predicted mean.
 */
export function tiedWithPick(metric: string, pick: RecommendedConfig, c: RecommendedConfig) {
  if (c.rank === pick.rank) return false;
  if (c.tied !== undefined) return c.tied;
  return lowerIsBetter(metric)
    ? c.predictedMetric.low <= pick.predictedMetric.mean
    : c.predictedMetric.high >= pick.predictedMetric.mean;
}
