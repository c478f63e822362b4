// The recommend view: a form for the profile (fields, or a dropped profile.json, manifest or
// archive) and the request options; the answer as the pick, the top-k, a Pareto chart, the SHAP
// contributions of the pick, the evidence, the notices and the export files.
import type { DatasetProfile, Recommendation, RecommendedConfig } from '../index.ts';
import example from '../../examples/chest-xray-small.json';
import { ApiError, postForm, postJson, type Choices } from './api.ts';
import { PALETTE, chartBox, fittedLabel } from './charts.ts';
import { clear, field, h, select, table } from './dom.ts';
import {
  configText,
  intervalText,
  lowerIsBetter,
  metricText,
  minutes,
  number,
  scaleOf,
  tiedWithPick,
} from './format.ts';

const ARCHIVE = /\.(zip|tar|tgz|tar\.gz)$/i;

interface State {
  /** The profile the fields start from (example or file): fields override what they show. */
  base: Partial<DatasetProfile>;
  /** A dropped manifest or archive: sent as an upload instead of the fields. */
  uploads: { manifest?: File; archive?: File };
}

function numberInput(id: string, attrs: Record<string, string | number> = {}): HTMLInputElement {
  return h('input', { id, name: id, type: 'number', inputmode: 'decimal', ...attrs });
}

function textInput(id: string): HTMLInputElement {
  return h('input', { id, name: id, type: 'text', autocomplete: 'off' });
}

