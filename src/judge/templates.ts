// Prompt templates are plain files so users can rewrite them without touching code: a file in
// the user's prompts directory replaces the default of the same name. Placeholders are
// `{{name}}`; each template has a fixed set of names, checked when the file is loaded so a typo
// fails before any model is called.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { packagePath } from '../core/package-files.ts';
import { MetallmixError } from '../core/errors.ts';
import { readTextFile } from '../core/text-file.ts';

/** What both the recommender and the judge see of the dataset, the search space and the evidence. */
const CONTEXT_PLACEHOLDERS = [
  'profile',
  'metric',
  'objective',
  'budget',
  'models',
  'space',
  'evidence',
  'insights',
  'shortlist',
  'citeExample',
] as const;

const RECOMMENDER_PLACEHOLDERS = [
  ...CONTEXT_PLACEHOLDERS,
  'schema',
  'feedback',
  'attempt',
  'maxAttempts',
] as const;

const JUDGE_PLACEHOLDERS = [
  ...CONTEXT_PLACEHOLDERS,
  'strategy',
  'proposal',
  'prediction',
  'schema',
] as const;

export type RecommenderPlaceholder = (typeof RECOMMENDER_PLACEHOLDERS)[number];
export type JudgePlaceholder = (typeof JUDGE_PLACEHOLDERS)[number];

/** Every template file and the placeholders it may use. */
export const TEMPLATE_PLACEHOLDERS = {
  'system.md': RECOMMENDER_PLACEHOLDERS,
  'context.md': RECOMMENDER_PLACEHOLDERS,
  'task-llm.md': RECOMMENDER_PLACEHOLDERS,
  'task-hybrid.md': RECOMMENDER_PLACEHOLDERS,
  'judge-system.md': JUDGE_PLACEHOLDERS,
  'judge-task.md': JUDGE_PLACEHOLDERS,
} as const;
export type TemplateName = keyof typeof TEMPLATE_PLACEHOLDERS;
export const TEMPLATE_NAMES = Object.keys(TEMPLATE_PLACEHOLDERS) as TemplateName[];

export interface PromptTemplate {
  name: TemplateName;
  /** Where the text came from, named in every error about it. */
  path: string;
  text: string;
}
export type PromptTemplates = Record<TemplateName, PromptTemplate>;

/** The package's own prompts/ folder. */
export const DEFAULT_PROMPTS_DIR = `${packagePath('prompts')}/`;

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;

/**
 * Checks that `text` uses only the placeholders allowed for `name`; throws a MetallmixError
 * naming the file, the line and the allowed names otherwise.
 */
export function parseTemplate(name: TemplateName, path: string, text: string): PromptTemplate {
  const allowed: readonly string[] = TEMPLATE_PLACEHOLDERS[name];
  for (const m of text.matchAll(PLACEHOLDER)) {
    if (!allowed.includes(m[1])) {
      const line = text.slice(0, m.index).split('\n').length;
      throw new MetallmixError(
        `unknown placeholder {{${m[1]}}} in prompt template ${name}; known placeholders: ${allowed
          .map((a) => `{{${a}}}`)
          .join(', ')}`,
        { location: { file: path, line } },
      );
    }
  }
  return { name, path, text };
}

/** Fills the placeholders of a template; a placeholder without a value is an error naming the file. */
export function renderTemplate(template: PromptTemplate, values: Record<string, string>): string {
  return template.text.replace(PLACEHOLDER, (whole, key: string, offset: number) => {
    const value = values[key];
    if (value === undefined) {
      const line = template.text.slice(0, offset).split('\n').length;
      throw new MetallmixError(`no value for placeholder ${whole} in prompt template`, {
        location: { file: template.path, line },
      });
    }
    return value;
  });
}

/**
 * Loads every template: from `promptsDir` when it holds a file of that name, from the package's
 * prompts/ folder otherwise. A `.md` file in `promptsDir` that is not a template name is an
 * error, so a misspelt override is never silently ignored.
 */
export function loadPromptTemplates(options: { promptsDir?: string } = {}): PromptTemplates {
  const userDir = options.promptsDir;
  if (userDir !== undefined) {
    if (!existsSync(userDir) || !statSync(userDir).isDirectory())
      throw new MetallmixError(`prompts directory does not exist or is not a directory`, {
        location: { file: userDir },
      });
    for (const file of readdirSync(userDir)) {
      if (file.endsWith('.md') && !(TEMPLATE_NAMES as string[]).includes(file))
        throw new MetallmixError(
          `not a prompt template name; expected one of ${TEMPLATE_NAMES.join(', ')}`,
          { location: { file: join(userDir, file) } },
        );
    }
  }
  const templates = {} as PromptTemplates;
  for (const name of TEMPLATE_NAMES) {
    const userPath = userDir !== undefined ? join(userDir, name) : undefined;
    const path = userPath && existsSync(userPath) ? userPath : join(DEFAULT_PROMPTS_DIR, name);
    templates[name] = parseTemplate(name, path, readTextFile(path, 'prompt template'));
  }
  return templates;
}
