// The terminal report of a Recommendation (the JSON form is the object itself): a summary read in
// ten seconds (pick, prediction, whether it is told apart from the runners-up, why, the closest
// evidence, what to do next), then tables that fit the terminal. One unit per quantity
// throughout: points for scores (the stored fraction x 100), minutes for training time.
import type {
  Config,
  Contribution,
  EvidenceRef,
  Interval,
  ParamValue,
  Recommendation,
  RecommendedConfig,
} from '../core/index.ts';
import { formatMetricValue, metricScale } from '../recommend/kb-view.ts';
import { elideEnd, fitTable, wrap, type Column } from './layout.ts';
import { maxOf, pushAll } from '../core/arrays.ts';
import { withThousands } from '../core/numbers.ts';

export interface ReportOptions {
  /** Characters per line (see terminalWidth). */
  width: number;
  /** Also the full justification, every evidence text, LLM attempts, the whole front, timings. */
  verbose?: boolean;
  /** The command that takes the user on (an export, a run); printed last. */
  nextStep?: string;
}

/** Left column of the summary. */
const LABEL = 11;
const PARETO_ROWS = 6;

const isPoints = (metric: string) => metricScale(metric) === 100;

function metricText(rec: Recommendation, i: Interval): string {
  const f = (x: number) => formatMetricValue(rec.metric, x);
  return `${f(i.mean)} [${f(i.low)}, ${f(i.high)}]`;
}

const minutes = (sec: number) => (sec / 60).toFixed(sec < 600 ? 1 : 0);

function timeText(i: Interval | undefined): string {
  return i ? `${minutes(i.mean)} [${minutes(i.low)}, ${minutes(i.high)}]` : '-';
}

/** A value as people read it: 1e-4, 2.5e-5, 0.65, 128, 2,400, "none". */
export function formatParamValue(v: ParamValue | null): string {
  if (v === null) return 'missing';
  if (typeof v !== 'number') return String(v);
  if (v !== 0 && Math.abs(v) < 1e-3) return Number(v.toPrecision(2)).toExponential();
  if (Number.isInteger(v)) return Math.abs(v) >= 1e4 ? withThousands(v) : String(v);
  return String(Number(v.toPrecision(3)));
}

const pairs = (config: Config, keys: readonly string[]) =>
  keys.filter((k) => k in config).map((k) => `${k}=${formatParamValue(config[k])}`);

/** Hyperparameters whose value (or presence) differs between the configs, and the others; sorted. */
export function differingKeys(configs: readonly Config[]): { differ: string[]; same: string[] } {
  const keys = [...new Set(configs.flatMap((c) => Object.keys(c)))].sort();
  const differ: string[] = [];
  const same: string[] = [];
  for (const k of keys) {
    const first = JSON.stringify(configs[0][k]);
    (configs.every((c) => JSON.stringify(c[k]) === first) ? same : differ).push(k);
  }
  return { differ, same };
}

/**
 * The runners-up not told apart from the pick: those the recommendation marks statistically tied
 * (the metalearner strategy's validated tie margin), else those whose interval holds the pick's
 * mean.
 */
function tiedRunnersUp(rec: Recommendation): RecommendedConfig[] {
  if (rec.topK.some((c) => c.tied !== undefined)) return rec.topK.slice(1).filter((c) => c.tied);
  const m = rec.pick.predictedMetric.mean;
  return rec.topK.slice(1).filter((c) => c.predictedMetric.low <= m && m <= c.predictedMetric.high);
}

function ranks(configs: readonly RecommendedConfig[]): string {
  const r = configs.map((c) => c.rank);
  const run = r.every((x, i) => i === 0 || x === r[i - 1] + 1);
  return run && r.length > 2 ? `#${r[0]}-#${r[r.length - 1]}` : r.map((x) => `#${x}`).join(', ');
}