export function recommendView(root: HTMLElement, choices: Choices, metrics: string[]): void {
  const state: State = { base: {}, uploads: {} };
  const f = {
    name: textInput('profile-name'),
    task: select('profile-task', choices.task),
    modality: select('profile-modality', choices.modality),
    numInstances: numberInput('profile-numInstances', { min: 1, step: 1 }),
    numClasses: numberInput('profile-numClasses', { min: 1, step: 1 }),
    classCounts: h('textarea', { id: 'profile-classCounts', name: 'classCounts', rows: 3 }),
    width: numberInput('profile-width', { min: 1, step: 1 }),
    height: numberInput('profile-height', { min: 1, step: 1 }),
    channels: numberInput('profile-channels', { min: 1, max: 4, step: 1 }),
    objective: select('objective', choices.objective, 'best'),
    budget: numberInput('budgetMinutes', { min: 0, step: 'any' }),
    metric: select('metric', metrics.length ? metrics : ['accuracy'], 'accuracy'),
    topK: numberInput('topK', { min: 1, step: 1, value: 5 }),
    strategy: select('strategy', choices.strategy, 'auto'),
  };
  // Which server field each control answers for, so a 400 lands on the right control.
  const controlOf: Record<string, HTMLElement> = {
    'profile.name': f.name,
    'profile.task': f.task,
    'profile.modality': f.modality,
    'profile.numInstances': f.numInstances,
    'profile.numClasses': f.numClasses,
    'profile.classCounts': f.classCounts,
    'profile.resolution': f.width,
    'profile.channels': f.channels,
    objective: f.objective,
    budgetMinutes: f.budget,
    metric: f.metric,
    topK: f.topK,
    strategy: f.strategy,
  };

  const fill = (p: Partial<DatasetProfile>) => {
    state.base = p;
    f.name.value = p.name ?? '';
    f.task.value = p.task ?? 'multiclass';
    f.modality.value = p.modality ?? 'unknown';
    f.numInstances.value = p.numInstances?.toString() ?? '';
    f.numClasses.value = p.numClasses?.toString() ?? '';
    f.classCounts.value = Object.entries(p.classCounts ?? {})
      .map(([k, v]) => `${k}: ${v}`)
      .join('\n');
    f.width.value = p.resolution?.medianWidth.toString() ?? '';
    f.height.value = p.resolution?.medianHeight.toString() ?? '';
    f.channels.value = p.channels?.toString() ?? '';
  };

  const num = (el: HTMLInputElement) => (el.value.trim() === '' ? undefined : Number(el.value));

  const profileFromFields = (): Record<string, unknown> => {
    const p: Record<string, unknown> = { ...state.base };
    p.name = f.name.value.trim();
    p.task = f.task.value;
    p.modality = f.modality.value;
    p.numInstances = num(f.numInstances);
    p.numClasses = num(f.numClasses);
    const counts = f.classCounts.value
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .map((l) => {
        const i = l.lastIndexOf(':');
        return [l.slice(0, i).trim(), Number(l.slice(i + 1))] as const;
      });
    p.classCounts = counts.length ? Object.fromEntries(counts) : undefined;
    const w = num(f.width);
    const hh = num(f.height);
    const base = state.base.resolution;
    p.resolution =
      w === undefined && hh === undefined
        ? undefined
        : {
            medianWidth: w,
            medianHeight: hh,
            minWidth: base && base.medianWidth === w ? base.minWidth : w,
            minHeight: base && base.medianHeight === hh ? base.minHeight : hh,
            maxWidth: base && base.medianWidth === w ? base.maxWidth : w,
            maxHeight: base && base.medianHeight === hh ? base.maxHeight : hh,
          };
    p.channels = num(f.channels);
    // Statistics derived from the counts are recomputed by the server from what is sent.
    for (const k of [
      'imbalanceRatio',
      'classEntropy',
      'normalizedEntropy',
      'classSizeMean',
      'classSizeStd',
      'classSizeMin',
      'classSizeMax',
    ])
      delete p[k];
    return Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined));
  };

  const options = () => ({
    objective: f.objective.value,
    metric: f.metric.value,
    strategy: f.strategy.value,
    ...(num(f.topK) !== undefined ? { topK: num(f.topK) } : {}),
    ...(num(f.budget) !== undefined ? { budgetMinutes: num(f.budget) } : {}),
  });

  const uploadNote = h('p', { class: 'upload-note', 'aria-live': 'polite' });
  const fileInput = h('input', {
    id: 'dataset-file',
    type: 'file',
    accept: '.json,.csv,.zip,.tar,.tgz,.gz',
    multiple: true,
  });
  const clearUploads = h(
    'button',
    { type: 'button', class: 'link', hidden: true },
    'use the fields instead',
  );
  const showUploads = () => {
    const names = [state.uploads.manifest?.name, state.uploads.archive?.name].filter(Boolean);
    uploadNote.textContent = names.length
      ? `Sending ${names.join(' and ')} as an upload; the server profiles it.`
      : '';
    clearUploads.hidden = names.length === 0;
  };
  clearUploads.addEventListener('click', () => {
    state.uploads = {};
    fileInput.value = '';
    showUploads();
  });

  const takeFiles = async (files: FileList | File[]) => {
    for (const file of Array.from(files)) {
      if (/\.json$/i.test(file.name)) {
        try {
          fill(JSON.parse(await file.text()) as Partial<DatasetProfile>);
          state.uploads = {};
        } catch (err) {
          showErrors(
            new ApiError(
              400,
              `${file.name}: not valid JSON (${(err as Error).message})`,
              'profile',
            ),
          );
        }
      } else if (/\.csv$/i.test(file.name)) state.uploads.manifest = file;
      else if (ARCHIVE.test(file.name)) state.uploads.archive = file;
    }
    showUploads();
  };
  fileInput.addEventListener('change', () => void takeFiles(fileInput.files ?? []));

  const drop = h(
    'div',
    { class: 'drop', 'data-testid': 'drop-zone' },
    h('label', { for: 'dataset-file' }, 'Profile file, manifest or archive'),
    fileInput,
    h(
      'p',
      { class: 'hint' },
      'Drop or choose a profile.json (fills the fields), or a manifest .csv with a .zip/.tar of its images, or an archive of an image folder.',
    ),
    uploadNote,
    clearUploads,
  );
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    if (e.dataTransfer?.files) void takeFiles(e.dataTransfer.files);
  });

  const errorSummary = h('div', {
    class: 'error-summary',
    role: 'alert',
    hidden: true,
    tabindex: -1,
  });
  const status = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Recommend');
  const result = h('section', {
    class: 'result',
    'aria-label': 'Recommendation',
    'data-testid': 'result',
  });

  const clearErrors = () => {
    errorSummary.hidden = true;
    clear(errorSummary);
    for (const el of root.querySelectorAll('[aria-invalid="true"]'))
      el.removeAttribute('aria-invalid');
    for (const el of root.querySelectorAll<HTMLElement>('.field-error')) {
      el.hidden = true;
      el.textContent = '';
    }
  };

  function showErrors(err: ApiError): void {
    clearErrors();
    const issues = err.issues.length ? err.issues : [{ field: err.field ?? '', reason: '' }];
    let first: HTMLElement | undefined;
    for (const issue of issues) {
      // An upload's options come back as `options.topK`: the same control as `topK`.
      const field = issue.field.replace(/^options\./, '');
      const control = controlOf[field] ?? controlOf[field.split('.').slice(0, 2).join('.')];
      if (!control) continue;
      const slot = root.querySelector<HTMLElement>(`#${control.id}-error`);
      if (slot) {
        slot.hidden = false;
        slot.textContent = issue.reason || err.message;
      }
      control.setAttribute('aria-invalid', 'true');
      first ??= control;
    }
    errorSummary.hidden = false;
    errorSummary.append(
      h(
        'p',
        {},
        h('strong', {}, err.status === 400 ? 'The request was not accepted: ' : 'Error: '),
        err.message,
      ),
    );
    (first ?? errorSummary).focus();
  }

  const form = h(
    'form',
    { class: 'recommend-form', novalidate: true, 'aria-label': 'Recommendation request' },
    errorSummary,
    h(
      'fieldset',
      {},
      h('legend', {}, 'Dataset profile'),
      h(
        'p',
        {},
        h(
          'button',
          {
            type: 'button',
            class: 'secondary',
            'data-testid': 'use-example',
            onclick: () => (fill(example as DatasetProfile), (state.uploads = {}), showUploads()),
          },
          'Use the example profile',
        ),
      ),
      drop,
      h(
        'div',
        { class: 'grid' },
        field('Name', f.name),
        field('Task', f.task),
        field('Modality', f.modality),
        field('Images', f.numInstances),
        field('Classes', f.numClasses),
        field('Median width (px)', f.width),
        field('Median height (px)', f.height),
        field('Channels', f.channels),
      ),
      field('Images per class', f.classCounts, 'One class per line: name: count'),
    ),
    h(
      'fieldset',
      {},
      h('legend', {}, 'What to optimize'),
      h(
        'div',
        { class: 'grid' },
        field('Objective', f.objective, 'best, balanced (fastest not credibly worse) or fastest'),
        field('Budget (minutes)', f.budget, 'optional training-time budget'),
        field('Metric', f.metric),
        field('Top-k', f.topK),
        field('Strategy', f.strategy),
      ),
    ),
    h('div', { class: 'actions' }, submit, status),
  );

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors();
    submit.disabled = true;
    status.textContent = 'Asking the server...';
    const t0 = performance.now();
    try {
      let rec: Recommendation;
      if (state.uploads.manifest || state.uploads.archive) {
        const body = new FormData();
        body.set('options', JSON.stringify({ ...options(), modality: f.modality.value }));
        if (state.uploads.manifest) body.set('manifest', state.uploads.manifest);
        if (state.uploads.archive) body.set('archive', state.uploads.archive);
        rec = await postForm<Recommendation>('/v1/recommend', body);
      } else
        rec = await postJson<Recommendation>('/v1/recommend', {
          profile: profileFromFields(),
          ...options(),
        });
      status.textContent = `Answered in ${((performance.now() - t0) / 1000).toFixed(1)} s.`;
      renderResult(result, rec);
      result.querySelector<HTMLElement>('h2')?.focus();
    } catch (err) {
      status.textContent = '';
      if (err instanceof ApiError) showErrors(err);
      else showErrors(new ApiError(0, (err as Error).message));
    } finally {
      submit.disabled = false;
    }
  });

  root.replaceChildren(h('h1', {}, 'Recommend a model and hyperparameters'), form, result);
}

