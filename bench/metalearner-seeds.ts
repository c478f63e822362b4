// How much of a leave-one-dataset-out regret is the meta-learner's seed. `metallmix bench` fits
// the meta-learner with one seed (0), so a change of settings, targets or blend rule can look
// better or worse by what another seed would have done anyway. This refits the held-out folds
// with several seeds (the dataset bootstrap of the members and the trees' row and column
// subsamples) for each settings variant and prints, per variant, the mean regret of each seed,
// their mean and spread, and the paired difference from the first variant over the same seeds.
//   plain:   the meta-learner's own pick (the effect ensemble's mean), as learner.ts fits it;
//   --blend: also the self-validating pick (inner validation on each fold's training knowledge
//            base, blend chosen from it, as the metalearner strategy does), about 11 fits per
//            fold instead of one.
//
// Run: node --import tsx bench/metalearner-seeds.ts --kb FILE [--seeds 4] [--blend]
//        [--variant '{"name":"d3","params":{"max_depth":3,"n_estimators":200}}' ...]
// A variant is JSON: name, and any of members, params (merged over the default GBDT params).
import { parseArgs } from 'node:util';
import { viewOf, withoutDataset, type KbView } from '../src/recommend/kb-view.ts';
import { openKnowledgeBase, readLocator } from '../src/store/index.ts';
import { LEARNER_DEFAULTS, type LearnerSettings } from '../src/recommend/quality/learner.ts';
import { innerCases } from '../src/recommend/quality/inner.ts';
import { chooseBlend } from '../src/recommend/quality/blend.ts';
import { blendOrder, predict, trainScorers } from '../src/recommend/quality/scorers.ts';
import { mean, runTable } from '../src/recommend/quality/table.ts';
import { maxOf } from '../src/core/arrays.ts';

const { values: args } = parseArgs({
  options: {
    kb: { type: 'string' },
    seeds: { type: 'string', default: '4' },
    blend: { type: 'boolean', default: false },
    variant: { type: 'string', multiple: true },
  },
});
const METRIC = 'accuracy';
interface Variant {
  name: string;
  members?: number;
  params?: Record<string, number>;
}
const variants: Variant[] = (args.variant ?? ['{"name":"default"}']).map((v) => JSON.parse(v));

const kb = await openKnowledgeBase(readLocator(args.kb), { mode: 'read' });
const view: KbView = viewOf(await kb.snapshot(), kb.label);
await kb.close();
const table = runTable(view, METRIC);
const held = table.datasets.filter(
  (d) => table.byDataset.get(d)!.length >= 2 && view.profiles.get(d)!.task !== 'multilabel',
);
const folds = held.map((d) => ({ dataset: d, train: withoutDataset(view, d) }));

function regretOf(truth: readonly number[], pick: number): number {
  return maxOf(truth) - truth[pick];
}

/** Mean regret over the held-out datasets of the plain and (with --blend) the blended pick. */
function evaluate(settings: LearnerSettings): { plain: number; blend?: number } {
  const plain: number[] = [];
  const blended: number[] = [];
  for (const fold of folds) {
    const runs = table.byDataset.get(fold.dataset)!;
    const candidates = runs.map((r) => ({ model: r.model, config: r.run.config }));
    const truth = runs.map((r) => r.y);
    const p = predict(
      trainScorers(fold.train, METRIC, settings),
      view.profiles.get(fold.dataset)!,
      candidates,
    );
    plain.push(regretOf(truth, blendOrder(p, { metalearner: 1, portfolio: 0, neighbors: 0 })[0]));
    if (args.blend) {
      const w = chooseBlend(innerCases(fold.train, METRIC, { settings })).weights;
      blended.push(regretOf(truth, blendOrder(p, w)[0]));
    }
  }
  return { plain: mean(plain), ...(args.blend ? { blend: mean(blended) } : {}) };
}

function spread(xs: readonly number[]): string {
  const m = mean(xs);
  const sd = Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / Math.max(1, xs.length - 1));
  return `mean ${m.toFixed(2)} sd ${sd.toFixed(2)}`;
}

const seeds = Array.from({ length: Number(args.seeds) }, (_, s) => s);
console.log(`${args.kb}: ${folds.length} held-out datasets, seeds ${seeds.join(',')}`);
const results = new Map<string, { plain: number[]; blend: number[] }>();
for (const v of variants) {
  const r = { plain: [] as number[], blend: [] as number[] };
  for (const seed of seeds) {
    const settings: LearnerSettings = {
      ...LEARNER_DEFAULTS,
      members: v.members ?? LEARNER_DEFAULTS.members,
      seed,
      params: { ...LEARNER_DEFAULTS.params, ...v.params },
    };
    const t0 = performance.now();
    const e = evaluate(settings);
    r.plain.push(e.plain);
    if (e.blend !== undefined) r.blend.push(e.blend);
    console.log(
      `${v.name} seed ${seed}: plain ${e.plain.toFixed(2)}` +
        (e.blend !== undefined ? `, blend ${e.blend.toFixed(2)}` : '') +
        ` (${((performance.now() - t0) / 1000).toFixed(0)} s)`,
    );
  }
  results.set(v.name, r);
  const first = results.get(variants[0].name)!;
  const diff = (a: number[], b: number[]) => spread(a.map((x, i) => x - b[i]));
  console.log(
    `== ${v.name}: plain ${spread(r.plain)}` +
      (args.blend ? `; blend ${spread(r.blend)}` : '') +
      (v === variants[0]
        ? ''
        : `; minus ${variants[0].name}: plain ${diff(r.plain, first.plain)}` +
          (args.blend ? `, blend ${diff(r.blend, first.blend)}` : '')),
  );
}
