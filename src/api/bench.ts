// `bench`: leave-one-dataset-out evaluation of strategies and baselines on any knowledge base.
import { z } from 'zod';
import {
  MetallmixError,
  Objective,
  parseWith,
  silentProgress,
  type Env,
  type ProgressFactory,
} from '../core/index.ts';
import { checkOutputFile, writeOutputFile } from '../core/files.ts';
import { runLodo, type BenchReport } from '../bench/lodo.ts';
import { DEFAULT_METHODS, HPO_NAMES, benchMethod } from '../bench/methods.ts';
import { renderHtmlReport } from '../bench/report-html.ts';
import { viewOf } from '../recommend/kb-view.ts';
import { checkRequest } from '../recommend/request.ts';
import { readLocator } from '../store/index.ts';
import { withKnowledgeBase } from './knowledge-base.ts';
import { languageModels, type LlmSetup } from './language-models.ts';

/** The options of a bench run, as --json and an HTTP body name them. */
export const BenchParams = z.strictObject({
  /** Method names (registry strategies, `NAME@TRIALS` HPO baselines); default DEFAULT_METHODS. */
  methods: z.array(z.string().min(1)).min(1).optional(),
  metric: z.string().min(1).optional(),
  objective: Objective.optional(),
  seeds: z.number().int().positive().optional(),
  /** Only these held-out datasets. */
  datasets: z.array(z.string().min(1)).min(1).optional(),
  includeMultilabel: z.boolean().optional(),
  maxAttempts: z.number().int().positive().optional(),
  llmJudge: z.boolean().optional(),
});
export type BenchParams = z.input<typeof BenchParams>;

export interface BenchInput extends BenchParams {
  kb?: string;
  /** false: without kb, the user's own knowledge base alone. */
  builtin?: boolean;
  /** Also write the HTML report here. */
  report?: string;
  /** The command as typed, shown at the top of the HTML report. */
  command?: string;
  llm?: LlmSetup;
  promptsDir?: string;
  env?: Env;
  progress?: ProgressFactory;
}

export { DEFAULT_METHODS };
/** HPO baselines, each run with a trial budget as NAME@TRIALS. */
export const HPO_BASELINES = Object.keys(HPO_NAMES);

export async function bench(input: BenchInput): Promise<BenchReport> {
  // The library call is checked as the HTTP body is (an empty --methods or --datasets list).
  parseWith(
    BenchParams.pick({ methods: true, datasets: true }),
    { methods: input.methods, datasets: input.datasets },
    { what: 'bench options' },
  );
  const metric = input.metric ?? 'accuracy';
  const seeds = input.seeds ?? 5;
  if (!Number.isInteger(seeds) || seeds < 1)
    throw new MetallmixError(`seeds must be a positive integer, got ${seeds}`, {
      location: { field: 'seeds' },
    });
  // A report that cannot be written fails before the benchmark runs, not after.
  if (input.report) checkOutputFile(input.report, 'the report');
  const models = languageModels(input.llm, input.env);
  try {
    const llmDeps = {
      llm: models.llm,
      judge: models.judge,
      reasoning: {
        llmJudge: input.llmJudge,
        maxAttempts: input.maxAttempts,
        promptsDir: input.promptsDir,
        seed: models.seed,
      },
    };
    const methods = (input.methods ?? DEFAULT_METHODS).map((m) => benchMethod(m, llmDeps));
    const view = await withKnowledgeBase(
      readLocator(input.kb, input.env, input),
      'read',
      input.env,
      async (kb) => viewOf(await kb.snapshot(), kb.label),
    );
    checkRequest(view, { metric });
    let progress = silentProgress;
    const report = await runLodo(view, {
      metric,
      objective: input.objective ?? 'best',
      methods,
      seeds,
      datasets: input.datasets,
      includeMultilabel: input.includeMultilabel,
      // The bar is sized once the number of held-out datasets is known.
      progress: {
        tick: (done, note) => progress.tick(done, note),
        finish: (note) => progress.finish(note),
      },
      onFolds: (count) => {
        if (input.progress) progress = input.progress('held-out datasets', count);
      },
    });
    if (input.report)
      writeOutputFile(
        input.report,
        renderHtmlReport(report, { command: input.command }),
        'the report',
      );
    return report;
  } finally {
    await models.close();
  }
}
