// Command templates: `python train.py --data {dataset_dir} --lr {lr}` with placeholders for the
// model, the dataset, each hyperparameter and the trial, rendered so that no value is ever read
// by a shell as code.
//
// A template is one of two kinds, decided from its text alone:
// - argv: plain words with optional '...' / "..." quoting and backslash escapes, no shell syntax.
//   It is split into words here and run without a shell; a value is always exactly one word (or
//   part of one), whatever it holds.
// - shell: the template uses shell syntax (pipes, &&, ;, redirections, $VAR, globs, several
//   lines). It runs under /bin/sh, and each value is quoted for the context it stands in
//   (unquoted, inside '...', inside "..."). Command substitution ($( ) and backticks), ${...}
//   and here-documents are refused: quoting cannot be made safe inside them.
//
// Placeholders: `{name}`; `{name:-text}` renders `text` when the hyperparameter `name` is inactive
// in the configuration (a conditional parameter whose condition does not hold), which otherwise
// renders as the empty string; `{args}` expands to `--name value` for every active
// hyperparameter (as a whole word only); `{{` and `}}` are literal braces, as is `\{`.
import { MetallmixError, type Config, type ParamValue, type SearchSpace } from '../core/index.ts';

/** Placeholders every template may use, with what they stand for. */
export const FIXED_PLACEHOLDERS = {
  model: 'the model id of the configuration',
  dataset: 'the dataset name (the name its records carry)',
  dataset_dir: 'the image folder, absolute (given with --dataset)',
  manifest: 'the manifest file, absolute (given with --manifest)',
  trial: 'the trial number, 1, 2, ...',
  result_file: 'where the trial may write its result JSON (also in $METALLMIX_RESULT_FILE)',
  run_dir: 'the folder of the run (state, logs, results)',
  run_name: 'the name of the run',
  seed: 'the seed of the run (--seed)',
  metric: 'the metric the run optimizes',
  args: '--name value for every active hyperparameter, as separate words',
  config_json: 'the configuration as one JSON object',
} as const;
export type FixedPlaceholder = keyof typeof FIXED_PLACEHOLDERS;

type Segment =
  | { kind: 'text'; text: string }
  | {
      kind: 'placeholder';
      name: string;
      fallback?: string;
      /** Shell mode: the quoting the placeholder stands in. */
      context: 'unquoted' | 'single' | 'double';
      /** Shell mode: it makes a whole unquoted word (needed for {args}). */
      wholeWord: boolean;
    };

export interface CommandTemplate {
  source: string;
  kind: 'argv' | 'shell';
  /** argv: the words; shell: one list of segments, text kept as written. */
  words: Segment[][];
  /** Every placeholder name used, in order of first use. */
  placeholders: string[];
}

const SHELL_META = new Set(['|', '&', ';', '<', '>', '(', ')', '$', '`', '*', '?', '[']);

function templateError(index: number, reason: string): MetallmixError {
  return new MetallmixError(`${reason} (at character ${index + 1} of the command template)`, {
    location: { field: 'command' },
  });
}

/** Reads `{...}` at src[i] === '{' (not `{{`); returns the placeholder and the index after it. */
function readPlaceholder(src: string, i: number): { name: string; fallback?: string; end: number } {
  const close = src.indexOf('}', i + 1);
  if (close < 0) throw templateError(i, 'unclosed "{"; write {{ for a literal brace, or {name}');
  const body = src.slice(i + 1, close);
  const sep = body.indexOf(':-');
  const name = (sep >= 0 ? body.slice(0, sep) : body).trim();
  if (!/^[^\s{}:]+$/.test(name))
    throw templateError(
      i,
      `"{${body}}" is not a placeholder; write {name} or {name:-default}, and {{ for a literal brace`,
    );
  return { name, ...(sep >= 0 ? { fallback: body.slice(sep + 2) } : {}), end: close + 1 };
}

