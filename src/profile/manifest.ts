import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { MetallmixError } from '../core/errors.ts';
import { readUtf8File } from '../core/files.ts';
import { profileFiles } from './profile-files.ts';
import type { LabeledFile, ManifestOptions, ProfileResult } from './types.ts';

const MAX_LISTED_ROWS = 10;

interface BadRow {
  line: number;
  column?: string;
  reason: string;
}

/**
 * Profiles the images listed in a CSV manifest with a header row naming the columns
 * `path` and `label` (optionally `split`; other columns are ignored). Paths are relative to
 * the manifest's folder. Malformed rows are errors naming their line; rows whose file is
 * missing or unreadable are skipped and listed with their line.
 */
export async function profileManifest(
  manifest: string,
  options: ManifestOptions = {},
): Promise<ProfileResult> {
  const rows = parseCsv(manifest, await readText(manifest));
  const [header, ...body] = rows;
  if (!header) {
    throw new MetallmixError('empty manifest: expected a header row path,label[,split]', {
      location: { file: manifest },
    });
  }
  const columns = header.record.map((c) => c.trim().toLowerCase());
  const index = (name: string): number => columns.indexOf(name);
  for (const required of ['path', 'label']) {
    if (index(required) < 0) {
      throw new MetallmixError(
        `header must name the columns path and label (optionally split), found "${header.record.join(',')}"`,
        { location: { file: manifest, line: header.line, column: required } },
      );
    }
  }
  const [pathColumn, labelColumn, split] = [index('path'), index('label'), index('split')];
  if (options.split !== undefined && split < 0) {
    throw new MetallmixError(`split "${options.split}" requested but there is no split column`, {
      location: { file: manifest, line: header.line },
    });
  }

  const base = path.dirname(path.resolve(manifest));
  const files: LabeledFile[] = [];
  const bad: BadRow[] = [];
  // A file listed twice would count twice: a manifest lists each image once.
  const listedAt = new Map<string, number>();
  for (const { record, line } of body) {
    if (record.length !== columns.length) {
      bad.push({ line, reason: `${record.length} fields, the header has ${columns.length}` });
      continue;
    }
    const file = record[pathColumn].trim();
    const label = record[labelColumn].trim();
    if (!file) bad.push({ line, column: 'path', reason: 'empty path' });
    else if (!label) bad.push({ line, column: 'label', reason: 'empty label' });
    else if (options.split === undefined || record[split].trim() === options.split) {
      const full = path.resolve(base, file);
      const earlier = listedAt.get(full);
      if (earlier !== undefined)
        bad.push({ line, column: 'path', reason: `the same file as line ${earlier}` });
      else {
        listedAt.set(full, line);
        files.push({ path: full, display: file, label, line });
      }
    }
  }
  if (bad.length) throw badRowsError(manifest, bad);
  if (files.length === 0) {
    const what = options.split === undefined ? 'no rows' : `no rows with split "${options.split}"`;
    throw new MetallmixError(`${what} after the header`, { location: { file: manifest } });
  }
  const classes = [...new Set(files.map((f) => f.label))];
  const defaultName = path.basename(manifest, path.extname(manifest));
  return profileFiles({ origin: manifest, defaultName, classes, files, skipped: [] }, options);
}

/** Manifests list files, one short line each; a larger file is not one. */
const MAX_MANIFEST_BYTES = 512 * 1024 * 1024;

async function readText(file: string): Promise<string> {
  return readUtf8File(file, 'the manifest', MAX_MANIFEST_BYTES);
}

function parseCsv(file: string, text: string): { record: string[]; line: number }[] {
  try {
    const rows = parse(text, {
      bom: true,
      info: true,
      relax_column_count: true,
      skip_empty_lines: true,
    }) as unknown as { record: string[]; info: { lines: number } }[];
    return rows.map((r) => ({ record: r.record, line: r.info.lines }));
  } catch (err) {
    const line = (err as { lines?: number }).lines;
    throw new MetallmixError(`invalid CSV: ${(err as Error).message}`, {
      location: { file, ...(line !== undefined ? { line } : {}) },
      cause: err,
    });
  }
}

function badRowsError(file: string, bad: BadRow[]): MetallmixError {
  const [first, ...rest] = bad;
  const listed = rest
    .slice(0, MAX_LISTED_ROWS - 1)
    .map((b) => `line ${b.line}${b.column ? ` column "${b.column}"` : ''}: ${b.reason}`);
  const more = rest.length > listed.length ? `; and ${rest.length - listed.length} more` : '';
  const others = listed.length
    ? `; ${bad.length} invalid rows in all: ${listed.join('; ')}${more}`
    : '';
  return new MetallmixError(`${first.reason}${others}`, {
    location: { file, line: first.line, ...(first.column ? { column: first.column } : {}) },
  });
}
