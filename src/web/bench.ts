// The bench view: start a leave-one-dataset-out bench job, follow its progress (server-sent
// events), then regret per dataset, regret against cost, and the summary table. Charts grow in
// height with the number of datasets and never in width.
import type { BenchReport } from '../index.ts';
import { ApiError, events, postJson, type Choices } from './api.ts';
import { PALETTE, chartBox, fittedLabel, logTickLabel } from './charts.ts';
import { clear, field, h, select, table } from './dom.ts';
import { number } from './format.ts';

/** What the page reads of a job (GET /v1/jobs/{id}). */
interface Job {
  id: string;
  status: 'running' | 'succeeded' | 'failed' | 'cancelled';
  progress: { label: string; done: number; total: number; note?: string } | null;
  result?: BenchReport;
  error?: { status: number; message: string; field?: string };
}

const DEFAULT_METHODS = ['metalearner', 'single-best', 'knn', 'random'];

export function benchView(
  root: HTMLElement,
  choices: Choices,
  datasets: string[],
  metrics: string[],
): void {
  const strategies = choices.strategy.filter((s) => s !== 'auto');
  const boxes = strategies.map((s) =>
    h('input', {
      type: 'checkbox',
      id: `method-${s}`,
      value: s,
      checked: DEFAULT_METHODS.includes(s),
    }),
  );
  const hpo = h('input', { id: 'bench-hpo', type: 'text', value: 'random-search@10, tpe@10' });
  const datasetBoxes = datasets.map((d) =>
    h('input', { type: 'checkbox', id: `dataset-${d}`, value: d, checked: true }),
  );
  const seeds = h('input', { id: 'bench-seeds', type: 'number', min: 1, step: 1, value: 3 });
  const objective = select('bench-objective', choices.objective, 'best');
  const metric = select('bench-metric', metrics.length ? metrics : ['accuracy'], 'accuracy');
  const start = h('button', { type: 'submit', class: 'primary' }, 'Start bench');
  const progressBar = h('progress', {
    max: 1,
    value: 0,
    'aria-label': 'bench progress',
    hidden: true,
  });
  const progressText = h('p', {
    role: 'status',
    'aria-live': 'polite',
    'data-testid': 'bench-progress',
  });
  const errors = h('div', { class: 'error-summary', role: 'alert', hidden: true, tabindex: -1 });
  const result = h('section', { 'aria-label': 'Bench results', 'data-testid': 'bench-result' });

  const list = (s: string) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);

  const form = h(
    'form',
    { novalidate: true, 'aria-label': 'Bench request' },
    errors,
    h(
      'fieldset',
      {},
      h('legend', {}, 'Methods'),
      h(
        'div',
        { class: 'checks' },
        strategies.map((s, i) => h('label', { class: 'check' }, boxes[i], ` ${s}`)),
      ),
      field('HPO baselines (NAME@TRIALS, comma-separated)', hpo),
    ),
    h(
      'fieldset',
      {},
      h('legend', {}, `Held-out datasets (${datasets.length})`),
      h(
        'div',
        { class: 'checks' },
        datasets.map((d, i) => h('label', { class: 'check' }, datasetBoxes[i], ` ${d}`)),
      ),
    ),
    h(
      'div',
      { class: 'grid' },
      field('Seeds of the random methods', seeds),
      field('Objective', objective),
      field('Metric', metric),
    ),
    h('div', { class: 'actions' }, start),
    progressBar,
    progressText,
  );

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    errors.hidden = true;
    clear(errors);
    clear(result);
    start.disabled = true;
    const chosen = datasetBoxes.filter((b) => b.checked).map((b) => b.value);
    try {
      const job = await postJson<Job>('/v1/bench', {
        methods: [...boxes.filter((b) => b.checked).map((b) => b.value), ...list(hpo.value)],
        seeds: Number(seeds.value),
        objective: objective.value,
        metric: metric.value,
        ...(chosen.length && chosen.length < datasets.length ? { datasets: chosen } : {}),
      });
      progressBar.hidden = false;
      progressText.textContent = `Job ${job.id} started.`;
      for await (const ev of events(`/v1/jobs/${job.id}/events`)) {
        const state = JSON.parse(ev.data) as Job;
        if (state.progress) {
          progressBar.max = state.progress.total;
          progressBar.value = state.progress.done;
          progressText.textContent = `${state.progress.done} of ${state.progress.total} ${state.progress.label}${state.progress.note ? ` (last: ${state.progress.note})` : ''}`;
        }
        if (ev.event === 'end') {
          if (state.status === 'succeeded' && state.result) {
            progressText.textContent = `Done: ${state.result.datasets} datasets held out.`;
            renderReport(result, state.result);
          } else
            throw new ApiError(
              state.error?.status ?? 500,
              state.error?.message ?? `the job ${state.status}`,
              state.error?.field,
            );
        }
      }
    } catch (err) {
      progressBar.hidden = true;
      errors.hidden = false;
      errors.append(h('p', {}, h('strong', {}, 'The bench did not run: '), (err as Error).message));
      errors.focus();
    } finally {
      start.disabled = false;
    }
  });

  root.replaceChildren(h('h1', {}, 'Bench: leave one dataset out'), form, result);
}

