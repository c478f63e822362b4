// Insights as short English sentences for the LLM prompt and the report, each keeping the
// insight's id so that a statement can cite it.

import type { EffectCondition, Insight, ValueRange } from './insights.ts';
import { withThousands } from '../core/numbers.ts';

export interface SentenceOptions {
  /** Unit of the scaled magnitude, e.g. "accuracy points". */
  metricName: string;
  /** Multiplies margin-unit magnitudes, e.g. 100 for accuracy in [0, 1] shown as points. */
  scale?: number;
  /** What a row is, e.g. "runs" (the default). */
  rowNoun?: string;
}

export interface InsightSentence {
  id: string;
  text: string;
}

/** A readable number: 1e-4, 3.2e-4, 0.25, 12.5, 4,870, 2.5e+6. */
export function formatValue(x: number): string {
  if (x === 0 || !Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a < 1e-3 || a >= 1e6) return Number(x.toPrecision(2)).toExponential();
  if (a >= 1000) return withThousands(Number(x.toPrecision(3)));
  return String(Number(x.toPrecision(3)));
}

/** Two significant digits, at most one decimal above 10: 2.1, 0.035, 12.3. */
function formatAmount(x: number): string {
  const a = Math.abs(x);
  return a >= 10 ? String(Math.round(a * 10) / 10) : String(Number(a.toPrecision(2)));
}

function rangeText(range: ValueRange): string {
  switch (range.kind) {
    case 'interval':
      return formatValue(range.low) === formatValue(range.high)
        ? `at ${formatValue(range.low)}`
        : `from ${formatValue(range.low)} to ${formatValue(range.high)}`;
    case 'categories':
      return `= ${range.categories.join(' or ')}`;
    case 'missing':
      return 'unset';
  }
}

function conditionText(c: EffectCondition): string {
  if (c.categories) return `for ${c.feature} = ${c.categories.join(' or ')}`;
  if (c.low !== undefined && c.high !== undefined)
    return `for ${c.feature} from ${formatValue(c.low)} to under ${formatValue(c.high)}`;
  if (c.high !== undefined) return `for ${c.feature} under ${formatValue(c.high)}`;
  if (c.low !== undefined) return `for ${c.feature} of ${formatValue(c.low)} or more`;
  return `for any ${c.feature}`;
}

function sentenceOf(i: Insight, options: SentenceOptions): string {
  const amount = formatAmount(i.magnitude * (options.scale ?? 1));
  const unit = options.metricName;
  const support = `n=${i.support} ${options.rowNoun ?? 'runs'}`;
  switch (i.kind) {
    case 'importance':
      return `${i.features[0]} moves the prediction by about ${amount} ${unit} on average (importance rank ${i.rank}, ${support})`;
    case 'interaction':
      return `${i.features[0]} and ${i.features[1]} interact: together they move the prediction by about ${amount} ${unit} beyond their separate effects, on average (${support})`;
    case 'effect': {
      const change = i.magnitude > 0 ? `adds about +${amount}` : `costs about ${amount}`;
      const given = i.condition ? ` ${conditionText(i.condition)}` : '';
      return `${i.features[0]} ${rangeText(i.range!)} ${change} ${unit}${given} (${support})`;
    }
  }
}

/**
 * One sentence per insight, e.g. "lr from 1e-4 to 3e-4 adds about +2.1 accuracy points
 * (n=120 runs)". Insights of zero magnitude say nothing and are left out.
 */
export function insightSentences(insights: Insight[], options: SentenceOptions): InsightSentence[] {
  return insights
    .filter((i) => i.magnitude !== 0)
    .map((i) => ({ id: i.id, text: sentenceOf(i, options) }));
}
