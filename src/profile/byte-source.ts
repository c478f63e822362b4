import { close, constants, fstat, open, read, type Stats } from 'node:fs';
import { kindOf } from '../core/files.ts';
import { HeaderError } from './image-header.ts';

/**
 * Random access to the first bytes of a file: header parsers ask for ranges, and only the
 * ranges they ask for are read, so a 2 GB DICOM costs the same as a 2 KB PNG.
 */
export interface ByteSource {
  /** Bytes [offset, offset + length), fewer (possibly none) where the file ends first. */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** Total size in bytes. */
  size(): Promise<number>;
  /** The bytes read up front; parsers sniff the format from them. */
  readonly head: Uint8Array;
}

/** Bytes read when a file is opened: enough for every format's header in the common case. */
export const HEAD_BYTES = 8192;

/** A source over bytes already in memory. */
export function bufferSource(bytes: Uint8Array): ByteSource {
  return {
    head: bytes.subarray(0, HEAD_BYTES),
    read: async (offset, length) => bytes.subarray(offset, offset + length),
    size: async () => bytes.length,
  };
}

/** Head buffers of finished files, reused: a fresh 8 kB buffer per image keeps the GC busy. */
const spareHeads: Buffer[] = [];
const MAX_SPARE_HEADS = 256;

/**
 * Opens `file`, reads its head and hands a source over it to `use`; always closes the file.
 * The source's bytes are only valid until `use` settles: its result must not hold them.
 */
export async function withFileSource<T>(
  file: string,
  use: (source: ByteSource) => Promise<T>,
): Promise<T> {
  const fd = await openFile(file);
  const buf = spareHeads.pop() ?? Buffer.allocUnsafe(HEAD_BYTES);
  try {
    // Only regular files are images: a FIFO named x.png or a device would block the read.
    const stats = await new Promise<Stats>((resolve, reject) =>
      fstat(fd, (err, s) => (err ? reject(err) : resolve(s))),
    );
    if (!stats.isFile()) throw new HeaderError(`not a regular file (${kindOf(stats)})`);
    const bytesRead = await readInto(fd, buf, HEAD_BYTES, 0);
    return await use(fileSource(fd, buf.subarray(0, bytesRead)));
  } finally {
    if (spareHeads.length < MAX_SPARE_HEADS) spareHeads.push(buf);
    await closeFile(fd);
  }
}

function fileSource(fd: number, head: Uint8Array): ByteSource {
  // A short head read means the whole file is in memory: no further I/O is ever needed.
  const whole = head.length < HEAD_BYTES;
  let knownSize: number | undefined = whole ? head.length : undefined;
  return {
    head,
    read(offset, length) {
      if (whole || offset + length <= head.length) {
        return Promise.resolve(head.subarray(offset, offset + length));
      }
      return readAt(fd, length, offset);
    },
    async size() {
      knownSize ??= await new Promise<number>((resolve, reject) =>
        fstat(fd, (err, stats) => (err ? reject(err) : resolve(stats.size))),
      );
      return knownSize;
    },
  };
}

// The callback API rather than fs/promises FileHandle: with one open/read/close per image,
// FileHandle's bookkeeping halves the throughput on many small files (measured: bench/profile.ts).
// O_NONBLOCK: opening a FIFO returns at once instead of waiting for a writer (regular files
// ignore it), and a file that never answers fails its read instead of hanging.
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY;
const openFile = (file: string): Promise<number> =>
  new Promise((resolve, reject) =>
    open(file, OPEN_FLAGS, (err, fd) => (err ? reject(err) : resolve(fd))),
  );

const closeFile = (fd: number): Promise<void> =>
  new Promise((resolve, reject) => close(fd, (err) => (err ? reject(err) : resolve())));

async function readAt(fd: number, length: number, position: number): Promise<Uint8Array> {
  const buf = Buffer.allocUnsafe(length);
  return buf.subarray(0, await readInto(fd, buf, length, position));
}

const readInto = (fd: number, buf: Buffer, length: number, position: number): Promise<number> =>
  new Promise((resolve, reject) =>
    read(fd, buf, 0, length, position, (err, bytesRead) =>
      err ? reject(err) : resolve(bytesRead),
    ),
  );