function renderReport(root: HTMLElement, r: BenchReport): void {
  const datasets = r.methods[0]?.perDataset.map((d) => d.dataset) ?? [];
  const perMethodHeight = Math.max(6, Math.min(14, 40 / Math.max(1, r.methods.length)));
  const regretChart = chartBox(
    `Horizontal bar chart: regret per held-out dataset (${datasets.length}) for ${r.methods.length} methods; lower is better.`,
    Math.max(220, datasets.length * (r.methods.length * perMethodHeight + 8) + 100),
    {
      type: 'bar',
      data: {
        labels: datasets,
        datasets: r.methods.map((m, i) => ({
          label: m.name,
          data: m.perDataset.map((d) => d.regret),
          backgroundColor: PALETTE[i % PALETTE.length],
        })),
      },
      options: {
        indexAxis: 'y',
        scales: {
          x: { title: { display: true, text: `regret (${r.metric} points)` }, beginAtZero: true },
          // Every dataset is named: the chart grows in height instead of skipping labels.
          y: { ticks: { autoSkip: false, callback: fittedLabel } },
        },
        plugins: { legend: { position: 'bottom' } },
      },
    },
    'regret-chart',
  );
  const withCost = r.methods.filter((m) => m.perDataset.some((d) => d.costRatio !== null));
  const costChart = chartBox(
    `Scatter chart: regret against cost ratio (training time of the pick, or of all trials, over that of the best configuration), one point per method and dataset.`,
    340,
    {
      type: 'scatter',
      data: {
        datasets: withCost.map((m) => ({
          label: m.name,
          data: m.perDataset
            .filter((d) => d.costRatio !== null)
            .map((d) => ({ x: d.costRatio!, y: d.regret, dataset: d.dataset })),
          backgroundColor: PALETTE[r.methods.indexOf(m) % PALETTE.length],
          pointRadius: 4,
        })),
      },
      options: {
        scales: {
          x: {
            type: 'logarithmic',
            title: { display: true, text: 'cost ratio (log scale)' },
            ticks: { callback: logTickLabel },
          },
          y: { title: { display: true, text: 'regret' }, beginAtZero: true },
        },
        plugins: {
          legend: { position: 'bottom' },
          tooltip: {
            callbacks: {
              label: (ctx) => {
                const raw = ctx.raw as { x: number; y: number; dataset: string };
                return `${ctx.dataset.label} on ${raw.dataset}: regret ${raw.y.toFixed(2)}, cost ratio ${raw.x.toFixed(2)}`;
              },
            },
          },
        },
      },
    },
    'cost-chart',
  );
  root.replaceChildren(
    h('h2', { tabindex: -1 }, `Leave-one-dataset-out on ${r.datasets} datasets`),
    h(
      'p',
      {},
      `metric ${r.metric}, objective ${r.objective}, ${r.seeds} seed(s)`,
      r.skipped.length
        ? `; left out: ${r.skipped.map((s) => `${s.dataset} (${s.reason})`).join(', ')}`
        : '',
    ),
    table(
      [
        'method',
        'mean regret',
        'hit@1',
        'hit@3',
        'NDCG@5',
        'Spearman',
        'cost ratio',
        'pick time s',
        'response ms',
      ],
      r.methods.map((m) => [
        m.name,
        number(m.meanRegret),
        number(m.hitAt1),
        number(m.hitAt3),
        number(m.ndcgAt5),
        number(m.spearman),
        number(m.meanCostRatio),
        number(m.meanPickTimeSec, 0),
        number(m.responseMsMedian, 1),
      ]),
      'Summary per method',
    ),
    h('h3', {}, 'Regret per dataset'),
    regretChart,
    h('h3', {}, 'Regret against cost'),
    withCost.length ? costChart : h('p', {}, 'No training times recorded: no cost chart.'),
  );
}
