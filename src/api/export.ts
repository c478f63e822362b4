// Writing recommended configurations where the user's tools pick them up (Optuna, ConfigSpace /
// SMAC, W&B sweeps, JSON, YAML). The search space comes from the knowledge base the
// recommendation was made on, so it is opened again (read-only) and checked to be unchanged.
import { statSync } from 'node:fs';
import path from 'node:path';
import { MetallmixError, type Env, type Recommendation } from '../core/index.ts';
import { writeOutputFile } from '../core/files.ts';
import {
  EXPORT_FILES,
  exportFiles,
  type ExportFile,
  type ExportFormat,
} from '../recommend/export.ts';
import { viewOf } from '../recommend/kb-view.ts';
import { readLocator } from '../store/index.ts';
import { withKnowledgeBase } from './knowledge-base.ts';

export {
  EXPORT_FILES,
  EXPORT_FORMATS,
  secondFileName,
  type ExportFile,
  type ExportFormat,
} from '../recommend/export.ts';

export interface ExportInput {
  recommendation: Recommendation;
  format: ExportFormat;
  /**
   * The file to write, as typed (no extension added); a directory (a trailing `/`, or one that
   * exists) gets the format's default name inside. Default: the default name here. A format with
   * two files derives the second's name from the first (see EXPORT_FILES).
   */
  out?: string;
  /** The knowledge base the recommendation was made on (default as for recommend). */
  kb?: string;
  /** The models the request was limited to (default: every model with finished runs). */
  models?: string[];
  env?: Env;
}

export interface ExportResult {
  files: { path: string; what: string }[];
  /** How to use what was written, one command or line of code. */
  usage?: string;
}

function mainPath(format: ExportFormat, out: string | undefined): string {
  const name = EXPORT_FILES[format].main;
  if (out === undefined || out === '') return name;
  if (out.endsWith('/') || out.endsWith(path.sep)) return path.join(out, name);
  try {
    if (statSync(out).isDirectory()) return path.join(out, name);
  } catch {
    // Not there yet: a file to create.
  }
  return out;
}

function usageOf(format: ExportFormat, files: string[], rec: Recommendation): string | undefined {
  const [main, second] = files;
  switch (format) {
    case 'optuna':
      return `python3 ${main} sqlite:///metallmix.db   # enqueues the ${rec.topK.length} trials; --n-trials N then runs N`;
    case 'configspace':
      return `cs = ConfigurationSpace.from_json("${main}"); initial = [Configuration(cs, values=v) for v in json.load(open("${second}"))]`;
    case 'wandb':
      return `wandb sweep ${main}   # the recommended configurations; then wandb sweep ${second}`;
    default:
      return undefined;
  }
}

/**
 * The export files of a recommendation, read against the knowledge base it was made on, without
 * writing them (for a face that hands them over itself).
 */
export async function exportContents(input: ExportInput): Promise<ExportFile[]> {
  const rec = input.recommendation;
  const { space, models } = await withKnowledgeBase(
    readLocator(input.kb, input.env),
    'read',
    input.env,
    async (kb) => {
      const view = viewOf(await kb.snapshot(), kb.label);
      if (view.version !== rec.knowledgeBase.version)
        throw new MetallmixError(
          `the knowledge base ${kb.label} is at version ${view.version}, the recommendation was made at ${rec.knowledgeBase.version}: recommend again before exporting`,
          { location: { field: 'knowledgeBase.version' } },
        );
      const finished = view.records.filter(
        (r) => r.status === 'finished' && r.metrics[rec.metric] !== undefined,
      );
      return {
        space: view.space,
        models: input.models ?? [...new Set(finished.map((r) => r.model))].sort(),
      };
    },
  );
  return exportFiles(rec, input.format, space, models, mainPath(input.format, input.out));
}

export async function exportRecommendation(input: ExportInput): Promise<ExportResult> {
  const files = await exportContents(input);
  // Bounded: no recursive mkdir (it never returns under /proc), no blocking on a FIFO.
  for (const file of files) writeOutputFile(file.name, file.content, 'the export');
  const paths = files.map((f) => f.name);
  const usage = usageOf(input.format, paths, input.recommendation);
  return {
    files: files.map((f) => ({ path: f.name, what: f.what })),
    ...(usage ? { usage } : {}),
  };
}
