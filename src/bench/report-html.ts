// A self-contained HTML page of a benchmark report: regret per held-out dataset as an SVG bar
// chart (one bar per method) and the summary table. No scripts, no external assets.
import type { BenchReport } from './lodo.ts';

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
const num = (x: number | null, d = 2) => (x === null || Number.isNaN(x) ? '–' : x.toFixed(d));

function chart(report: BenchReport): string {
  const datasets = report.methods[0]?.perDataset.map((d) => d.dataset) ?? [];
  const maxRegret = Math.max(
    1e-9,
    ...report.methods.flatMap((m) => m.perDataset.map((d) => d.regret)),
  );
  const barW = 10;
  const groupW = report.methods.length * barW + 14;
  const h = 240;
  const left = 50;
  const width = left + datasets.length * groupW + 10;
  const bars: string[] = [];
  datasets.forEach((d, i) => {
    report.methods.forEach((m, j) => {
      const r = m.perDataset[i]?.regret ?? 0;
      const bh = (r / maxRegret) * (h - 20);
      bars.push(
        `<rect x="${left + i * groupW + j * barW}" y="${h - bh}" width="${barW - 1}" height="${bh}" fill="${COLORS[j % COLORS.length]}"><title>${esc(m.name)} on ${esc(d)}: ${num(r)}</title></rect>`,
      );
    });
    bars.push(
      `<text x="${left + i * groupW + (groupW - 14) / 2}" y="${h + 12}" font-size="10" text-anchor="end" transform="rotate(-40 ${left + i * groupW + (groupW - 14) / 2} ${h + 12})">${esc(d)}</text>`,
    );
  });
  const ticks = [0, 0.5, 1].map(
    (f) =>
      `<text x="${left - 6}" y="${h - f * (h - 20) + 4}" font-size="10" text-anchor="end">${num(f * maxRegret, 1)}</text><line x1="${left}" x2="${width}" y1="${h - f * (h - 20)}" y2="${h - f * (h - 20)}" stroke="#ddd"/>`,
  );
  const legend = report.methods
    .map(
      (m, j) =>
        `<span style="display:inline-block;margin-right:12px"><span style="display:inline-block;width:10px;height:10px;background:${COLORS[j % COLORS.length]}"></span> ${esc(m.name)}</span>`,
    )
    .join('');
  return `<div>${legend}</div><svg width="${width}" height="${h + 90}" role="img" aria-label="regret per dataset">${ticks.join('')}${bars.join('')}<text x="12" y="${h / 2}" font-size="11" transform="rotate(-90 12 ${h / 2})">regret</text></svg>`;
}

export function renderHtmlReport(report: BenchReport): string {
  const rows = report.methods
    .map(
      (m) =>
        `<tr><td>${esc(m.name)}</td><td>${num(m.meanRegret)}</td><td>${num(m.hitAt1)}</td><td>${num(m.hitAt3)}</td><td>${num(m.ndcgAt5)}</td><td>${num(m.spearman)}</td><td>${num(m.meanCostRatio)}</td><td>${num(m.meanPickTimeSec, 0)}</td><td>${num(m.responseMsMedian, 1)}</td></tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>metallmix benchmark: ${esc(report.metric)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td:first-child,th:first-child{text-align:left}</style></head>
<body><h1>Leave-one-dataset-out benchmark</h1>
<p>Metric ${esc(report.metric)}, objective ${esc(report.objective)}, ${report.datasets} held-out datasets, ${report.seeds} seed(s) for random methods.${report.skipped.length ? ` Left out: ${report.skipped.map((s) => `${esc(s.dataset)} (${esc(s.reason)})`).join(', ')}.` : ''}</p>
<h2>Regret per held-out dataset</h2>
${chart(report)}
<h2>Summary</h2>
<table><thead><tr><th>method</th><th>mean regret</th><th>hit@1</th><th>hit@3</th><th>NDCG@5</th><th>Spearman</th><th>cost ratio</th><th>pick time (s)</th><th>response ms (median)</th></tr></thead>
<tbody>
${rows}
</tbody></table>
<p>Regret: the best value of the metric among the configurations run on the held-out dataset minus the pick's (points for scores such as accuracy, raw units for losses). Cost ratio: training time of the pick (HPO: of all its trials) over that of the best configuration.</p>
</body></html>
`;
}
