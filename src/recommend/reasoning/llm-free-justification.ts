// The justification of the metalearner strategy when no LLM is configured: written from the
// pick's SHAP explanation and the retrieved evidence, deterministic, and citing ids in the same
// [id] form the LLM strategies use, so the judge's citation rules hold for it too.
import type { Contribution, Interval, RecommendedConfig } from '../../core/index.ts';
import { candidateId, formatConfig, formatNumber } from '../../judge/index.ts';
import { formatMetricValue, metricScale } from '../kb-view.ts';
import type { EvidenceItem, ReasoningContext } from './reasoning-context.ts';

/** The one-line notice for a recommendation made without any LLM. */
export const NO_LLM_NOTICE =
  "No LLM was used: the justification is written from the meta-learner's SHAP explanation and the retrieved evidence.";

const MAX_CONTRIBUTIONS = 3;
const MAX_EVIDENCE = 3;
const MAX_INSIGHTS = 2;

// Figures in the units of the terminal report: points for scores (SHAP values already are),
// minutes for training time, so the justification never shows 0.8593 beside a table's 85.9.
const points = (metric: string) => (metricScale(metric) === 100 ? ' points' : '');
const minutes = (sec: number) => (sec / 60).toFixed(sec < 600 ? 1 : 0);

function metricInterval(metric: string, i: Interval): string {
  const f = (x: number) => formatMetricValue(metric, x);
  return `${f(i.mean)}${points(metric)} (80% interval ${f(i.low)} to ${f(i.high)})`;
}

function describeContribution(metric: string, c: Contribution): string {
  // A missing value is a parameter the candidate's source does not set.
  const what =
    c.value === null
      ? `${c.feature} not set`
      : `${c.feature} = ${typeof c.value === 'number' ? formatNumber(c.value) : c.value}`;
  const direction = c.shap >= 0 ? 'raises' : 'lowers';
  const a = Math.abs(c.shap);
  const amount = a >= 1 ? a.toFixed(1) : formatNumber(Number(a.toPrecision(2)));
  return `${what} ${direction} the predicted ${metric} by ${amount}${points(metric)}`;
}

/** An evidence id with its similarity and, when known, its outcome in points. */
function describeEvidence(metric: string, e: EvidenceItem): string {
  const facts = [`similarity ${formatNumber(Number(e.similarity.toFixed(2)))}`];
  const o = e.outcome;
  const f = (x: number) => formatMetricValue(metric, x);
  if (o?.best !== undefined && o.runs !== undefined)
    facts.push(`best ${f(o.best)}${points(metric)} over ${o.runs} runs`);
  else if (o?.value !== undefined)
    facts.push(
      `${e.model ? `${e.model} ` : ''}${f(o.value)}${points(metric)}${o.rank !== undefined ? `, rank ${o.rank}` : ''}`,
    );
  return `[${e.id}] (${facts.join(', ')})`;
}

/** The pick's own evidence first (most similar first), then the context's, without repeats. */
function supportingEvidence(context: ReasoningContext, pick: RecommendedConfig): EvidenceItem[] {
  const byId = new Map(context.evidence.map((e) => [e.id, e]));
  const ordered = [
    ...[...pick.evidence].sort((a, b) => b.similarity - a.similarity),
    ...[...context.evidence].sort((a, b) => b.similarity - a.similarity),
  ];
  const seen = new Set<string>();
  const out: EvidenceItem[] = [];
  for (const e of ordered) {
    if (seen.has(e.id) || e.kind === 'insight') continue;
    seen.add(e.id);
    out.push(byId.get(e.id) ?? { ...e, text: e.summary });
    if (out.length === MAX_EVIDENCE) break;
  }
  return out;
}

/** Insights that speak about the pick's deciding features, else the first ones. */
function relevantInsights(
  context: ReasoningContext,
  features: string[],
): { id: string; text: string }[] {
  const about = context.insights.filter((i) => features.some((f) => i.text.includes(f)));
  return (about.length ? about : context.insights).slice(0, MAX_INSIGHTS);
}

/** A paragraph explaining the meta-learner's pick, citing evidence and insight ids in brackets. */
export function writeJustification(context: ReasoningContext, pick: RecommendedConfig): string {
  const sentences: string[] = [];
  const t = pick.predictedTrainingTimeSec;
  const time = t
    ? ` and a training time of ${minutes(t.mean)} min (${minutes(t.low)} to ${minutes(t.high)})`
    : '';
  sentences.push(
    `The meta-learner recommends ${pick.model} with ${formatConfig(pick.config)} for ${context.profile.name} [${candidateId(pick)}], predicting ${context.metric} ${metricInterval(context.metric, pick.predictedMetric)}${time}.`,
  );
  if (pick.onParetoFront)
    sentences.push('No other candidate is both more accurate and faster (Pareto front).');
  if (pick.extrapolated.length)
    sentences.push(
      `${pick.extrapolated.join(', ')} ${pick.extrapolated.length === 1 ? 'lies' : 'lie'} outside the range observed in the knowledge base, so that part of the prediction is an extrapolation.`,
    );
  const contributions = [...pick.explanation]
    .sort((a, b) => Math.abs(b.shap) - Math.abs(a.shap))
    .slice(0, MAX_CONTRIBUTIONS);
  if (contributions.length)
    sentences.push(
      `Its prediction rests mainly on: ${contributions.map((c) => describeContribution(context.metric, c)).join('; ')}.`,
    );
  else if (pick.explanationText) sentences.push(pick.explanationText);
  // Ids and outcomes only: the evidence texts are listed beside the justification already.
  const evidence = supportingEvidence(context, pick);
  if (evidence.length)
    sentences.push(
      `Closest past evidence: ${evidence.map((e) => describeEvidence(context.metric, e)).join('; ')}.`,
    );
  const insights = relevantInsights(
    context,
    contributions.map((c) => c.feature),
  );
  if (insights.length)
    sentences.push(
      `Insights of the meta-learner: ${insights.map((i) => `[${i.id}] ${i.text.replace(/\.$/, '')}`).join('; ')}.`,
    );
  return sentences.join(' ');
}
