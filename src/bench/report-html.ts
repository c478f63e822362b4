// A self-contained HTML page of a benchmark report: what was run (knowledge base, version,
// command, date), the summary table, regret per held-out dataset as a colour-scaled table that
// stays readable with any number of datasets, regret against cost and against the number of
// trials K of the @K methods, each method's pick per dataset, and the LLM figures when LLM
// methods ran. No scripts, no external assets; every
// chart scales to the window (SVG viewBox, width 100%).
import type { BenchReport, DatasetResult, MethodSummary } from './lodo.ts';
import { maxOf } from '../core/arrays.ts';

const COLORS = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#76b7b2',
  '#59a14f',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
];

const esc = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
const num = (x: number | null | undefined, d = 2) =>
  x === null || x === undefined || Number.isNaN(x) ? '–' : x.toFixed(d);

export interface ReportContext {
  /** The command that produced the report, as typed. */
  command?: string;
  date?: Date;
}

function summaryTable(report: BenchReport): string {
  const rows = report.methods
    .map(
      (m) =>
        `<tr><th scope="row">${esc(m.name)}</th><td>${num(m.meanRegret)}</td><td>${num(m.hitAt1)}</td><td>${num(m.hitAt3)}</td><td>${num(m.ndcgAt5)}</td><td>${num(m.spearman)}</td><td>${num(m.meanCostRatio)}</td><td>${num(m.meanPickTimeSec, 0)}</td><td>${num(m.responseMsMedian, 1)}</td><td>${num(m.coverage80)}</td><td>${num(m.meanWidth80, 1)}</td></tr>`,
    )
    .join('\n');
  return `<div class="scroll"><table><caption>Summary over ${report.datasets} held-out datasets</caption><thead><tr><th scope="col">method</th><th scope="col">mean regret</th><th scope="col">hit@1</th><th scope="col">hit@3</th><th scope="col">NDCG@5</th><th scope="col">Spearman</th><th scope="col">cost ratio</th><th scope="col">pick time (s)</th><th scope="col">response ms (median)</th><th scope="col">coverage80</th><th scope="col">80% width (points)</th></tr></thead>
<tbody>
${rows}
</tbody></table></div>`;
}

/** White (no regret) to red (the largest regret of the report). */
function heat(regret: number, max: number): string {
  const t = max > 0 ? Math.min(1, regret / max) : 0;
  const g = Math.round(255 - 170 * t);
  return `rgb(255,${g},${g})`;
}

/** Datasets as rows, methods as columns: one cell per regret, readable for 30+ datasets. */
function regretTable(report: BenchReport): string {
  const datasets = report.methods[0]?.perDataset.map((d) => d.dataset) ?? [];
  let max = 0;
  for (const m of report.methods) for (const d of m.perDataset) max = Math.max(max, d.regret);
  const head = report.methods.map((m) => `<th scope="col">${esc(m.name)}</th>`).join('');
  const rows = datasets
    .map((dataset, i) => {
      const cells = report.methods
        .map((m) => {
          const r = m.perDataset[i]?.regret;
          return r === undefined
            ? '<td>–</td>'
            : `<td style="background:${heat(r, max)}" title="${esc(m.name)} on ${esc(dataset)}">${num(r)}</td>`;
        })
        .join('');
      return `<tr><th scope="row">${esc(dataset)}</th>${cells}</tr>`;
    })
    .join('\n');
  return `<div class="scroll"><table aria-label="regret per dataset"><caption>Regret per held-out dataset (darker is worse; largest ${num(max)})</caption><thead><tr><th scope="col">dataset</th>${head}</tr></thead><tbody>
${rows}
</tbody></table></div>`;
}

/** Mean regret (y) against mean cost ratio (x), one labelled point per method with both. */
function regretAgainstCost(report: BenchReport): string {
  const points = report.methods
    .map((m, j) => ({ m, j }))
    .filter(({ m }) => m.meanCostRatio !== null && Number.isFinite(m.meanCostRatio));
  if (points.length === 0) return '<p>No training times recorded: no cost view.</p>';
  const W = 640;
  const H = 320;
  const pad = { l: 56, r: 120, t: 16, b: 40 };
  const maxX = maxOf(points.map(({ m }) => m.meanCostRatio!)) * 1.1 || 1;
  const maxY = maxOf(points.map(({ m }) => m.meanRegret)) * 1.1 || 1;
  const x = (v: number) => pad.l + (v / maxX) * (W - pad.l - pad.r);
  const y = (v: number) => H - pad.b - (v / maxY) * (H - pad.t - pad.b);
  const dots = points
    .map(
      ({ m, j }) =>
        `<circle cx="${x(m.meanCostRatio!).toFixed(1)}" cy="${y(m.meanRegret).toFixed(1)}" r="5" fill="${COLORS[j % COLORS.length]}"><title>${esc(m.name)}: regret ${num(m.meanRegret)}, cost ratio ${num(m.meanCostRatio)}</title></circle><text x="${(x(m.meanCostRatio!) + 8).toFixed(1)}" y="${(y(m.meanRegret) + 4).toFixed(1)}" font-size="12">${esc(m.name)}</text>`,
    )
    .join('');
  const axes = `<line x1="${pad.l}" y1="${H - pad.b}" x2="${W - pad.r}" y2="${H - pad.b}" stroke="#888"/><line x1="${pad.l}" y1="${pad.t}" x2="${pad.l}" y2="${H - pad.b}" stroke="#888"/>
<text x="${(W - pad.r + pad.l) / 2}" y="${H - 8}" font-size="12" text-anchor="middle">cost ratio (training time spent / time of the best configuration)</text>
<text x="14" y="${(H - pad.b + pad.t) / 2}" font-size="12" text-anchor="middle" transform="rotate(-90 14 ${(H - pad.b + pad.t) / 2})">mean regret</text>
<text x="${pad.l - 6}" y="${y(maxY / 1.1) + 4}" font-size="11" text-anchor="end">${num(maxY / 1.1, 1)}</text><text x="${pad.l - 6}" y="${H - pad.b + 4}" font-size="11" text-anchor="end">0</text>
<text x="${x(maxX / 1.1)}" y="${H - pad.b + 16}" font-size="11" text-anchor="middle">${num(maxX / 1.1, 1)}</text>`;
  return `<svg viewBox="0 0 ${W} ${H}" width="100%" style="max-width:${W}px" role="img" aria-label="mean regret against cost ratio">${axes}${dots}</svg>`;
}

