// The built-in starter knowledge base (data/builtin: MedMNIST aggregates), used when no
// knowledge base is named: an in-memory copy of a database built once from the committed table
// and cached in the cache directory by a hash of everything it is built from.
import { readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ensureDirectory } from '../core/files.ts';
import { packagePath } from '../core/package-files.ts';
import Database from 'better-sqlite3';
import { sha256 } from './fingerprint.ts';
import { importFiles } from './import.ts';
import { loadMapping } from './mapping.ts';
import { SqliteKnowledgeBase, configure } from './sqlite/knowledge-base.ts';
import { SCHEMA_VERSION, migrate, schemaVersion } from './sqlite/migrations.ts';

export const BUILTIN_LABEL = 'builtin:medmnist';
const BUILTIN_DIR = packagePath('data', 'builtin');
const INPUTS = ['medmnist-aggregate.csv', 'mapping.json', 'profiles.json', 'models.json'];
/** The code that turns the inputs into the database: a change rebuilds the image. */
const CODE = [
  'convert.ts',
  'mapping.ts',
  'sources.ts',
  'source-table.ts',
  'fingerprint.ts',
  'derived.ts',
  'sqlite/knowledge-base.ts',
  'sqlite/migrations.ts',
];

/** Images already read in this process, by cache file. */
const images = new Map<string, Buffer>();

function imageFile(cacheDir: string): string {
  const inputs = [
    ...INPUTS.map((f) => path.join(BUILTIN_DIR, f)),
    ...CODE.map((f) => packagePath('src', 'store', f)),
  ];
  const hash = sha256(inputs.map((f) => readFileSync(f, 'utf8')).join('\0')).slice(0, 16);
  return path.join(cacheDir, `builtin-${hash}.sqlite`);
}

async function buildImage(): Promise<Buffer> {
  const db = new Database(':memory:');
  configure(db);
  migrate(db, BUILTIN_LABEL);
  const kb = new SqliteKnowledgeBase(db, BUILTIN_LABEL, 'builtin', { kind: 'memory' });
  await importFiles(
    kb,
    [path.join(BUILTIN_DIR, 'medmnist-aggregate.csv')],
    loadMapping(path.join(BUILTIN_DIR, 'mapping.json')),
    { sourceLabel: `${BUILTIN_LABEL}/medmnist-aggregate.csv` },
  );
  const image = db.serialize();
  db.close();
  return image;
}

/** The cached image when it is a readable database of the current schema. */
function cachedImage(file: string): Buffer | undefined {
  try {
    const image = readFileSync(file);
    const db = new Database(image, { readonly: true });
    try {
      return schemaVersion(db) === SCHEMA_VERSION ? image : undefined;
    } finally {
      db.close();
    }
  } catch {
    // Missing, truncated or not a database: rebuilt below.
    return undefined;
  }
}

async function loadImage(file: string): Promise<Buffer> {
  const cached = cachedImage(file);
  if (cached) return cached;
  const image = await buildImage();
  try {
    // Write-then-rename: a concurrent reader sees the old state or the whole file, never half.
    ensureDirectory(path.dirname(file), 'the cache folder');
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, image);
    renameSync(tmp, file);
    // Images of older inputs are never read again.
    const dir = path.dirname(file);
    for (const f of readdirSync(dir))
      if (/^builtin-[0-9a-f]+\.sqlite$/.test(f) && f !== path.basename(file))
        rmSync(path.join(dir, f));
  } catch {
    // A read-only cache directory only costs the rebuild next time.
  }
  return image;
}

/** The built-in knowledge base, read-only; its retrieval index lives in the cache directory. */
export async function openBuiltinKnowledgeBase(cacheDir: string): Promise<SqliteKnowledgeBase> {
  const file = imageFile(cacheDir);
  const image = images.get(file) ?? (await loadImage(file));
  images.set(file, image);
  const db = new Database(image, { readonly: true });
  return new SqliteKnowledgeBase(db, BUILTIN_LABEL, 'builtin', {
    kind: 'file',
    path: path.join(cacheDir, 'builtin-medmnist.vectors'),
  });
}