/**
 * Why the runners-up count as tied, by the rule that marked them: the tie margin the validation
 * measured (the candidates' `tied`), else the pick's mean inside their 80% intervals.
 */
function tiedText(rec: Recommendation, tied: RecommendedConfig[]): string {
  const ranks = tied.map((c) => `#${c.rank}`).join(', ');
  const margin = rec.topK.some((c) => c.tied !== undefined) ? rec.validation?.tieMargin : undefined;
  if (margin === undefined)
    return tied.length
      ? `${ranks}: their intervals reach the pick's prediction`
      : 'none: the pick is credibly ahead of the rest of the top-k';
  const gap = `${margin.toFixed(2)}${scaleOf(rec.metric) === 100 ? ' points' : ''}`;
  return tied.length
    ? `${ranks}: predicted within ${gap} of the top score, the tie margin measured on this knowledge base`
    : `none: every runner-up is predicted more than ${gap} behind the top score, the tie margin measured on this knowledge base`;
}

function candidateKey(c: RecommendedConfig): string {
  return `${c.model} ${configText(c.config)}`;
}

function renderResult(root: HTMLElement, rec: Recommendation): void {
  const m = rec.metric;
  const pick = rec.pick;
  const tied = rec.topK.filter((c) => tiedWithPick(m, pick, c));
  const pickCard = h(
    'div',
    { class: 'pick', 'data-testid': 'pick' },
    h('h2', { tabindex: -1 }, 'Pick: ', h('span', { class: 'model' }, pick.model)),
    h('p', { class: 'config' }, configText(pick.config)),
    h(
      'dl',
      {},
      h('dt', {}, `Predicted ${m}`),
      h('dd', {}, intervalText(m, pick)),
      h('dt', {}, 'Predicted training time'),
      h(
        'dd',
        {},
        pick.predictedTrainingTimeSec
          ? `${minutes(pick.predictedTrainingTimeSec.mean)} (80%: ${minutes(pick.predictedTrainingTimeSec.low)} to ${minutes(pick.predictedTrainingTimeSec.high)})`
          : 'not recorded in the knowledge base',
      ),
      h('dt', {}, 'Tied with'),
      h('dd', { 'data-testid': 'tied' }, tiedText(rec, tied)),
      h('dt', {}, 'Answered by'),
      h(
        'dd',
        {},
        rec.answeredBy + (rec.fellBack ? ` (fell back: ${rec.fallbackReason ?? ''})` : ''),
      ),
    ),
    pick.extrapolated.length
      ? h('p', { class: 'warn' }, `Outside the observed ranges: ${pick.extrapolated.join(', ')}`)
      : null,
  );

  const budget =
    rec.budgetMinutes !== undefined
      ? h(
          'p',
          { class: rec.budgetPick ? 'budget' : 'warn' },
          rec.budgetPick
            ? `Best under ${rec.budgetMinutes} min: #${rec.budgetPick.rank} ${rec.budgetPick.model} (${configText(rec.budgetPick.config)}), ${metricText(m, rec.budgetPick.predictedMetric.mean)} in ${minutes(rec.budgetPick.predictedTrainingTimeSec?.mean)}`
            : `No candidate is predicted to train within ${rec.budgetMinutes} min.`,
        )
      : null;

  const topTable = table(
    ['#', 'model', 'config', `${m} (80% interval)`, 'training time', 'Pareto', 'tied with pick'],
    rec.topK.map((c) => [
      String(c.rank),
      c.model,
      configText(c.config),
      intervalText(m, c),
      minutes(c.predictedTrainingTimeSec?.mean),
      c.onParetoFront ? 'yes' : '',
      c.rank === pick.rank ? 'pick' : tiedWithPick(m, pick, c) ? 'tied' : '',
    ]),
    `Top ${rec.topK.length} configurations`,
  );

  const children: (Node | null)[] = [
    pickCard,
    budget,
    h('h3', {}, `Top ${rec.topK.length}`),
    topTable,
    paretoChart(rec),
    shapChart(rec),
    evidence(pick),
    notices(rec),
    exportBox(rec),
  ];
  root.replaceChildren();
  for (const c of children) if (c !== null) root.append(c);
}