/** Splits an argv template into words; returns undefined when it needs a shell. */
function parseArgv(src: string): Segment[][] | undefined {
  const words: Segment[][] = [];
  let word: Segment[] | undefined;
  let state: 'unquoted' | 'single' | 'double' = 'unquoted';
  const text = (c: string) => {
    word ??= [];
    const last = word[word.length - 1];
    if (last?.kind === 'text') last.text += c;
    else word.push({ kind: 'text', text: c });
  };
  const endWord = () => {
    if (word) words.push(word);
    word = undefined;
  };
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === '{' && src[i + 1] !== '{') {
      const p = readPlaceholder(src, i);
      word ??= [];
      word.push({
        kind: 'placeholder',
        name: p.name,
        ...(p.fallback !== undefined ? { fallback: p.fallback } : {}),
        context: state,
        wholeWord: false,
      });
      i = p.end - 1;
      continue;
    }
    if (c === '{' || (c === '}' && src[i + 1] === '}')) {
      text(c);
      i++;
      continue;
    }
    if (state === 'single') {
      if (c === "'") state = 'unquoted';
      else text(c);
      continue;
    }
    if (state === 'double') {
      if (c === '"') state = 'unquoted';
      else if (c === '$' || c === '`') return undefined;
      else if (c === '\\' && i + 1 < src.length && '$`"\\\n'.includes(src[i + 1]!)) {
        if (src[i + 1] !== '\n') text(src[i + 1]!);
        i++;
      } else text(c);
      continue;
    }
    if (c === ' ' || c === '\t') endWord();
    else if (c === "'" || c === '"') {
      word ??= [];
      state = c === "'" ? 'single' : 'double';
    } else if (c === '\\') {
      if (i + 1 >= src.length) return undefined;
      if (src[i + 1] !== '\n') text(src[i + 1]!);
      i++;
    } else if (c === '\n' || SHELL_META.has(c)) return undefined;
    else if (!word && (c === '#' || c === '~')) return undefined;
    else text(c);
  }
  if (state !== 'unquoted')
    throw templateError(src.length - 1, `unterminated ${state}-quoted string`);
  endWord();
  // A leading NAME=value word is a shell variable assignment.
  const first = words[0]?.[0];
  if (first?.kind === 'text' && /^[A-Za-z_][A-Za-z0-9_]*=/.test(first.text)) return undefined;
  return words;
}

/** A shell template as segments: text exactly as written, placeholders with their context. */
function parseShell(src: string): Segment[] {
  const out: Segment[] = [];
  const text = (t: string) => {
    const last = out[out.length - 1];
    if (last?.kind === 'text') last.text += t;
    else out.push({ kind: 'text', text: t });
  };
  let state: 'unquoted' | 'single' | 'double' = 'unquoted';
  const refuse = (i: number, what: string) =>
    templateError(
      i,
      `${what} cannot hold a placeholder safely; put that logic in a script and call the script from the template`,
    );
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === '{' && src[i + 1] !== '{') {
      if (src[i - 1] === '$')
        throw templateError(
          i,
          `\${...} is shell parameter expansion: write $NAME for a shell variable, or {name} (without $) for a placeholder`,
        );
      const p = readPlaceholder(src, i);
      const before = i === 0 ? ' ' : src[i - 1]!;
      const after = p.end >= src.length ? ' ' : src[p.end]!;
      out.push({
        kind: 'placeholder',
        name: p.name,
        ...(p.fallback !== undefined ? { fallback: p.fallback } : {}),
        context: state,
        wholeWord: state === 'unquoted' && /[\s;&|()]/.test(before) && /[\s;&|()<>]/.test(after),
      });
      i = p.end - 1;
      continue;
    }
    if (c === '{' || (c === '}' && src[i + 1] === '}')) {
      text(c);
      i++;
      continue;
    }
    if (state === 'single') {
      if (c === "'") state = 'unquoted';
      text(c);
      continue;
    }
    if (c === '`') throw refuse(i, 'command substitution with backticks');
    if (c === '$' && src[i + 1] === '(') throw refuse(i, 'command substitution $( )');
    if (c === '$' && (src[i + 1] === "'" || src[i + 1] === '"'))
      throw refuse(i, `$${src[i + 1]}...${src[i + 1]} quoting`);
    if (state === 'double') {
      if (c === '"') state = 'unquoted';
      if (c === '\\' && i + 1 < src.length) {
        text(c + src[i + 1]!);
        i++;
        continue;
      }
      text(c);
      continue;
    }
    if (c === '<' && src[i + 1] === '<') throw refuse(i, 'a here-document');
    if (c === "'") state = 'single';
    else if (c === '"') state = 'double';
    else if (c === '\\' && i + 1 < src.length) {
      // An escaped character, a brace included, is literal and never starts a placeholder.
      text(c + src[i + 1]!);
      i++;
      continue;
    }
    text(c);
  }
  if (state !== 'unquoted')
    throw templateError(src.length - 1, `unterminated ${state}-quoted string`);
  return out;
}

