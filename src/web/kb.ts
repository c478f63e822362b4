// The knowledge-base view: what the recommendations learn from. Counts per dataset and model, and
// the search space with the ranges and choices observed in the records.
import type { KbOverview } from '../index.ts';
import { PALETTE, chartBox, fittedLabel } from './charts.ts';
import { h, table } from './dom.ts';

export function kbView(root: HTMLElement, kb: KbOverview): void {
  const datasets = kb.perDataset.map((d) => d.dataset);
  const models = kb.perModel.map((m) => m.model);
  const count = new Map(kb.counts.map((c) => [`${c.dataset}\u0000${c.model}`, c.records]));
  const chart = chartBox(
    `Stacked bar chart: records per dataset (${datasets.length} datasets), split by model (${models.length} models).`,
    Math.max(200, 26 * datasets.length + 90),
    {
      type: 'bar',
      data: {
        labels: datasets,
        datasets: models.map((model, i) => ({
          label: model,
          data: datasets.map((d) => count.get(`${d}\u0000${model}`) ?? 0),
          backgroundColor: PALETTE[i % PALETTE.length],
        })),
      },
      options: {
        indexAxis: 'y',
        scales: {
          x: { stacked: true, title: { display: true, text: 'records' } },
          y: { stacked: true, ticks: { autoSkip: false, callback: fittedLabel } },
        },
        plugins: { legend: { position: 'bottom', display: models.length <= 12 } },
      },
    },
    'kb-chart',
  );
  const space = kb.space.parameters.map((p) => [
    p.name,
    p.type,
    'low' in p
      ? `${p.low} to ${p.high}${p.log ? ' (log)' : ''}`
      : 'choices' in p
        ? p.choices.join(', ')
        : 'true, false',
    p.condition ? `when ${p.condition.parent} is ${p.condition.values.join(' or ')}` : '',
  ]);
  root.replaceChildren(
    h('h1', {}, 'Knowledge base'),
    h(
      'p',
      { class: 'lead', 'data-testid': 'kb-summary' },
      `${kb.label} (${kb.backend}): ${kb.records} records of ${kb.datasets} datasets and ${kb.models} models; content version ${kb.version}.`,
    ),
    h('h2', {}, 'Records per dataset and model'),
    chart,
    table(
      ['dataset', 'records', 'models'],
      kb.perDataset.map((d) => [d.dataset, String(d.records), String(d.models)]),
      'Records per dataset',
    ),
    table(
      ['model', 'records', 'datasets'],
      kb.perModel.map((m) => [m.model, String(m.records), String(m.datasets)]),
      'Records per model',
    ),
    h('h2', {}, 'Search space (observed)'),
    space.length
      ? table(
          ['parameter', 'type', 'observed range or choices', 'condition'],
          space,
          'Search space',
        )
      : h('p', {}, 'No hyperparameters are declared: models are the only choice.'),
    h('h2', {}, 'Metrics'),
    table(
      ['metric', 'finished runs'],
      kb.metrics.map((x) => [x.name, String(x.runs)]),
      'Metrics of finished runs',
    ),
  );
}
