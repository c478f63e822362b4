// What a file is, from its first bytes, said without quoting it: a knowledge base, an Optuna
// storage or another SQLite database, a compressed archive, text, or something else. Read before
// SQLite ever opens the file, so a file that is not ours is recognised without touching it.
import { closeSync, readSync } from 'node:fs';
import Database from 'better-sqlite3';
import { openRegularFile } from '../core/files.ts';

export type FileKind =
  | { kind: 'missing' }
  | { kind: 'empty' }
  | {
      kind: 'sqlite';
      /** The header's journal flag: a WAL file gets -wal and -shm files beside it when opened. */
      wal: boolean;
      userVersion: number;
      /** Table names from the schema, when the first pages hold all of it. */
      tables?: string[];
    }
  | { kind: 'other'; what: string };

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');
/** The schema of a metallmix knowledge base or an Optuna storage sits in its first pages. */
const PREFIX_BYTES = 1024 * 1024;

const MAGIC: [bytes: number[], what: string][] = [
  [[0x1f, 0x8b], 'a gzip-compressed file'],
  [[0x50, 0x4b, 0x03, 0x04], 'a zip archive'],
  [[0x42, 0x5a, 0x68], 'a bzip2-compressed file'],
  [[0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], 'an xz-compressed file'],
  [[0x28, 0xb5, 0x2f, 0xfd], 'a zstd-compressed file'],
  [[0x89, 0x50, 0x4e, 0x47], 'a PNG image'],
  [[0xff, 0xd8, 0xff], 'a JPEG image'],
  [[0x25, 0x50, 0x44, 0x46], 'a PDF document'],
];

function describeBytes(head: Buffer): string {
  for (const [bytes, what] of MAGIC) if (bytes.every((b, i) => head[i] === b)) return what;
  const sample = head.subarray(0, 4096);
  if (sample.includes(0)) return 'binary data of an unknown kind';
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(sample.subarray(0, lastCompleteChar(sample)));
  } catch {
    return 'binary data of an unknown kind';
  }
  const firstLine = sample.toString('utf8').split('\n', 1)[0];
  if (/^\s*[{[]/.test(firstLine)) return 'a JSON text file';
  return firstLine.includes(',') ? 'a text file (CSV?)' : 'a text file';
}

/** Length of `b` without a UTF-8 character cut off at its end. */
function lastCompleteChar(b: Buffer): number {
  for (let k = 1; k <= 3 && k <= b.length; k++) {
    const c = b[b.length - k];
    if ((c & 0xc0) === 0x80) continue;
    const need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    return need > k ? b.length - k : b.length;
  }
  return b.length;
}

function sqliteTables(prefix: Buffer): string[] | undefined {
  const pageSize = prefix.readUInt16BE(16) === 1 ? 65536 : prefix.readUInt16BE(16);
  const pages = Math.floor(prefix.length / pageSize);
  if (pages < 1) return undefined;
  // An in-memory copy of the first pages, marked as a rollback-journal database of that length.
  const image = Buffer.from(prefix.subarray(0, pages * pageSize));
  image[18] = 1;
  image[19] = 1;
  image.writeUInt32BE(pages, 28);
  let db: Database.Database | undefined;
  try {
    db = new Database(image, { readonly: true });
    return (
      db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as { name: string }[]
    ).map((t) => t.name);
  } catch {
    return undefined;
  } finally {
    db?.close();
  }
}

/** Reads the first bytes of `file` (a regular file; anything else throws) and says what it is. */
export function fileKind(file: string, what: string): FileKind {
  let opened: { fd: number; size: number };
  try {
    opened = openRegularFile(file, what);
  } catch (err) {
    if ((err as { cause?: { code?: string } }).cause?.code === 'ENOENT') return { kind: 'missing' };
    throw err;
  }
  const { fd, size } = opened;
  try {
    if (size === 0) return { kind: 'empty' };
    const head = Buffer.alloc(Math.min(size, PREFIX_BYTES));
    const n = readSync(fd, head, 0, head.length, 0);
    const bytes = head.subarray(0, n);
    const magic = bytes.subarray(0, 16);
    if (magic.equals(SQLITE_MAGIC.subarray(0, magic.length)) && n >= 6) {
      if (n < 100) return { kind: 'other', what: 'a truncated SQLite database' };
      const pageSize = bytes.readUInt16BE(16) === 1 ? 65536 : bytes.readUInt16BE(16);
      if (bytes.readUInt32BE(28) * pageSize > size)
        return {
          kind: 'other',
          what: 'a truncated SQLite database (shorter than its header says)',
        };
      return {
        kind: 'sqlite',
        wal: bytes[18] === 2 || bytes[19] === 2,
        userVersion: bytes.readUInt32BE(60),
        tables: sqliteTables(bytes),
      };
    }
    return { kind: 'other', what: describeBytes(bytes) };
  } finally {
    closeSync(fd);
  }
}

/** Whether a SQLite schema is an Optuna RDB storage's. */
export function isOptunaSchema(tables: readonly string[]): boolean {
  return ['studies', 'trials', 'trial_params', 'trial_values'].every((t) => tables.includes(t));
}