export function parseTemplate(source: string): CommandTemplate {
  if (source.trim() === '')
    throw new MetallmixError('the command template is empty', { location: { field: 'command' } });
  const argv = parseArgv(source);
  const words = argv ?? [parseShell(source)];
  const placeholders: string[] = [];
  for (const w of words)
    for (const s of w)
      if (s.kind === 'placeholder' && !placeholders.includes(s.name)) placeholders.push(s.name);
  if (argv) {
    if (argv.length === 0)
      throw new MetallmixError('the command template has no words', {
        location: { field: 'command' },
      });
    for (const w of argv)
      if (w.some((s) => s.kind === 'placeholder' && s.name === 'args') && w.length > 1)
        throw new MetallmixError('{args} must stand alone as a word (it expands to several)', {
          location: { field: 'command' },
        });
  } else {
    for (const s of words[0]!)
      if (s.kind === 'placeholder' && s.name === 'args' && !s.wholeWord)
        throw new MetallmixError('{args} must stand alone as an unquoted word', {
          location: { field: 'command' },
        });
  }
  return { source, kind: argv ? 'argv' : 'shell', words, placeholders };
}

/** What the template may name besides the hyperparameters, and what it must name. */
export interface TemplateContext {
  space: SearchSpace;
  /** Fixed placeholders that have no value in this run (e.g. dataset_dir without a folder). */
  unavailable?: Partial<Record<FixedPlaceholder, string>>;
  /** The models the run may propose; with more than one, {model} is required. */
  models: readonly string[];
}

/**
 * Checks a template against the search space before anything runs. An unknown placeholder is an
 * error naming it; so is a hyperparameter of the space that the command never receives (its
 * record would claim a value the training did not use), unless {args} or {config_json} passes
 * every one; and {model} when the run may propose more than one model.
 */
export function checkTemplate(template: CommandTemplate, context: TemplateContext): string[] {
  const params = new Set(context.space.parameters.map((p) => p.name));
  const used = new Set(template.placeholders);
  for (const name of template.placeholders) {
    if (params.has(name)) continue;
    if (!(name in FIXED_PLACEHOLDERS)) {
      const known = [...Object.keys(FIXED_PLACEHOLDERS), ...params];
      throw new MetallmixError(
        `unknown placeholder {${name}} in the command template; known: ${known.map((k) => `{${k}}`).join(', ')}${/^[A-Z_][A-Z0-9_]*$/.test(name) ? `; for a shell variable write $${name}` : ''}`,
        { location: { field: 'command' } },
      );
    }
    const why = context.unavailable?.[name as FixedPlaceholder];
    if (why)
      throw new MetallmixError(`{${name}} has no value in this run: ${why}`, {
        location: { field: 'command' },
      });
  }
  const notices: string[] = [];
  if (!used.has('args') && !used.has('config_json')) {
    const missing = context.space.parameters.map((p) => p.name).filter((n) => !used.has(n));
    if (missing.length)
      throw new MetallmixError(
        `the command template does not pass ${missing.map((m) => `{${m}}`).join(', ')}, hyperparameter${missing.length > 1 ? 's' : ''} of the search space: a trial's record would claim values its training never received. Add ${missing.map((m) => `--${m} {${m}}`).join(' ')} (or {args} for every hyperparameter as --name value), or restrict the run with --models / --no-builtin`,
        { location: { field: 'command' } },
      );
  }
  if (!used.has('model') && context.models.length > 1)
    throw new MetallmixError(
      `the command template has no {model}, but the run may propose ${context.models.length} models (${context.models.slice(0, 8).join(', ')}${context.models.length > 8 ? ', ...' : ''}); add {model} or pick one with --models`,
      { location: { field: 'command' } },
    );
  for (const name of template.placeholders)
    if (params.has(name) && name in FIXED_PLACEHOLDERS)
      notices.push(`{${name}} is the hyperparameter ${name}, not the run's own ${name}`);
  return notices;
}

