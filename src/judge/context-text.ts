// Compact, readable text for each part of a request, shared by the recommender's and the judge's
// prompts. Small local models read short lines best, so every item is one line.
import type { Config, Hyperparameter, Interval, RecommendedConfig } from '../core/index.ts';
import { candidateId, type JudgeContext, type Prediction } from './context.ts';

/** A number with at most 4 significant digits, without trailing zeros (JavaScript's own notation). */
export function formatNumber(n: number): string {
  return Number.isFinite(n) ? String(Number(n.toPrecision(4))) : String(n);
}

export function formatInterval(i: Interval): string {
  return `${formatNumber(i.mean)} [${formatNumber(i.low)}, ${formatNumber(i.high)}]`;
}

export function formatConfig(config: Config): string {
  return Object.entries(config)
    .map(([k, v]) => `${k}=${typeof v === 'number' ? formatNumber(v) : JSON.stringify(v)}`)
    .join(', ');
}

export function renderProfile(ctx: JudgeContext): string {
  const p = ctx.profile;
  const lines = [
    `- name: ${p.name}`,
    `- task: ${p.task}`,
    `- modality: ${p.modality}`,
    `- instances: ${p.numInstances}`,
    `- classes: ${p.numClasses}`,
  ];
  if (p.imbalanceRatio !== undefined)
    lines.push(`- imbalance ratio (largest/smallest class): ${formatNumber(p.imbalanceRatio)}`);
  if (p.normalizedEntropy !== undefined)
    lines.push(`- normalized class entropy: ${formatNumber(p.normalizedEntropy)}`);
  if (p.classSizeMin !== undefined && p.classSizeMax !== undefined)
    lines.push(`- class sizes: ${p.classSizeMin} to ${p.classSizeMax}`);
  if (p.resolution)
    lines.push(
      `- median resolution: ${p.resolution.medianWidth}x${p.resolution.medianHeight} pixels`,
    );
  if (p.channels !== undefined) lines.push(`- channels: ${p.channels}`);
  return lines.join('\n');
}

export function renderBudget(ctx: JudgeContext): string {
  return ctx.budgetMinutes !== undefined ? `${formatNumber(ctx.budgetMinutes)} minutes` : 'none';
}

export function renderModels(ctx: JudgeContext): string {
  return ctx.models
    .map((m) => {
      const facts: string[] = [m.architecture];
      if (m.params !== undefined) facts.push(`${formatNumber(m.params / 1e6)}M parameters`);
      if (m.pretrainingData) facts.push(`pretrained on ${m.pretrainingData}`);
      if (m.inputResolution !== undefined) facts.push(`input ${m.inputResolution}px`);
      return `- ${m.id} (${facts.join(', ')})`;
    })
    .join('\n');
}

function describeParameter(p: Hyperparameter): string {
  switch (p.type) {
    case 'float':
    case 'int':
      return `${p.type === 'int' ? 'integer' : 'number'} from ${formatNumber(p.low)} to ${formatNumber(p.high)}${p.log ? ' (log scale)' : ''}`;
    case 'categorical':
      return `one of ${p.choices.map((c) => JSON.stringify(c)).join(', ')}`;
    case 'bool':
      return 'true or false';
  }
}

export function renderSpace(ctx: JudgeContext): string {
  return ctx.space.parameters
    .map((p) => {
      const when = p.condition
        ? ` (only when ${p.condition.parent} is ${p.condition.values.map((v) => JSON.stringify(v)).join(' or ')})`
        : '';
      const what = p.description ? `; ${p.description}` : '';
      return `- ${p.name}: ${describeParameter(p)}${when}${what}`;
    })
    .join('\n');
}

export function renderEvidence(ctx: JudgeContext): string {
  if (ctx.evidence.length === 0) return '(no past experiments retrieved)';
  return ctx.evidence
    .map((e) => `- [${e.id}] (${e.kind}, similarity ${formatNumber(e.similarity)}) ${e.text}`)
    .join('\n');
}

export function renderInsights(ctx: JudgeContext): string {
  if (ctx.insights.length === 0) return '(no insights)';
  return ctx.insights.map((i) => `- [${i.id}] ${i.text}`).join('\n');
}

export function renderPrediction(metric: string, p: Prediction): string {
  const parts = [`${metric} ${formatInterval(p.metric)}`];
  if (p.trainingTimeSec) parts.push(`training time ${formatInterval(p.trainingTimeSec)} s`);
  return parts.join('; ');
}

function renderCandidate(metric: string, c: RecommendedConfig): string {
  const prediction = renderPrediction(metric, {
    metric: c.predictedMetric,
    trainingTimeSec: c.predictedTrainingTimeSec,
  });
  const parts = [`- [${candidateId(c)}] ${c.model} with ${formatConfig(c.config)}: ${prediction}`];
  if (c.onParetoFront) parts.push('on the Pareto front of metric and time');
  if (c.extrapolated.length) parts.push(`outside observed ranges: ${c.extrapolated.join(', ')}`);
  if (c.explanationText) parts.push(`why: ${c.explanationText.replace(/\.$/, '')}`);
  if (c.evidence.length) parts.push(`evidence: ${c.evidence.map((e) => e.id).join(', ')}`);
  return parts.join('; ');
}

export function renderShortlist(ctx: JudgeContext): string {
  if (ctx.shortlist.length === 0) return '(no candidates)';
  return ctx.shortlist.map((c) => renderCandidate(ctx.metric, c)).join('\n');
}

/** The placeholders every template can use, rendered from the context. */
export function contextValues(ctx: JudgeContext): Record<string, string> {
  return {
    profile: renderProfile(ctx),
    metric: ctx.metric,
    objective: ctx.objective,
    budget: renderBudget(ctx),
    models: renderModels(ctx),
    space: renderSpace(ctx),
    evidence: renderEvidence(ctx),
    insights: renderInsights(ctx),
    shortlist: renderShortlist(ctx),
    citeExample: citeExample(ctx),
  };
}

/** Real ids of this context in the form a citation takes, one of each kind, as the prompts' example. */
function citeExample(ctx: JudgeContext): string {
  const ids = [
    ctx.evidence.find((e) => e.kind === 'dataset')?.id,
    ctx.evidence.find((e) => e.kind === 'run')?.id,
    ctx.insights[0]?.id,
  ].filter((id): id is string => id !== undefined);
  if (ids.length === 0) return '[dataset:NAME]';
  const shown = ids.map((id) => `[${id}]`);
  return shown.length === 1 ? shown[0] : `${shown.slice(0, -1).join(', ')} or ${shown.at(-1)}`;
}
