// Text that fits the terminal: the width to lay out for, word wrapping, elision and tables whose
// wide columns shrink (with an ellipsis) instead of pushing the others off screen.
import type { CliIo } from './io.ts';
import { maxOf } from '../core/arrays.ts';

/** Width used when neither COLUMNS nor the stream says (a pipe, a file). */
export const DEFAULT_WIDTH = 100;
/** Narrower than this and nothing lays out sensibly; reports assume at least this. */
const MIN_WIDTH = 40;

/** COLUMNS from the face's environment, else the stream's own width, else DEFAULT_WIDTH. */
export function terminalWidth(io: CliIo): number {
  const fromEnv = Number.parseInt(io.env.COLUMNS ?? '', 10);
  const width =
    Number.isFinite(fromEnv) && fromEnv > 0 ? fromEnv : (io.stdout.columns ?? DEFAULT_WIDTH);
  return Math.max(MIN_WIDTH, width);
}

const ELLIPSIS = '…';

/** `text` cut to `width` characters, the cut marked with an ellipsis at the end. */
export function elideEnd(text: string, width: number): string {
  if (text.length <= width) return text;
  return width <= 1 ? ELLIPSIS.slice(0, width) : `${text.slice(0, width - 1)}${ELLIPSIS}`;
}

/** `text` cut to `width` characters in the middle, so both ends (a model's family and its tag) stay. */
export function elideMiddle(text: string, width: number): string {
  if (text.length <= width) return text;
  if (width <= 3) return elideEnd(text, width);
  const head = Math.ceil((width - 1) / 2);
  const tail = width - 1 - head;
  return `${text.slice(0, head)}${ELLIPSIS}${text.slice(text.length - tail)}`;
}

/**
 * Words of `text` as lines of at most `width` characters; `first` prefixes the first line and
 * `rest` (by default spaces as wide as `first`) the others. A word longer than a line is split.
 */
export function wrap(text: string, width: number, first = '', rest?: string): string[] {
  const indent = rest ?? ' '.repeat(first.length);
  const longest = Math.max(1, width - indent.length);
  const out: string[] = [];
  let line = first;
  let started = false;
  for (let word of text.split(/\s+/).filter(Boolean)) {
    const pieces: string[] = [];
    for (; word.length > longest; word = word.slice(longest)) pieces.push(word.slice(0, longest));
    pieces.push(word);
    for (const piece of pieces) {
      if (started && line.length + 1 + piece.length > width) {
        out.push(line);
        line = indent;
        started = false;
      }
      line = started ? `${line} ${piece}` : `${line}${piece}`;
      started = true;
    }
  }
  out.push(line);
  return out.map((l) => l.trimEnd());
}

export interface Column {
  header: string;
  /** How the column gives up width when the table is too wide: never, or by an ellipsis. */
  shrink?: 'none' | 'end' | 'middle';
  /** Narrowest the column shrinks to (default: its header, at least 6). */
  min?: number;
  /** Left out when the table still does not fit. */
  optional?: boolean;
  /** Columns of lower priority shrink and drop first (default 0). */
  priority?: number;
  /** Right-aligned (numbers). */
  right?: boolean;
}

const GAP = '  ';

/**
 * Rows as an aligned table at most `width` characters wide. While it is too wide, the column of
 * lowest priority that can still give up width does: a shrinkable one loses a character (its
 * cells get an ellipsis), an optional one at its minimum is left out. A table that cannot fit
 * is printed at its narrowest.
 */
export function fitTable(columns: Column[], rows: string[][], width: number): string {
  const natural = columns.map((c, i) =>
    Math.max(c.header.length, maxOf(rows.map((r) => (r[i] ?? '').length))),
  );
  const floor = columns.map((c, i) =>
    c.shrink && c.shrink !== 'none'
      ? Math.min(natural[i], c.min ?? Math.max(6, c.header.length))
      : natural[i],
  );
  const widths = natural.slice();
  const kept = columns.map(() => true);
  const total = () =>
    widths.reduce((sum, w, i) => sum + (kept[i] ? w + GAP.length : 0), 0) - GAP.length;
  while (total() > width) {
    let next = -1;
    columns.forEach((c, i) => {
      if (!kept[i] || (widths[i] <= floor[i] && !c.optional)) return;
      const p = c.priority ?? 0;
      const q = next < 0 ? Infinity : (columns[next].priority ?? 0);
      if (p < q || (p === q && widths[i] > widths[next])) next = i;
    });
    if (next < 0) break;
    if (widths[next] > floor[next]) widths[next] -= 1;
    else kept[next] = false;
  }
  // Leaving a column out may free more than was needed: give it back, highest priority first.
  const byPriority = columns
    .map((_, i) => i)
    .sort((a, b) => (columns[b].priority ?? 0) - (columns[a].priority ?? 0));
  for (const i of byPriority) {
    if (!kept[i]) continue;
    widths[i] += Math.max(0, Math.min(natural[i] - widths[i], width - total()));
  }
  for (const i of byPriority) {
    if (kept[i] || width - total() < floor[i] + GAP.length) continue;
    kept[i] = true;
    widths[i] = Math.min(natural[i], width - total() - GAP.length + widths[i]);
  }
  const cell = (text: string, i: number) => {
    const c = columns[i];
    const fitted =
      text.length <= widths[i]
        ? text
        : c.shrink === 'middle'
          ? elideMiddle(text, widths[i])
          : elideEnd(text, widths[i]);
    return c.right ? fitted.padStart(widths[i]) : fitted.padEnd(widths[i]);
  };
  const line = (cells: string[]) =>
    cells
      .map((t, i) => (kept[i] ? cell(t, i) : undefined))
      .filter((t) => t !== undefined)
      .join(GAP)
      .trimEnd();
  return [
    line(columns.map((c) => c.header)),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
  ].join('\n');
}