function paretoChart(rec: Recommendation): HTMLElement {
  const m = rec.metric;
  const scale = scaleOf(m);
  const seen = new Map<string, RecommendedConfig>();
  for (const c of [...rec.topK, ...rec.paretoFront]) seen.set(candidateKey(c), c);
  const withTime = [...seen.values()].filter((c) => c.predictedTrainingTimeSec);
  const point = (c: RecommendedConfig) => ({
    x: c.predictedTrainingTimeSec!.mean / 60,
    y: c.predictedMetric.mean * scale,
    label: `${c.model} (${configText(c.config)})`,
  });
  const front = rec.paretoFront
    .filter((c) => c.predictedTrainingTimeSec)
    .map(point)
    .sort((a, b) => a.x - b.x);
  const ys = withTime.map((c) => c.predictedMetric.mean * scale);
  const lo = ys.reduce((a, b) => Math.min(a, b), Infinity);
  const hi = ys.reduce((a, b) => Math.max(a, b), -Infinity);
  const pad = Math.max((hi - lo) * 0.1, 0.5);
  const datasets: object[] = [
    {
      type: 'scatter',
      label: 'candidates',
      data: withTime.map(point),
      backgroundColor: '#999',
      pointRadius: 4,
    },
    {
      type: 'line',
      label: 'Pareto front',
      data: front,
      borderColor: PALETTE[0],
      backgroundColor: PALETTE[0],
      pointRadius: 3,
      stepped: false,
    },
  ];
  if (rec.pick.predictedTrainingTimeSec)
    datasets.push({
      type: 'scatter',
      label: 'pick',
      data: [point(rec.pick)],
      backgroundColor: PALETTE[5],
      pointStyle: 'star',
      borderColor: PALETTE[5],
      borderWidth: 2,
      pointRadius: 10,
    });
  if (rec.budgetMinutes !== undefined)
    datasets.push({
      type: 'line',
      label: `budget ${rec.budgetMinutes} min`,
      data: [
        { x: rec.budgetMinutes, y: lo - pad },
        { x: rec.budgetMinutes, y: hi + pad },
      ],
      borderColor: PALETTE[1],
      borderDash: [6, 4],
      pointRadius: 0,
    });
  const label = `Pareto chart: predicted ${m} against predicted training time for ${withTime.length} candidates; the pick ${rec.pick.model} is marked${rec.budgetMinutes !== undefined ? `, the budget line at ${rec.budgetMinutes} minutes` : ''}.`;
  if (!withTime.length)
    return h('p', { class: 'hint' }, 'No training times in the knowledge base: no Pareto chart.');
  return h(
    'figure',
    {},
    h('figcaption', {}, h('h3', {}, `Predicted ${m} against training time`)),
    chartBox(
      label,
      320,
      {
        type: 'scatter',
        data: { datasets: datasets as never },
        options: {
          scales: {
            x: { type: 'linear', title: { display: true, text: 'predicted training time (min)' } },
            y: {
              title: { display: true, text: `predicted ${m}${scale === 100 ? ' (%)' : ''}` },
              min: lo - pad,
              max: hi + pad,
            },
          },
          plugins: {
            tooltip: {
              callbacks: {
                label: (ctx) => {
                  const raw = ctx.raw as { x: number; y: number; label?: string };
                  return `${raw.label ?? ctx.dataset.label}: ${raw.y.toFixed(1)}, ${raw.x.toFixed(1)} min`;
                },
              },
            },
          },
        },
      },
      'pareto-chart',
    ),
  );
}

