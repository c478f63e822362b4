// The user's files, opened so that nothing can hang or surprise: only regular files are read (a
// FIFO, a device or a folder is refused before a read can block on it), a read never waits on a
// file that does not answer, text must be UTF-8, and folders are made one level at a time
// (Node's recursive mkdir never returns for a path under /proc).
import {
  closeSync,
  constants,
  fstatSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  type Stats,
} from 'node:fs';
import path from 'node:path';
import { ExitCode, MetallmixError } from './errors.ts';

/** Files of text meant for metallmix (mappings, profiles, catalogs, sources read whole). */
export const MAX_TEXT_FILE_BYTES = 256 * 1024 * 1024;

/** What a file is, in words a user knows. */
export function kindOf(stats: Stats): string {
  if (stats.isFile()) return 'a regular file';
  if (stats.isDirectory()) return 'a folder';
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** The reason of a failed file-system call, without a stack or the call's internals. */
export function fsReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return 'no such file or folder';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a folder';
    case 'ENOTDIR':
      return 'a part of the path is not a folder';
    case 'ELOOP':
      return 'too many symbolic links';
    case 'ENAMETOOLONG':
      return 'the path is too long';
    case 'EAGAIN':
    case 'EWOULDBLOCK':
      return 'the file does not answer (reading it would block)';
    case 'ENXIO':
      return 'nothing is reading at the other end (a FIFO or device)';
    case 'ENOSPC':
      return 'no space left on the device';
    case 'EDQUOT':
      return 'disk quota exceeded';
    case 'EROFS':
      return 'read-only file system';
    case 'EMFILE':
    case 'ENFILE':
      return 'too many open files';
    default:
      return code ?? (err instanceof Error ? err.message : String(err));
  }
}

/** Exit code of a failed file-system call: a full or read-only disk is unavailable, not bad input. */
export function fsExitCode(err: unknown): number {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOSPC' || code === 'EDQUOT' || code === 'EROFS' || code === 'EIO'
    ? ExitCode.unavailable
    : ExitCode.badInput;
}

// O_NONBLOCK makes opening a FIFO return at once (a plain open waits for a writer) and makes a
// read of a file that never answers fail instead of waiting; regular files ignore it.
const READ_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY;

/**
 * Opens `file` for reading and returns its descriptor, or throws a MetallmixError naming the file
 * and `what` it was meant to be when it is missing, unreadable or not a regular file.
 */
export function openRegularFile(file: string, what: string): { fd: number; size: number } {
  let fd: number;
  try {
    fd = openSync(file, READ_FLAGS);
  } catch (err) {
    throw new MetallmixError(`cannot read ${what}: ${fsReason(err)}`, {
      location: { file },
      cause: err,
    });
  }
  let stats: Stats;
  try {
    stats = fstatSync(fd);
  } catch (err) {
    closeSync(fd);
    throw new MetallmixError(`cannot read ${what}: ${fsReason(err)}`, {
      location: { file },
      cause: err,
    });
  }
  if (!stats.isFile()) {
    closeSync(fd);
    throw new MetallmixError(`cannot read ${what}: it is ${kindOf(stats)}, not a regular file`, {
      location: { file },
    });
  }
  return { fd, size: stats.size };
}

/** The bytes of a regular file, at most `maxBytes` (a larger file is refused, not truncated). */
export function readRegularFile(
  file: string,
  what: string,
  maxBytes = MAX_TEXT_FILE_BYTES,
): Buffer {
  const { fd, size } = openRegularFile(file, what);
  try {
    if (size > maxBytes) throw tooLarge(file, what, maxBytes);
    // Files under /proc report size 0 and still have content: read until the end either way.
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(Math.max(size + 1, 65536), maxBytes + 1 - total));
      let n: number;
      try {
        n = readSync(fd, chunk, 0, chunk.length, null);
      } catch (err) {
        throw new MetallmixError(`cannot read ${what}: ${fsReason(err)}`, {
          location: { file },
          exitCode: fsExitCode(err),
          cause: err,
        });
      }
      if (n === 0) break;
      total += n;
      if (total > maxBytes) throw tooLarge(file, what, maxBytes);
      chunks.push(chunk.subarray(0, n));
    }
    return Buffer.concat(chunks, total);
  } finally {
    closeSync(fd);
  }
}