function tiedText(rec: Recommendation): string {
  const others = rec.topK.length - 1;
  if (others === 0) return 'no runner-up listed (--top-k)';
  const tied = tiedRunnersUp(rec);
  const mean = formatMetricValue(rec.metric, rec.pick.predictedMetric.mean);
  const ahead = rec.topK.slice(1).filter((c) => !tied.includes(c));
  if (rec.validation) {
    const margin = `${rec.validation.tieMargin.toFixed(2)}${isPoints(rec.metric) ? ' points' : ''}`;
    if (tied.length === 0)
      return `no: every runner-up is predicted more than ${margin} behind (the tie margin measured on this knowledge base)`;
    return `${tied.length === others ? 'yes' : 'partly'}: ${ranks(tied)} ${tied.length === 1 ? 'is' : 'are'} predicted within ${margin} of the top score, the tie margin measured on this knowledge base${ahead.length ? `; ahead of ${ranks(ahead)}` : ''}`;
  }
  if (tied.length === 0)
    return `no: the pick's ${mean} lies outside the 80% interval of every runner-up`;
  return `${tied.length === others ? 'yes' : 'partly'}: ${ranks(tied)} ${tied.length === 1 ? 'is' : 'are'} not told apart from it (the pick's ${mean} lies inside ${tied.length === 1 ? 'its' : 'their'} 80% interval${tied.length === 1 ? '' : 's'})${ahead.length ? `; ahead of ${ranks(ahead)}` : ''}`;
}

function contributionText(rec: Recommendation, c: Contribution): string {
  const unit = isPoints(rec.metric) ? ' points' : '';
  const a = Math.abs(c.shap);
  const amount = a >= 1 ? a.toFixed(1) : String(Number(a.toPrecision(2)));
  return `${c.feature} = ${formatParamValue(c.value)} ${c.shap >= 0 ? 'raises' : 'lowers'} it ${amount}${unit}`;
}

function whyText(rec: Recommendation): string | undefined {
  const top = rec.pick.explanation.slice(0, 2);
  if (top.length === 0) return rec.pick.explanationText || undefined;
  return top.map((c) => contributionText(rec, c)).join('; ');
}

/** One short line for an evidence reference: id, similarity, outcome in the report's units. */
function evidenceLine(rec: Recommendation, e: EvidenceRef, idWidth: number): string {
  const o = e.outcome;
  const f = (x: number) => formatMetricValue(rec.metric, x);
  const sim = e.similarity.toFixed(2);
  let what: string;
  if (o?.best !== undefined)
    what = `best ${f(o.best)} of ${o.runs ?? '?'} runs${o.trainingTimeSec !== undefined ? `, ${minutes(o.trainingTimeSec)} min` : ''}`;
  else if (o?.value !== undefined)
    what = `on ${e.dataset ?? '?'}: ${f(o.value)}${o.rank !== undefined ? ` (rank ${o.rank})` : ''}${o.trainingTimeSec !== undefined ? `, ${minutes(o.trainingTimeSec)} min` : ''}${e.model ? `, ${e.model === rec.pick.model ? 'the same model' : e.model}` : ''}`;
  else what = e.summary;
  return `${`[${e.id}]`.padEnd(idWidth)} ${sim}  ${what}`;
}

function unitsText(rec: Recommendation): string {
  const metric = isPoints(rec.metric)
    ? `${rec.metric} in points (stored fraction x 100)`
    : `${rec.metric} as stored (lower is better)`;
  return `Units: ${metric}; [low, high] = 80% interval; time in minutes.`;
}

/** The summary rows: a label, then text wrapped under a hanging indent. */
function row(lines: string[], label: string, text: string, width: number): void {
  pushAll(lines, wrap(text, width, label.padEnd(LABEL), ' '.repeat(LABEL)));
}

const isPick = (rec: Recommendation, c: RecommendedConfig) =>
  c.model === rec.pick.model && JSON.stringify(c.config) === JSON.stringify(rec.pick.config);

function topTable(rec: Recommendation, width: number): string[] {
  const configs = rec.topK.map((c) => c.config);
  const { differ, same } = differingKeys(configs);
  const metricHeader = rec.metric;
  const front = rec.topK.some((c) => c.onParetoFront);
  const fixed: Column[] = [
    { header: '#', right: true, priority: 9 },
    { header: 'model', shrink: 'middle', min: 16, priority: 4 },
  ];
  const tail: Column[] = [
    { header: metricHeader, priority: 9 },
    { header: 'min', priority: 8 },
    ...(front ? [{ header: 'front', priority: 7 } as Column] : []),
  ];
  const tailCells = (c: RecommendedConfig) => [
    metricText(rec, c.predictedMetric),
    timeText(c.predictedTrainingTimeSec).split(' ')[0],
    ...(front ? [c.onParetoFront ? 'yes' : ''] : []),
  ];
  const inline = fitTable(
    [...fixed, ...differ.map((k) => ({ header: k, priority: 3 })), ...tail],
    rec.topK.map((c) => [
      String(c.rank),
      c.model,
      ...differ.map((k) => (k in c.config ? formatParamValue(c.config[k]) : '-')),
      ...tailCells(c),
    ]),
    width,
  );
  const lines: string[] = [];
  const intro = `Top ${rec.topK.length}${same.length || differ.length ? ' (hyperparameters that differ between rows; - = not set)' : ''}:`;
  pushAll(lines, wrap(intro, width));
  if (inline.split('\n').every((l) => l.length <= width)) {
    lines.push(inline);
  } else {
    // Too many differing hyperparameters for columns: each row's go on lines under it.
    const table = fitTable(
      [...fixed, ...tail],
      rec.topK.map((c) => [String(c.rank), c.model, ...tailCells(c)]),
      width,
    ).split('\n');
    lines.push(table[0], table[1]);
    rec.topK.forEach((c, i) => {
      lines.push(table[i + 2]);
      const text = isPick(rec, c)
        ? '(the configuration of the pick above)'
        : pairs(c.config, differ).join(' ');
      if (text) pushAll(lines, wrap(text, width, '     '));
    });
  }
  if (same.length && rec.topK.length > 1)
    pushAll(lines, wrap(pairs(configs[0], same).join(' '), width, 'Same in every row: ', '   '));
  if (front) lines.push('front: on the Pareto front of the metric against training time.');
  return lines;
}