function shapChart(rec: Recommendation): HTMLElement {
  const contributions = rec.pick.explanation;
  if (!contributions.length)
    return h('p', { class: 'hint' }, 'No SHAP contributions for this pick.');
  // TreeSHAP values come in the units the explanation speaks: metric points for a 0-1 score.
  const unit = scaleOf(rec.metric) === 100 ? 'points' : '';
  const labels = contributions.map((c) => `${c.feature} = ${featureValue(c.value)}`);
  const values = contributions.map((c) => c.shap);
  return h(
    'figure',
    {},
    h('figcaption', {}, h('h3', {}, 'Why this pick: SHAP contributions')),
    h('p', { class: 'explanation' }, rec.pick.explanationText),
    chartBox(
      `SHAP bar chart: ${contributions
        .map(
          (_, i) =>
            `${labels[i]} ${values[i] >= 0 ? 'raises' : 'lowers'} the prediction by ${Math.abs(values[i]).toFixed(2)} ${unit}`,
        )
        .join('; ')}.`,
      Math.max(160, 34 * contributions.length + 60),
      {
        type: 'bar',
        data: {
          labels,
          datasets: [
            {
              label: `contribution to predicted ${rec.metric}${unit ? ` (${unit})` : ''}`,
              data: values,
              backgroundColor: values.map((v) => (v >= 0 ? PALETTE[2] : PALETTE[5])),
            },
          ],
        },
        options: {
          indexAxis: 'y',
          plugins: { legend: { display: false } },
          scales: {
            x: { title: { display: true, text: `SHAP contribution${unit ? ` (${unit})` : ''}` } },
            y: { ticks: { callback: fittedLabel } },
          },
        },
      },
      'shap-chart',
    ),
  );
}

