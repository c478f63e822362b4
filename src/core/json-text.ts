// JSON from the user's files and cells, bounded: nesting deeper than a limit is refused before
// parsing (JSON.parse copes with any depth, but every recursive walk after it, JSON.stringify
// included, overflows the stack), and a syntax error names line and column without quoting the
// file's content (a mapping may point at a file that is not the user's to show).
import { MetallmixError, type ErrorLocation } from './errors.ts';

/** Deeper than anything metallmix reads (profiles, mappings, W&B configs) ever nests. */
export const MAX_JSON_DEPTH = 64;

/** Whether `text` nests arrays/objects deeper than `max` (strings are skipped; linear time). */
export function jsonNestsDeeper(text: string, max = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) i++;
        else if (d === 0x22) break;
      }
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/** 1-based line and column of a character offset. */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, column: offset - start + 1 };
}

/**
 * The reason JSON.parse gave, without the excerpt of the text V8 puts in some messages
 * (`Unexpected token 'r', "root:x:0:0"... is not valid JSON`), and the offset when it says one.
 */
export function jsonSyntaxReason(err: unknown): { reason: string; offset?: number } {
  const message = err instanceof Error ? err.message : String(err);
  const at = /at position (\d+)/.exec(message);
  const reason = message
    .replace(/,\s*".*$/s, '')
    .replace(/\s*in JSON at position \d+.*$/s, '')
    // The token quoted after "Unexpected token" is the file's; "Expected ',' or '}'" is V8's.
    .replace(/^(Unexpected token) '.*?'/, '$1')
    .trim();
  return { reason: reason || 'not valid JSON', ...(at ? { offset: Number(at[1]) } : {}) };
}

/**
 * Parses JSON text from `location` (a file, a line of it), refusing nesting deeper than
 * MAX_JSON_DEPTH; errors are MetallmixErrors naming the file, the line and the reason.
 */
export function parseJsonText(text: string, location: ErrorLocation & { what: string }): unknown {
  const { what, ...where } = location;
  if (jsonNestsDeeper(text))
    throw new MetallmixError(
      `${what} nests arrays or objects deeper than ${MAX_JSON_DEPTH} levels`,
      {
        location: where,
      },
    );
  try {
    return JSON.parse(text);
  } catch (err) {
    const { reason, offset } = jsonSyntaxReason(err);
    const pos = offset !== undefined ? lineAndColumn(text, offset) : undefined;
    const line =
      where.line !== undefined && pos ? where.line + pos.line - 1 : (pos?.line ?? where.line);
    throw new MetallmixError(
      `${what} is not valid JSON: ${reason}${pos ? ` (column ${pos.column})` : ''}`,
      { location: { ...where, ...(line !== undefined ? { line } : {}) }, cause: err },
    );
  }
}
