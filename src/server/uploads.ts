// Uploaded datasets and source files, written to a private temporary folder for the library to
// read: an archive (zip, tar, tar.gz) of an image folder, a manifest whose paths are read inside
// that archive, source files and mappings. Archive entries that would land outside the folder,
// links, and archives that unpack to more than the limit are refused.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { unzipSync } from 'fflate';
import * as tar from 'tar';
import { MetallmixError } from '../index.ts';

/** An archive unpacks to more than the server accepts (answered with 413). */
export class TooLargeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TooLargeError';
  }
}

/** A folder holding one request's uploads, removed when the request is done. */
export class UploadDir {
  /** Where each upload was saved, and the name it came with. */
  private readonly names = new Map<string, string>();
  private constructor(readonly dir: string) {}

  static async create(): Promise<UploadDir> {
    return new UploadDir(await mkdtemp(path.join(tmpdir(), 'metallmix-upload-')));
  }

  /** Writes an uploaded file under its own base name; returns the path. */
  async save(file: File, sub = 'files'): Promise<string> {
    const folder = path.join(this.dir, sub);
    await mkdir(folder, { recursive: true });
    const target = path.join(folder, safeBaseName(file.name));
    await writeFile(target, Buffer.from(await file.arrayBuffer()));
    this.names.set(target, file.name);
    return target;
  }

  /**
   * Unpacks an archive; returns the dataset's root (the archive's single top folder if it has
   * one, else its root) and a name for the dataset.
   */
  async unpack(archive: File, maxBytes: number): Promise<{ root: string; name: string }> {
    const into = path.join(this.dir, 'archive');
    await mkdir(into, { recursive: true });
    const bytes = new Uint8Array(await archive.arrayBuffer());
    if (bytes[0] === 0x50 && bytes[1] === 0x4b) unzipInto(bytes, into, archive.name, maxBytes);
    else await untarInto(bytes, into, archive.name, maxBytes);
    const entries = readdirSync(into).filter((n) => !n.startsWith('.') && n !== '__MACOSX');
    if (entries.length === 1 && statSync(path.join(into, entries[0])).isDirectory())
      return { root: path.join(into, entries[0]), name: entries[0] };
    return { root: into, name: safeBaseName(archive.name).replace(/(\.tar)?\.[a-z0-9]+$/i, '') };
  }

  /** A message without this folder's paths: the user knows the files by their upload names. */
  relative(message: string): string {
    let out = message;
    for (const [saved, name] of this.names) out = out.split(saved).join(name);
    return out.split(`${this.dir}${path.sep}`).join('').split(this.dir).join('');
  }

  remove(): Promise<void> {
    return rm(this.dir, { recursive: true, force: true });
  }
}

function safeBaseName(name: string): string {
  const base = path.basename(name.replace(/\\/g, '/')).replace(/[^\w.\- ]/g, '_');
  return base && base !== '.' && base !== '..' ? base : 'upload';
}

function badEntry(archive: string, entry: string, reason: string): MetallmixError {
  return new MetallmixError(`entry "${entry}" ${reason}`, {
    location: { file: archive, field: 'archive' },
  });
}

/** The entry's path inside `into`, or an error if it would land outside. */
function entryPath(into: string, archive: string, entry: string): string {
  const normalized = path.posix.normalize(entry.replace(/\\/g, '/'));
  if (path.posix.isAbsolute(normalized) || normalized.split('/').includes('..'))
    throw badEntry(archive, entry, 'points outside the archive');
  return path.join(into, normalized);
}

function tooLarge(archive: string, maxBytes: number): TooLargeError {
  return new TooLargeError(
    `${archive}: the archive unpacks to more than ${Math.round(maxBytes / 2 ** 20)} MiB, the most this server accepts`,
  );
}

function unzipInto(bytes: Uint8Array, into: string, archive: string, maxBytes: number): void {
  let declared = 0;
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes, {
      filter: (f) => {
        declared += f.originalSize;
        if (declared > maxBytes) throw tooLarge(archive, maxBytes);
        return !f.name.endsWith('/');
      },
    });
  } catch (err) {
    if (err instanceof TooLargeError) throw err;
    throw new MetallmixError(`not a readable zip archive: ${(err as Error).message}`, {
      location: { file: archive, field: 'archive' },
    });
  }
  let written = 0;
  for (const [name, data] of Object.entries(files)) {
    // The sizes a zip declares are only claims: count what was inflated.
    written += data.length;
    if (written > maxBytes) throw tooLarge(archive, maxBytes);
    const target = entryPath(into, archive, name);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, data);
  }
}

async function untarInto(
  bytes: Uint8Array,
  into: string,
  archive: string,
  maxBytes: number,
): Promise<void> {
  let total = 0;
  let problem: Error | undefined;
  const extract = tar.x({
    cwd: into,
    strict: true,
    // Only plain files and folders: a link could point anywhere on the server.
    filter: (entryName, entry) => {
      const type = 'type' in entry ? entry.type : 'File';
      if (type !== 'File' && type !== 'OldFile' && type !== 'Directory') {
        problem ??= badEntry(archive, entryName, `is a ${type}; only files and folders are read`);
        return false;
      }
      try {
        entryPath(into, archive, entryName);
      } catch (err) {
        problem ??= err as Error;
        return false;
      }
      total += entry.size ?? 0;
      if (total > maxBytes) {
        problem ??= tooLarge(archive, maxBytes);
        return false;
      }
      return true;
    },
  });
  try {
    await pipeline(Readable.from([Buffer.from(bytes)]), extract);
  } catch (err) {
    throw (
      problem ??
      new MetallmixError(`not a readable zip, tar or tar.gz archive: ${(err as Error).message}`, {
        location: { file: archive, field: 'archive' },
      })
    );
  }
  if (problem) throw problem;
}
