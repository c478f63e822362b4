// `recommend`: a dataset in, a Recommendation out, on any knowledge base, with or without an
// LLM. The request options are one zod schema, so every face validates them alike.
import { z } from 'zod';
import {
  DatasetProfile,
  locations,
  Modality,
  Objective,
  parseWith,
  silentProgressFactory,
  type Env,
  type ProgressFactory,
  type Recommendation,
} from '../core/index.ts';
import { supportedView } from '../recommend/candidates.ts';
import { retrievalEvidence } from '../recommend/evidence.ts';
import { loadOrBuildView } from '../recommend/cache.ts';
import { metaLearnerSource } from '../recommend/metalearner-source.ts';
import { renamedView, type KbView } from '../recommend/kb-view.ts';
import { recommendOnView } from '../recommend/pipeline.ts';
import type { StrategyDeps } from '../recommend/types.ts';
import { AUTO, STRATEGY_NAMES } from '../recommend/registry.ts';
import { readLocator } from '../store/index.ts';
import { continueOnView, observedRuns } from './continuation.ts';
import { resolveDataset, type DatasetInput } from './dataset.ts';
import { layerNotices, withKnowledgeBase } from './knowledge-base.ts';
import {
  embedderFor,
  languageModels,
  type EmbedderSetup,
  type LlmSetup,
} from './language-models.ts';
import { withThousands } from '../core/numbers.ts';

/** The options of a recommendation request, as --json and an HTTP body name them. */
export const RecommendParams = z.strictObject({
  metric: z.string().min(1).default('accuracy'),
  objective: Objective.default('best'),
  budgetMinutes: z.number().positive().optional(),
  topK: z.number().int().positive().default(5),
  seed: z.number().int().default(0),
  strategy: z.enum([AUTO, ...STRATEGY_NAMES] as [string, ...string[]]).default(AUTO),
  /** Only these models (ids from the knowledge base's catalog). */
  models: z.array(z.string().min(1)).min(1).optional(),
  /** LLM attempts before falling back to the meta-learner. */
  maxAttempts: z.number().int().positive().default(3),
  /** false: check LLM answers with the rules only. */
  llmJudge: z.boolean().default(true),
});
export type RecommendParams = z.input<typeof RecommendParams>;

/**
 * A recommendation request over HTTP: the options above with the dataset's profile. A manifest
 * (or an archive of images) comes as a multipart upload instead, with these options beside it.
 */
export const RecommendRequest = RecommendParams.extend({
  profile: DatasetProfile.describe('the dataset profile (`metallmix schema DatasetProfile`)'),
  /** Overrides the modality of the profile. */
  modality: Modality.optional(),
});
export type RecommendRequest = z.input<typeof RecommendRequest>;

export interface RecommendInput extends RecommendParams {
  dataset: DatasetInput;
  kb?: string;
  /** false: without kb, read the user's own knowledge base alone (no built-in runs). */
  builtin?: boolean;
  /** Use (and fill) the cache of trained meta-learners; default true. */
  cache?: boolean;
  llm?: LlmSetup;
  /** Directory of prompt templates replacing the built-in ones. */
  promptsDir?: string;
  embedder?: EmbedderSetup;
  env?: Env;
  progress?: ProgressFactory;
  /**
   * A results file (CSV/JSONL in `metallmix record`'s columns) of runs on this dataset, continued
   * like the knowledge base's own runs of it.
   */
  observed?: string;
  /** false: answer zero-shot even when the dataset already has results. */
  continuation?: boolean;
}

/**
 * Records a recommendation reads at most: a larger knowledge base is sampled (the records with
 * the smallest ids, a deterministic uniform sample), so 4 M runs train in bounded memory.
 */
export const MAX_TRAINING_RECORDS = 200_000;

function catalogNotice(models: string[]): string[] {
  if (models.length === 0) return [];
  const listed =
    models.length > 5
      ? `${models.slice(0, 5).join(', ')} and ${models.length - 5} more`
      : models.join(', ');
  return [
    `The knowledge base has no model card for ${listed}; the shipped model catalog's cards were used (\`metallmix models NAME\` shows them).`,
  ];
}

export async function recommend(input: RecommendInput): Promise<Recommendation> {
  const {
    dataset,
    kb,
    builtin,
    cache,
    llm,
    promptsDir,
    embedder,
    env,
    progress,
    observed: observedFile,
    continuation,
    ...rest
  } = input;
  const params = parseWith(RecommendParams, rest, { what: 'recommendation request' });
  const resolved = await resolveDataset(dataset, progress ?? silentProgressFactory);
  // Settings that can fail are read before anything is opened, so nothing is left open.
  const chosenEmbedder = await embedderFor(embedder, env);
  const models = languageModels(llm, env);
  try {
    return await withKnowledgeBase(readLocator(kb, env, { builtin }), 'read', env, async (base) => {
      const t0 = performance.now();
      const cacheDir = cache === false ? undefined : locations(env).cacheDir;
      const loaded = await loadOrBuildView(base, cacheDir, { maxRecords: MAX_TRAINING_RECORDS });
      const sampled =
        loaded.totalRecords !== undefined
          ? [
              `The knowledge base holds ${withThousands(loaded.totalRecords)} runs; the meta-learner and the candidates use a deterministic sample of ${withThousands(loaded.view.summary.records)} (the runs with the smallest ids, a uniform sample).`,
            ]
          : [];
      const supported = params.models
        ? { view: loaded.view, notices: [] }
        : supportedView(loaded.view, resolved.profile, params.metric);
      const view = supported.view;
      const loadMs = performance.now() - t0;
      const { maxAttempts, llmJudge, ...request } = params;
      // The answer names the knowledge base's own version (exports check it); the meta-learner
      // and the index of a view that left runs out are cached under the view's own version.
      const depsFor = (on: KbView): StrategyDeps => {
        const metaLearners = metaLearnerSource(on, { cacheDir });
        return {
          metaLearners,
          evidence: retrievalEvidence(on, metaLearners, {
            indexLocation: base.indexLocation,
            embedder: chosenEmbedder,
          }),
          llm: models.llm,
          judge: models.judge,
          reasoning: { maxAttempts, llmJudge, promptsDir, seed: models.seed },
        };
      };
      // Results of this dataset already in hand make the answer a continuation of them.
      const observed =
        continuation === false
          ? undefined
          : await observedRuns(
              view,
              resolved.profile.name,
              params.metric,
              observedFile,
              observedFile === undefined ? [] : (await base.snapshot()).hyperparameters,
            );
      // The answer names the knowledge base itself, its label and version (exports check the
      // version); the notices say which of its runs were left out.
      const kbView = renamedView(view, loaded.view.label, loaded.view.version);
      const rec = observed?.runs.length
        ? await continueOnView(kbView, resolved.profile, request, depsFor, observed)
        : await recommendOnView(kbView, resolved.profile, request, depsFor(view));
      return {
        ...rec,
        notices: [
          ...resolved.notices,
          ...layerNotices(base),
          ...sampled,
          ...supported.notices,
          ...catalogNotice(view.catalogCards),
          ...rec.notices,
        ],
        counters: { ...rec.counters, viewCache: loaded.cache },
        timingsMs: {
          profile: resolved.ms,
          knowledgeBase: loadMs,
          ...rec.timingsMs,
          total: performance.now() - t0,
        },
      };
    });
  } finally {
    await models.close();
  }
}