/** The K of the chart of regret against the number of trials. */
const MAX_K = 10;

/**
 * Mean regret (y) against the number of trials K = 1..MAX_K (x): one line per family of @K
 * methods present (metalearner@K, random-search@K, tpe@K, ...), through the K that were run.
 */
function regretAgainstTrials(report: BenchReport): string {
  const families = new Map<string, { k: number; regret: number }[]>();
  for (const m of report.methods) {
    const at = /^(.+)@(\d+)$/.exec(m.name);
    if (!at || Number(at[2]) > MAX_K) continue;
    const points = families.get(at[1]) ?? [];
    points.push({ k: Number(at[2]), regret: m.meanRegret });
    families.set(at[1], points);
  }
  if (families.size === 0)
    return '<p>No method with a trial budget (NAME@K): no view by trials.</p>';
  const W = 640;
  const H = 320;
  const pad = { l: 56, r: 140, t: 16, b: 40 };
  const maxY = maxOf([...families.values()].flat().map((p) => p.regret)) * 1.1 || 1;
  const x = (k: number) => pad.l + ((k - 1) / (MAX_K - 1)) * (W - pad.l - pad.r);
  const y = (v: number) => H - pad.b - (v / maxY) * (H - pad.t - pad.b);
  const lines = [...families]
    .map(([name, points], j) => {
      const color = COLORS[j % COLORS.length];
      const sorted = points.sort((a, b) => a.k - b.k);
      const path = sorted.map((p) => `${x(p.k).toFixed(1)},${y(p.regret).toFixed(1)}`).join(' ');
      const last = sorted[sorted.length - 1];
      return `<polyline points="${path}" fill="none" stroke="${color}" stroke-width="2"/>${sorted
        .map(
          (p) =>
            `<circle cx="${x(p.k).toFixed(1)}" cy="${y(p.regret).toFixed(1)}" r="4" fill="${color}"><title>${esc(name)}@${p.k}: regret ${num(p.regret)}</title></circle>`,
        )
        .join(
          '',
        )}<text x="${(x(last.k) + 8).toFixed(1)}" y="${(y(last.regret) + 4).toFixed(1)}" font-size="12">${esc(name)}@K</text>`;
    })
    .join('');
  const ticks = Array.from({ length: MAX_K }, (_, i) => i + 1)
    .map(
      (k) =>
        `<text x="${x(k).toFixed(1)}" y="${H - pad.b + 16}" font-size="11" text-anchor="middle">${k}</text>`,
    )
    .join('');
  const axes = `<line x1="${pad.l}" y1="${H - pad.b}" x2="${W - pad.r}" y2="${H - pad.b}" stroke="#888"/><line x1="${pad.l}" y1="${pad.t}" x2="${pad.l}" y2="${H - pad.b}" stroke="#888"/>${ticks}
<text x="${(W - pad.r + pad.l) / 2}" y="${H - 4}" font-size="12" text-anchor="middle">trials K (the best of K looked-up results)</text>
<text x="14" y="${(H - pad.b + pad.t) / 2}" font-size="12" text-anchor="middle" transform="rotate(-90 14 ${(H - pad.b + pad.t) / 2})">mean regret</text>
<text x="${pad.l - 6}" y="${y(maxY / 1.1) + 4}" font-size="11" text-anchor="end">${num(maxY / 1.1, 1)}</text><text x="${pad.l - 6}" y="${H - pad.b + 4}" font-size="11" text-anchor="end">0</text>`;
  return `<svg viewBox="0 0 ${W} ${H}" width="100%" style="max-width:${W}px" role="img" aria-label="mean regret against the number of trials">${axes}${lines}</svg>`;
}