function tooLarge(file: string, what: string, maxBytes: number): MetallmixError {
  return new MetallmixError(
    `${what} is larger than ${Math.round(maxBytes / 1024 / 1024)} MB, more than a file of this kind can sensibly be`,
    { location: { file } },
  );
}

/** Reads a regular UTF-8 text file (a byte-order mark is dropped); see readRegularFile. */
export function readUtf8File(file: string, what: string, maxBytes?: number): string {
  return decodeUtf8(readRegularFile(file, what, maxBytes), file, what);
}

const fatalDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** Decodes UTF-8 strictly: a byte that is not UTF-8 is an error naming its line, never U+FFFD. */
export function decodeUtf8(bytes: Uint8Array, file: string, what: string): string {
  try {
    return fatalDecoder.decode(bytes);
  } catch {
    throw notUtf8(bytes, 0, 1, file, what);
  }
}

/**
 * Streaming strict UTF-8 decoding for files read in chunks: `decode` returns the text of each
 * chunk (a character split across chunks comes with the next one), `end` checks the file did not
 * stop inside a character.
 */
export function utf8ChunkDecoder(file: string, what: string) {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
  let line = 1;
  const countLines = (text: string) => {
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) line++;
  };
  return {
    decode(chunk: Uint8Array): string {
      let text: string;
      try {
        text = decoder.decode(chunk, { stream: true });
      } catch {
        // Continuation bytes at the start finish a character begun in the previous chunk.
        let from = 0;
        while (from < 3 && from < chunk.length && (chunk[from] & 0xc0) === 0x80) from++;
        throw notUtf8(chunk, from, line, file, what);
      }
      countLines(text);
      return text;
    },
    end(): string {
      try {
        return decoder.decode();
      } catch {
        throw new MetallmixError(`${what} is not UTF-8 text: it ends inside a character`, {
          location: { file, line },
        });
      }
    },
  };
}

/** Offset of the first byte that breaks UTF-8 in `bytes` (from `from`), or -1. */
function firstInvalidUtf8(bytes: Uint8Array, from: number): number {
  let i = from;
  while (i < bytes.length) {
    const b = bytes[i];
    const need =
      b < 0x80
        ? 0
        : b >= 0xc2 && b <= 0xdf
          ? 1
          : b >= 0xe0 && b <= 0xef
            ? 2
            : b >= 0xf0 && b <= 0xf4
              ? 3
              : -1;
    if (need < 0) return i;
    for (let k = 1; k <= need; k++) {
      // A character cut off by the end of a chunk is not an error here.
      if (i + k >= bytes.length) return -1;
      if ((bytes[i + k] & 0xc0) !== 0x80) return i;
    }
    i += need + 1;
  }
  return -1;
}

function notUtf8(
  bytes: Uint8Array,
  from: number,
  firstLine: number,
  file: string,
  what: string,
): MetallmixError {
  const at = firstInvalidUtf8(bytes, from);
  let line = firstLine;
  for (let i = from; i < (at < 0 ? bytes.length : at); i++) if (bytes[i] === 0x0a) line++;
  const byte = at >= 0 ? ` (byte 0x${bytes[at].toString(16).padStart(2, '0')})` : '';
  return new MetallmixError(
    `${what} is not UTF-8 text${byte}; it looks like Latin-1 or Windows-1252: convert it, e.g. iconv -f latin1 -t utf-8 FILE > FILE.utf8`,
    { location: { file, line } },
  );
}

/**
 * Creates `dir` and its missing parents one level at a time, with a clear error for each level
 * that cannot be made (a path under /proc, a file in the way, a read-only disk).
 */
