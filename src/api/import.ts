// `import`: past runs from source files into a knowledge base through a mapping, in one
// transaction. Without a named knowledge base, the runs go to the user's own.
import type { Env, ProgressFactory } from '../core/index.ts';
import {
  importFiles,
  loadMapping,
  writeLocator,
  type ImportReport,
  type SourceFormat,
} from '../store/index.ts';
import { withKnowledgeBase } from './knowledge-base.ts';

export interface ImportInput {
  files: string[];
  /** Mapping file (data/README.md). */
  mapping: string;
  kb?: string;
  format?: SourceFormat;
  study?: string;
  skipInvalid?: boolean;
  /** Replace stored declarations that differ from the mapping's (an explicit migration). */
  redeclare?: boolean;
  env?: Env;
  progress?: ProgressFactory;
}

export type ImportResult = ImportReport & {
  /** No knowledge base was named: the runs went to the user's own at `knowledgeBase`. */
  defaultedKnowledgeBase: boolean;
};

export async function importRuns(input: ImportInput): Promise<ImportResult> {
  const { locator, defaulted } = writeLocator(input.kb, input.env);
  // The mapping is read (and checked) before the knowledge base is opened or created.
  const mapping = loadMapping(input.mapping);
  const report = await withKnowledgeBase(locator, 'write', input.env, (kb) =>
    importFiles(kb, input.files, mapping, {
      format: input.format,
      study: input.study,
      skipInvalid: input.skipInvalid,
      redeclare: input.redeclare,
      env: input.env,
      progress: input.progress,
    }),
  );
  return { ...report, defaultedKnowledgeBase: defaulted };
}