function featureValue(v: string | number | boolean | null): string {
  if (v === null) return 'missing';
  return typeof v === 'number' ? String(Number(v.toPrecision(4))) : String(v);
}

function evidence(pick: RecommendedConfig): HTMLElement {
  return h(
    'section',
    { 'aria-label': 'Evidence' },
    h('h3', {}, 'Evidence from past runs'),
    pick.evidence.length
      ? h(
          'ul',
          { class: 'cards', 'data-testid': 'evidence' },
          pick.evidence.map((e) =>
            h(
              'li',
              { class: 'card' },
              h(
                'p',
                { class: 'card-head' },
                h('code', {}, e.id),
                ` ${e.kind}${e.dataset ? ` · ${e.dataset}` : ''}`,
              ),
              h('p', { class: 'similarity' }, `similarity ${number(e.similarity, 2)}`),
              h('p', {}, e.summary),
            ),
          ),
        )
      : h('p', {}, 'No evidence was retrieved.'),
  );
}

function notices(rec: Recommendation): HTMLElement {
  return h(
    'section',
    { 'aria-label': 'Notices and justification' },
    h('h3', {}, 'Justification and notices'),
    h(
      'details',
      { class: 'justification' },
      h('summary', {}, `Full justification (${rec.justification.length} characters)`),
      h('p', {}, rec.justification),
    ),
    rec.unmet.length
      ? h(
          'ul',
          { class: 'warn' },
          rec.unmet.map((u) => h('li', {}, u.message)),
        )
      : null,
    rec.notices.length
      ? h(
          'ul',
          { class: 'notices' },
          rec.notices.map((n) => h('li', {}, n)),
        )
      : null,
    h(
      'p',
      { class: 'hint' },
      `Knowledge base ${rec.knowledgeBase.label}: ${rec.knowledgeBase.records} records, ${rec.knowledgeBase.datasets} datasets. ${lowerIsBetter(rec.metric) ? 'Lower is better.' : ''} Total ${number(rec.timingsMs.total, 0)} ms.`,
    ),
  );
}

function exportBox(rec: Recommendation): HTMLElement {
  const out = h('div', { class: 'export-files', 'aria-live': 'polite' });
  const show = async (format: 'optuna' | 'json' | 'yaml') => {
    try {
      const { files } = await postJson<{ files: { name: string; content: string }[] }>(
        '/v1/export',
        {
          recommendation: rec,
          format,
        },
      );
      const shown = files.map((file) => {
        const copyStatus = h('span', { class: 'hint', role: 'status' });
        const url = URL.createObjectURL(new Blob([file.content], { type: 'text/plain' }));
        return h(
          'div',
          { class: 'export-file' },
          h(
            'p',
            {},
            h('code', {}, file.name),
            ' ',
            h(
              'button',
              {
                type: 'button',
                class: 'secondary',
                onclick: async () => {
                  try {
                    await navigator.clipboard.writeText(file.content);
                    copyStatus.textContent = 'copied';
                  } catch {
                    copyStatus.textContent =
                      'the browser refused the clipboard: select the text below';
                  }
                },
              },
              `Copy ${file.name}`,
            ),
            ' ',
            h('a', { href: url, download: file.name }, 'download'),
            ' ',
            copyStatus,
          ),
          h('pre', { tabindex: 0, 'aria-label': file.name }, file.content),
        );
      });
      out.replaceChildren();
      for (const node of shown) out.append(node);
    } catch (err) {
      out.textContent = (err as Error).message;
    }
  };
  return h(
    'section',
    { 'aria-label': 'Export' },
    h('h3', {}, 'Copy the top-k'),
    h(
      'p',
      { class: 'actions' },
      h(
        'button',
        { type: 'button', class: 'secondary', onclick: () => void show('optuna') },
        'as Optuna enqueue script',
      ),
      h(
        'button',
        { type: 'button', class: 'secondary', onclick: () => void show('json') },
        'as JSON',
      ),
      h(
        'button',
        { type: 'button', class: 'secondary', onclick: () => void show('yaml') },
        'as YAML',
      ),
    ),
    out,
  );
}