export function ensureDirectory(dir: string, what = 'the folder'): void {
  const missing: string[] = [];
  for (let d = path.resolve(dir); ;) {
    let stats: Stats | undefined;
    try {
      stats = statSync(d);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        throw new MetallmixError(`cannot create ${what}: ${fsReason(err)}`, {
          location: { file: d },
          exitCode: fsExitCode(err),
          cause: err,
        });
    }
    if (stats) {
      if (!stats.isDirectory())
        throw new MetallmixError(`cannot create ${what}: ${d} is ${kindOf(stats)}`, {
          location: { file: dir },
        });
      break;
    }
    missing.push(d);
    const up = path.dirname(d);
    if (up === d) break;
    d = up;
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw new MetallmixError(`cannot create ${what}: ${fsReason(err)}`, {
        location: { file: d },
        exitCode: fsExitCode(err),
        cause: err,
      });
    }
  }
}

/**
 * Checks that `file` can be written as an output: a file name (not a folder, not ending in /),
 * and, when it exists, a regular file or a character device such as /dev/null.
 */
export function checkOutputFile(file: string, what: string): void {
  if (file.trim() === '')
    throw new MetallmixError(`${what} needs a file name`, { location: { file } });
  if (/[\\/]$/.test(file) || path.basename(file) === '.' || path.basename(file) === '..')
    throw new MetallmixError(`${what} must name a file, not a folder`, { location: { file } });
  let stats: Stats;
  try {
    stats = statSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new MetallmixError(`cannot write ${what}: ${fsReason(err)}`, {
      location: { file },
      cause: err,
    });
  }
  if (!stats.isFile() && !stats.isCharacterDevice())
    throw new MetallmixError(`cannot write ${what}: it is ${kindOf(stats)}`, {
      location: { file },
    });
  if (!stats.isFile()) return;
  // Every output is text. A database (the --kb given to the same command, say) or a file with
  // NUL bytes at its start (an image of the dataset, a model's weights) is somebody's data,
  // never an earlier output: replacing it would destroy what it holds.
  const head = headOf(file, 8192);
  if (head.subarray(0, SQLITE_MAGIC.length).equals(SQLITE_MAGIC))
    throw new MetallmixError(
      `cannot write ${what}: the file is an SQLite database (a knowledge base?), which an output never replaces; name another file`,
      { location: { file } },
    );
  if (head.includes(0))
    throw new MetallmixError(
      `cannot write ${what}: the file holds binary data (an image? a dataset file?), which an output never replaces; name another file`,
      { location: { file } },
    );
}

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

/** The first `size` bytes of a regular file (fewer when it is shorter; none when unreadable). */
function headOf(file: string, size: number): Buffer {
  let fd: number | undefined;
  try {
    fd = openSync(file, READ_FLAGS);
    const head = Buffer.alloc(size);
    return head.subarray(0, readSync(fd, head, 0, size, 0));
  } catch {
    return Buffer.alloc(0);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Writes an output file (creating its folder), never blocking on a FIFO put in its place: the
 * content goes to a temporary file beside it, renamed over it when whole, so a full disk leaves
 * neither a truncated file nor a damaged old one (a character device is written directly).
 */
export function writeOutputFile(file: string, content: string, what: string): void {
  checkOutputFile(file, what);
  ensureDirectory(path.dirname(path.resolve(file)), `the folder of ${what}`);
  let device = false;
  try {
    device = statSync(file).isCharacterDevice();
  } catch {
    // Not there yet.
  }
  const target = device ? file : `${file}.${process.pid}.tmp`;
  let fd: number | undefined;
  try {
    fd = openSync(
      target,
      constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NONBLOCK,
      0o666,
    );
    writeFileSync(fd, content);
    closeSync(fd);
    fd = undefined;
    if (!device) renameSync(target, file);
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    if (!device) rmSync(target, { force: true });
    throw new MetallmixError(`cannot write ${what}: ${fsReason(err)}`, {
      location: { file },
      exitCode: fsExitCode(err),
      cause: err,
    });
  }
}