function paretoTable(rec: Recommendation, width: number, verbose: boolean): string[] {
  const shown = verbose ? rec.paretoFront : rec.paretoFront.slice(0, PARETO_ROWS);
  const { differ } = differingKeys(shown.map((c) => c.config));
  const lines = [`Pareto front (${rec.metric} against training time), fastest first:`];
  const columns: Column[] = [
    { header: 'min', priority: 9 },
    { header: rec.metric, priority: 9 },
    { header: 'model', shrink: 'middle', min: 16, priority: 5 },
  ];
  const cells = (c: RecommendedConfig) => [
    timeText(c.predictedTrainingTimeSec).split(' ')[0],
    formatMetricValue(rec.metric, c.predictedMetric.mean),
    c.model,
  ];
  if (verbose) {
    const table = fitTable(columns, shown.map(cells), width).split('\n');
    lines.push(table[0], table[1]);
    shown.forEach((c, i) => {
      lines.push(table[i + 2]);
      const text = pairs(c.config, differ).join(' ');
      if (text) pushAll(lines, wrap(text, width, '     '));
    });
  } else {
    lines.push(
      fitTable(
        [...columns, { header: 'configuration', shrink: 'end', min: 12, priority: 1 }],
        shown.map((c) => [...cells(c), pairs(c.config, differ).join(' ') || '(defaults)']),
        width,
      ),
    );
    if (rec.paretoFront.length > shown.length)
      lines.push(`... ${rec.paretoFront.length - shown.length} more on the front (--verbose).`);
  }
  return lines;
}

