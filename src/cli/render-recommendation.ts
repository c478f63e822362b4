// The readable terminal report of a Recommendation (the JSON form is the object itself).
import type { Recommendation, RecommendedConfig } from '../core/index.ts';
import { table } from './output.ts';
import { formatMetricValue } from '../recommend/kb-view.ts';

/** Evidence summaries are cut here in the terminal report; --json has them whole. */
const EVIDENCE_CHARS = 240;
const clip = (text: string, n: number) => (text.length > n ? `${text.slice(0, n - 1)}…` : text);
const mins = (s: number) => (s / 60 < 10 ? (s / 60).toFixed(1) : (s / 60).toFixed(0));

function metricCell(rec: Recommendation, c: RecommendedConfig): string {
  const m = c.predictedMetric;
  const scaled = (x: number) => formatMetricValue(rec.metric, x);
  return `${scaled(m.mean)} [${scaled(m.low)}, ${scaled(m.high)}]`;
}

function timeCell(c: RecommendedConfig): string {
  const t = c.predictedTrainingTimeSec;
  return t ? `${mins(t.mean)} [${mins(t.low)}, ${mins(t.high)}]` : '-';
}

function configText(c: RecommendedConfig): string {
  const parts = Object.entries(c.config).map(
    ([k, v]) => `${k}=${typeof v === 'number' && !Number.isInteger(v) ? v.toPrecision(3) : v}`,
  );
  return parts.length ? parts.join(' ') : '(defaults)';
}

export function renderRecommendation(rec: Recommendation): string {
  const lines: string[] = [];
  const p = rec.pick;
  lines.push(
    `Recommendation for ${rec.dataset} (${rec.profile.numInstances} images, ${rec.profile.numClasses} classes, ${rec.profile.modality}) — strategy ${rec.strategy}${rec.fellBack ? ` (answered by ${rec.answeredBy})` : ''}, objective ${rec.objective}`,
  );
  lines.push('');
  lines.push(`Pick: ${p.model}  ${configText(p)}`);
  lines.push(
    `  predicted ${rec.metric}: ${metricCell(rec, p)}   training time (min): ${timeCell(p)}`,
  );
  if (p.explanationText) lines.push(`  why: ${p.explanationText}`);
  if (p.extrapolated.length)
    lines.push(
      `  note: outside the ranges seen in the knowledge base: ${p.extrapolated.join(', ')}`,
    );
  if (p.evidence.length) {
    lines.push('  evidence:');
    for (const e of p.evidence.slice(0, 5))
      lines.push(
        `    [${e.id}] (similarity ${e.similarity.toFixed(2)}) ${clip(e.summary, EVIDENCE_CHARS)}`,
      );
  }
  lines.push('');
  lines.push(`Top ${rec.topK.length}:`);
  lines.push(
    table(
      ['#', 'model', 'config', `${rec.metric} (80% interval)`, 'minutes', 'pareto'],
      rec.topK.map((c) => [
        c.rank,
        c.model,
        configText(c),
        metricCell(rec, c),
        timeCell(c),
        c.onParetoFront ? 'yes' : '',
      ]),
    ),
  );
  if (rec.paretoFront.length) {
    lines.push('');
    lines.push(`Pareto front (${rec.metric} vs training time), fastest first:`);
    for (const c of rec.paretoFront.slice(0, 8))
      lines.push(
        `  ${timeCell(c).split(' ')[0]} min  ${metricCell(rec, c).split(' ')[0]}  ${c.model} ${configText(c)}`,
      );
  }
  if (rec.budgetMinutes !== undefined) {
    lines.push('');
    lines.push(
      rec.budgetPick
        ? `Within ${rec.budgetMinutes} min: ${rec.budgetPick.model} ${configText(rec.budgetPick)} (${metricCell(rec, rec.budgetPick)}, ${timeCell(rec.budgetPick)} min)`
        : `Within ${rec.budgetMinutes} min: no candidate`,
    );
  }
  lines.push('');
  lines.push(`Justification: ${rec.justification}`);
  for (const a of rec.attempts) {
    lines.push(
      `  attempt ${a.attempt}: ${a.accepted ? 'accepted' : 'rejected'}${a.judge ? ` (judge format ${a.judge.format}, accuracy ${a.judge.accuracy}, completeness ${a.judge.completeness})` : ''}${a.ruleViolations.length ? `; ${a.ruleViolations.slice(0, 3).join('; ')}` : ''}`,
    );
  }
  for (const n of rec.notices) lines.push(`Notice: ${n}`);
  lines.push('');
  lines.push(
    `Knowledge base ${rec.knowledgeBase.label}: ${rec.knowledgeBase.records} runs on ${rec.knowledgeBase.datasets} datasets (version ${rec.knowledgeBase.version.slice(0, 12)}). Timings (ms): ${Object.entries(
      rec.timingsMs,
    )
      .map(([k, v]) => `${k} ${v.toFixed(0)}`)
      .join(', ')}`,
  );
  return lines.join('\n');
}