/** The values one trial renders. */
export interface TemplateValues {
  model: string;
  config: Config;
  /** Values of the fixed placeholders (as text), except model, args and config_json. */
  fixed: Partial<Record<FixedPlaceholder, string>>;
  /** Declared order of the hyperparameters, for {args}. */
  order: readonly string[];
}

/** A rendered command: argv words run without a shell, or a script for /bin/sh. */
export type RenderedCommand = { kind: 'argv'; argv: string[] } | { kind: 'shell'; script: string };

export function valueText(v: ParamValue): string {
  return typeof v === 'string' ? v : String(v);
}

function argsWords(values: TemplateValues): string[] {
  const keys = [
    ...values.order.filter((k) => k in values.config),
    ...Object.keys(values.config).filter((k) => !values.order.includes(k)),
  ];
  return keys.flatMap((k) => [`--${k}`, valueText(values.config[k]!)]);
}

function placeholderText(
  s: Extract<Segment, { kind: 'placeholder' }>,
  values: TemplateValues,
): string {
  if (s.name in values.config) return valueText(values.config[s.name]!);
  if (s.name === 'model') return values.model;
  if (s.name === 'config_json') return JSON.stringify(values.config);
  const fixed = values.fixed[s.name as FixedPlaceholder];
  if (fixed !== undefined && !values.order.includes(s.name)) return fixed;
  // An inactive hyperparameter.
  return s.fallback ?? '';
}

/** POSIX sh single quoting: safe for any bytes, newlines included. */
export function shQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export function renderTemplate(template: CommandTemplate, values: TemplateValues): RenderedCommand {
  if (template.kind === 'argv') {
    const argv: string[] = [];
    for (const word of template.words) {
      const only = word[0];
      if (word.length === 1 && only?.kind === 'placeholder' && only.name === 'args') {
        argv.push(...argsWords(values));
        continue;
      }
      argv.push(
        word.map((s) => (s.kind === 'text' ? s.text : placeholderText(s, values))).join(''),
      );
    }
    return { kind: 'argv', argv };
  }
  let script = '';
  for (const s of template.words[0]!) {
    if (s.kind === 'text') {
      script += s.text;
      continue;
    }
    if (s.name === 'args') {
      script += argsWords(values)
        .map((w) => `'${w.replace(/'/g, `'\\''`)}'`)
        .join(' ');
      continue;
    }
    const v = placeholderText(s, values);
    if (s.context === 'single') script += v.replace(/'/g, `'\\''`);
    else if (s.context === 'double') script += v.replace(/[\\"$`]/g, '\\$&');
    else script += `'${v.replace(/'/g, `'\\''`)}'`;
  }
  return { kind: 'shell', script };
}

/** The command as one line of sh: what a record's provenance and the logs show. */
export function commandText(command: RenderedCommand): string {
  return command.kind === 'argv' ? command.argv.map(shQuote).join(' ') : command.script;
}