export function renderRecommendation(rec: Recommendation, options: ReportOptions): string {
  const { width, verbose = false } = options;
  const lines: string[] = [];
  const p = rec.pick;
  const pr = rec.profile;
  const kb = rec.knowledgeBase;
  pushAll(
    lines,
    wrap(
      `${rec.dataset}: ${withThousands(pr.numInstances)} images, ${pr.numClasses} classes, ${pr.modality}. Knowledge base ${kb.label} (${withThousands(kb.records)} runs, ${kb.datasets} datasets); strategy ${rec.strategy}${rec.fellBack ? ` (fell back: answered by ${rec.answeredBy}${rec.fallbackReason ? `, ${rec.fallbackReason}` : ''})` : ''}, objective ${rec.objective}.`,
      width,
    ),
  );
  pushAll(lines, wrap(unitsText(rec), width));
  lines.push('');

  row(lines, 'Pick', p.model, width);
  const cont = rec.continuation;
  if (cont)
    row(
      lines,
      'Continues',
      `${cont.observedTrials} trial${cont.observedTrials === 1 ? '' : 's'} already run on this dataset (${cont.sources.join('; ')}); best so far ${formatMetricValue(rec.metric, cont.best.value)}, ${cont.best.model} ${pairs(cont.best.config, Object.keys(cont.best.config).sort()).join(' ')}. The pick is the next trial, not yet run.`,
      width,
    );
  const time = p.predictedTrainingTimeSec
    ? `; training ${timeText(p.predictedTrainingTimeSec)} min`
    : '';
  row(lines, 'Predicted', `${rec.metric} ${metricText(rec, p.predictedMetric)}${time}`, width);
  row(lines, 'Tied?', tiedText(rec), width);
  // A continuation's pick is decided by the observations, not by the prior's SHAP contributions.
  const why = cont ? cont.reason : whyText(rec);
  if (why) row(lines, 'Why', why, width);
  if (p.extrapolated.length)
    row(lines, 'Caution', `outside the observed ranges: ${p.extrapolated.join(', ')}`, width);
  const evidence = [...p.evidence].sort((a, b) => b.similarity - a.similarity);
  const idWidth = Math.max(0, maxOf(evidence.map((e) => e.id.length + 2)));
  evidence.forEach((e, i) =>
    lines.push(
      elideEnd(
        `${(i === 0 ? 'Evidence' : '').padEnd(LABEL)}${evidenceLine(rec, e, idWidth)}`,
        width,
      ),
    ),
  );
  const config = pairs(p.config, Object.keys(p.config).sort()).join(' ');
  row(lines, 'Config', config || '(no hyperparameters)', width);
  if (rec.budgetMinutes !== undefined)
    row(
      lines,
      'Budget',
      rec.budgetPick
        ? `within ${rec.budgetMinutes} min: #${rec.budgetPick.rank} ${rec.budgetPick.model} ${pairs(rec.budgetPick.config, differingKeys([p.config, rec.budgetPick.config]).differ).join(' ')} (${metricText(rec, rec.budgetPick.predictedMetric)}, ${timeText(rec.budgetPick.predictedTrainingTimeSec)} min)`
        : `no candidate is predicted to train within ${rec.budgetMinutes} min`,
      width,
    );
  if (rec.llmAnswer || rec.attempts.length) {
    const accepted = rec.attempts.findIndex((a) => a.accepted);
    row(
      lines,
      'LLM',
      `${rec.attempts.length} attempt${rec.attempts.length === 1 ? '' : 's'}, ${accepted >= 0 ? `accepted on attempt ${accepted + 1}` : 'none accepted'}${rec.llmAnswer ? `; claimed ${formatMetricValue(rec.metric, rec.llmAnswer.expectedMetric)}, ${minutes(rec.llmAnswer.expectedTrainingTimeSec)} min, confidence ${rec.llmAnswer.confidence}` : ''}`,
      width,
    );
  }

  lines.push('');
  pushAll(lines, topTable(rec, width));
  if (rec.paretoFront.length) {
    lines.push('');
    pushAll(lines, paretoTable(rec, width, verbose));
  }
  if (rec.notices.length) {
    lines.push('');
    lines.push('Notices:');
    for (const n of rec.notices) pushAll(lines, wrap(n, width, '- '));
  }
  if (verbose) {
    lines.push('');
    lines.push('Justification:');
    for (const paragraph of rec.justification.split('\n'))
      pushAll(lines, wrap(paragraph, width, '  '));
    const all = rec.topK.flatMap((c) => c.evidence);
    const seen = new Set<string>();
    lines.push('');
    lines.push('Evidence texts (figures as stored: fractions for scores):');
    for (const e of all) {
      if (seen.has(e.id)) continue;
      seen.add(e.id);
      pushAll(lines, wrap(`[${e.id}] ${e.summary}`, width, '  ', '    '));
    }
    for (const a of rec.attempts)
      pushAll(
        lines,
        wrap(
          `attempt ${a.attempt}: ${a.accepted ? 'accepted' : 'rejected'}${a.judge ? ` (judge format ${a.judge.format}, accuracy ${a.judge.accuracy}, completeness ${a.judge.completeness} of 5)` : ''}${a.ruleViolations.length ? `; ${a.ruleViolations.join('; ')}` : ''}${a.judgeError ? `; judge: ${a.judgeError}` : ''}`,
          width,
          '  ',
        ),
      );
    lines.push('');
    pushAll(
      lines,
      wrap(
        `Knowledge base version ${kb.version}. Timings (ms): ${Object.entries(rec.timingsMs)
          .map(([k, v]) => `${k} ${v.toFixed(0)}`)
          .join(', ')}. LLM calls ${rec.counters.llmCalls}, tokens ${rec.counters.llmTokens}.`,
        width,
      ),
    );
  }
  lines.push('');
  // Not wrapped: a command must copy and paste as one line.
  if (options.nextStep)
    lines.push(
      `Next: ${options.nextStep}`.length <= width
        ? `Next: ${options.nextStep}`
        : `Next:\n${options.nextStep}`,
    );
  if (!verbose)
    pushAll(
      lines,
      wrap(
        '--verbose: the full justification, evidence texts, LLM attempts and timings; --json: everything.',
        width,
      ),
    );
  return lines.join('\n');
}