function shortConfig(d: DatasetResult): string {
  const cfg = Object.entries(d.pick.config)
    .map(([k, v]) => `${k}=${typeof v === 'number' && !Number.isInteger(v) ? v.toPrecision(3) : v}`)
    .join(' ');
  return `${d.pick.model}${cfg ? ` ${cfg}` : ''}`;
}

/** Each method's pick per dataset (first seed for random methods), with its regret. */
function picksTable(report: BenchReport): string {
  const datasets = report.methods[0]?.perDataset.map((d) => d.dataset) ?? [];
  const head = report.methods.map((m) => `<th scope="col">${esc(m.name)}</th>`).join('');
  const rows = datasets
    .map((dataset, i) => {
      const cells = report.methods
        .map((m) => {
          const d = m.perDataset[i];
          return d
            ? `<td class="pick">${esc(shortConfig(d))} <small>(${num(d.regret)})</small></td>`
            : '<td>–</td>';
        })
        .join('');
      return `<tr><th scope="row">${esc(dataset)}</th>${cells}</tr>`;
    })
    .join('\n');
  return `<div class="scroll"><table><caption>Picks per held-out dataset (regret in brackets; random methods: first seed)</caption><thead><tr><th scope="col">dataset</th>${head}</tr></thead><tbody>
${rows}
</tbody></table></div>`;
}

interface LlmExtra {
  attempts?: number;
  accepted?: boolean;
  fellBack?: boolean;
  tokens?: number;
  judge?: { format: number; accuracy: number; completeness: number } | null;
}

/** Acceptance, attempts, judge scores and tokens of the methods that asked an LLM. */
function llmTable(report: BenchReport): string {
  const llmMethods = report.methods.filter((m) =>
    m.perDataset.some((d) => (d.extra as LlmExtra | undefined)?.attempts !== undefined),
  );
  if (llmMethods.length === 0) return '';
  const mean = (xs: number[]) => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : null);
  const rows = llmMethods
    .map((m: MethodSummary) => {
      const extras = m.perDataset.map((d) => (d.extra ?? {}) as LlmExtra);
      const judged = extras.filter((e) => e.judge);
      return `<tr><th scope="row">${esc(m.name)}</th><td>${num(mean(extras.map((e) => (e.accepted ? 1 : 0))))}</td><td>${num(mean(extras.map((e) => e.attempts ?? 0)), 1)}</td><td>${num(mean(judged.map((e) => e.judge!.format)), 1)}</td><td>${num(mean(judged.map((e) => e.judge!.accuracy)), 1)}</td><td>${num(mean(judged.map((e) => e.judge!.completeness)), 1)}</td><td>${num(mean(extras.map((e) => e.tokens ?? 0)), 0)}</td></tr>`;
    })
    .join('\n');
  return `<h2>LLM methods</h2><table><caption>Per held-out dataset, averaged</caption><thead><tr><th scope="col">method</th><th scope="col">accepted</th><th scope="col">attempts</th><th scope="col">judge format</th><th scope="col">judge accuracy</th><th scope="col">judge completeness</th><th scope="col">tokens</th></tr></thead><tbody>
${rows}
</tbody></table>`;
}

export function renderHtmlReport(report: BenchReport, context: ReportContext = {}): string {
  const date = (context.date ?? new Date()).toISOString().replace('T', ' ').slice(0, 16);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>metallmix benchmark: ${esc(report.knowledgeBase.label)}, ${esc(report.metric)}</title>
<style>body{font-family:system-ui,sans-serif;margin:1.5em;color:#222;max-width:1200px}table{border-collapse:collapse;margin:0.5em 0 1.5em}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th[scope=row],td.pick{text-align:left}td.pick{white-space:nowrap;font-size:0.85em}caption{text-align:left;font-weight:600;padding:4px 0}.scroll{overflow-x:auto;max-width:100%}code{background:#f3f3f3;padding:1px 4px}dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px}dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}th.name{text-align:left}</style></head>
<body><h1>Leave-one-dataset-out benchmark</h1>
<dl><dt>knowledge base</dt><dd>${esc(report.knowledgeBase.label)} (version ${esc(report.knowledgeBase.version)})</dd>
${context.command ? `<dt>command</dt><dd><code>${esc(context.command)}</code></dd>` : ''}<dt>date</dt><dd>${esc(date)} UTC</dd>
<dt>protocol</dt><dd>metric ${esc(report.metric)}, objective ${esc(report.objective)}, ${report.datasets} held-out datasets, ${report.seeds} seed(s) for random methods${report.skipped.length ? `; left out: ${report.skipped.map((s) => `${esc(s.dataset)} (${esc(s.reason)})`).join(', ')}` : ''}</dd></dl>
${summaryTable(report)}
<h2>Regret against cost</h2>
${regretAgainstCost(report)}
<h2>Regret against the number of trials</h2>
${regretAgainstTrials(report)}
<h2>Regret per held-out dataset</h2>
${regretTable(report)}
${llmTable(report)}
<h2>Picks</h2>
${picksTable(report)}
<p>Regret: the best value of the metric among the configurations run on the held-out dataset minus the pick's (points for scores such as accuracy, raw units for losses). Cost ratio: training time of the pick (HPO: of all its trials) over that of the best configuration.</p>
</body></html>
`;
}
