// Builds the built-in starter knowledge base in data/builtin/ from the MedMNIST fine-tuning
// study: per dataset x backbone x strategy configuration, the mean and sample std over seeds of
// accuracy, AUC, F1 and training time, with the run count. This aggregate table is the only
// derived copy of ../shared/metadata the project commits (see data/builtin/README.md).
//
//   node --import tsx scripts/build-starter-kb.ts [path/to/all_datasets_summary.csv]
import { copyFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  importFiles,
  loadMapping,
  openKnowledgeBase,
  type StoredRecord,
} from '../src/store/index.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = path.join(root, 'data', 'builtin');
const studyDir = path.join(root, 'data', 'medmnist');

const STRATEGY_ORDER = ['LP', 'partial', 'full'];

function meanStd(values: number[]): [number, number] | undefined {
  if (values.length === 0) return undefined;
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  const variance =
    values.length > 1 ? values.reduce((s, v) => s + (v - mean) ** 2, 0) / (values.length - 1) : 0;
  return [mean, Math.sqrt(variance)];
}

/** The aggregate table (CSV text) of the MedMNIST study file at `source`. */
export async function buildAggregateTable(source: string): Promise<{ csv: string; rows: number }> {
  const kb = await openKnowledgeBase(':memory:', { mode: 'write' });
  await importFiles(kb, [source], loadMapping(path.join(studyDir, 'mapping.json')));
  const groups = new Map<string, StoredRecord[]>();
  for (const r of await kb.records({ status: 'finished' })) {
    const key = JSON.stringify([
      r.dataset,
      r.model,
      r.config.strategy,
      r.config.unfreeze_pct ?? '',
      r.config.direction ?? '',
    ]);
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }

  const fmt = (v: number | undefined, digits: number) =>
    v === undefined ? '' : String(Number(v.toFixed(digits)));
  const header = [
    'dataset',
    'backbone',
    'strategy',
    'unfreeze_pct',
    'direction',
    'runs',
    'accuracy_mean',
    'accuracy_std',
    'auc_mean',
    'auc_std',
    'f1_mean',
    'f1_std',
    'training_time_sec_mean',
    'training_time_sec_std',
    'epochs_mean',
  ];
  const rows = [...groups.entries()]
    .map(([key, records]) => ({ key: JSON.parse(key) as (string | number)[], records }))
    .sort((a, b) => {
      const [da, ma, sa, ua, ra] = a.key;
      const [db, mb, sb, ub, rb] = b.key;
      return (
        String(da).localeCompare(String(db)) ||
        String(ma).localeCompare(String(mb)) ||
        STRATEGY_ORDER.indexOf(String(sa)) - STRATEGY_ORDER.indexOf(String(sb)) ||
        Number(ua || 0) - Number(ub || 0) ||
        String(ra).localeCompare(String(rb))
      );
    })
    .map(({ key, records }) => {
      const stat = (pick: (r: StoredRecord) => number | undefined) =>
        meanStd(records.map(pick).filter((v): v is number => v !== undefined));
      const acc = stat((r) => r.metrics.accuracy);
      const auc = stat((r) => r.metrics.auc);
      const f1 = stat((r) => r.metrics.f1);
      const time = stat((r) => r.cost.trainingTimeSec);
      const epochs = stat((r) => r.cost.epochs);
      return [
        ...key.map(String),
        String(records.length),
        fmt(acc?.[0], 6),
        fmt(acc?.[1], 6),
        fmt(auc?.[0], 6),
        fmt(auc?.[1], 6),
        fmt(f1?.[0], 6),
        fmt(f1?.[1], 6),
        fmt(time?.[0], 2),
        fmt(time?.[1], 2),
        fmt(epochs?.[0], 1),
      ].join(',');
    });
  await kb.close();
  return { csv: `${[header.join(','), ...rows].join('\n')}\n`, rows: rows.length };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const source =
    process.argv[2] ??
    path.join(
      root,
      '..',
      'shared',
      'metadata',
      'medmnist-finetune-strategies',
      'all_datasets_summary.csv',
    );
  const { csv, rows } = await buildAggregateTable(source);
  writeFileSync(path.join(out, 'medmnist-aggregate.csv'), csv);
  copyFileSync(path.join(studyDir, 'profiles.json'), path.join(out, 'profiles.json'));
  copyFileSync(path.join(studyDir, 'models.json'), path.join(out, 'models.json'));
  process.stdout.write(
    `wrote ${rows} configurations to ${path.join(out, 'medmnist-aggregate.csv')}\n`,
  );
}
