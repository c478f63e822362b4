// The records of the content-version tests (SQLite and PostgreSQL): run i of three datasets,
// each with its own learning rate and run id, so every record has a distinct id.
import type { ExperimentRecord } from '../../src/core/index.ts';

export const run = (i: number): ExperimentRecord => ({
  dataset: `d${i % 3}`,
  model: 'resnet18',
  config: { lr: i / 1000 },
  metrics: { accuracy: i / 100 },
  cost: {},
  status: 'finished',
  provenance: { source: 'x.csv', runId: String(i) },
});
