// Honest extrapolation (issue 9, item 4): every dataset meta-feature is checked against the
// knowledge base's range, also one the encoder drops because it never varies there, and the
// training-time ranges are those of the datasets whose times were recorded.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DatasetProfile, ExperimentRecord } from '../../src/core/index.ts';
import { summarize, type KbView } from '../../src/recommend/kb-view.ts';
import {
  DEFAULT_SETTINGS,
  fitMetaLearner,
  outsideKnowledge,
  outsideRanges,
} from '../../src/recommend/metalearner.ts';

function profile(name: string, numInstances: number, side = 28): DatasetProfile {
  return {
    name,
    task: 'multiclass',
    modality: 'xray',
    numInstances,
    numClasses: 4,
    resolution: {
      medianWidth: side,
      medianHeight: side,
      minWidth: side,
      minHeight: side,
      maxWidth: side,
      maxHeight: side,
    },
  };
}

// Three 28-px datasets of 1,000 to 4,000 images; training times recorded on the two smaller ones.
const sizes: [string, number, boolean][] = [
  ['D1', 1000, true],
  ['D2', 2000, true],
  ['D3', 4000, false],
];
const records = sizes.flatMap(([dataset, , timed], d) =>
  [0.001, 0.01, 0.1].map((lr, i): ExperimentRecord & { id: string } => ({
    id: `r${d}-${i}`,
    dataset,
    model: 'resnet18',
    config: { lr },
    metrics: { accuracy: 0.6 + 0.1 * i + 0.02 * d },
    cost: timed ? { trainingTimeSec: 60 * (i + 1) } : {},
    status: 'finished',
    provenance: { source: 'hand-made' },
  })),
);
const profiles = new Map(sizes.map(([d, n]) => [d, profile(d, n)]));
const view: KbView = {
  label: 'hand-made',
  version: 'extrapolation-test',
  records,
  profiles,
  cards: new Map(),
  catalogCards: [],
  space: {
    parameters: [{ name: 'lr', type: 'float', low: 1e-4, high: 1, log: true }],
  },
  summary: summarize(records, profiles),
};
const learner = fitMetaLearner(view, { ...DEFAULT_SETTINGS, metric: 'accuracy' });

test('a resolution constant in the knowledge base is dropped by the encoder but still checked', () => {
  assert.ok(!learner.encoder.features.some((f) => f.key === 'image_side'));
  assert.deepEqual(outsideKnowledge(learner, profile('new', 2000)), []);
  assert.deepEqual(outsideKnowledge(learner, profile('new', 2000, 640)), [
    "image_side 640 differs from the knowledge base's only value (28)",
  ]);
  assert.equal(outsideKnowledge(learner, profile('new', 9000)).length, 2); // size, per class
});

test('training-time ranges are those of the datasets with recorded times', () => {
  const size = learner.timedRanges!.filter((r) => r.feature === 'n_instances');
  assert.deepEqual(size, [{ feature: 'n_instances', low: 1000, high: 2000 }]);
  // 4,000 images is inside the knowledge base, but outside what the times were measured on.
  assert.deepEqual(outsideKnowledge(learner, profile('new', 4000)), []);
  assert.equal(outsideRanges(size, profile('new', 4000)).length, 1);
});
