import {
  closeSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { MetallmixError } from '../core/index.ts';

// Layout: 8-byte magic, u32 LE header length, header JSON (UTF-8), zero padding to a multiple
// of 4, then the float32 little-endian payload. JSON keeps the header inspectable with `head`;
// the payload is read straight into a Float32Array.
const MAGIC = Buffer.from('MLXVEC01', 'latin1');

export interface IndexFileHeader {
  type: string;
  dim: number;
  count: number;
  [key: string]: unknown;
}

/** Writes header + payload to a temp file beside `path`, fsyncs it and renames it over `path`. */
export function writeIndexFile(path: string, header: IndexFileHeader, payload: Float32Array): void {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const prefix = MAGIC.length + 4 + json.length;
  const padding = (4 - (prefix % 4)) % 4;
  const head = Buffer.alloc(prefix + padding);
  MAGIC.copy(head, 0);
  head.writeUInt32LE(json.length, MAGIC.length);
  json.copy(head, MAGIC.length + 4);
  const body = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, head);
    writeSync(fd, body);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, path);
}

/** Reads and checks an index file; any inconsistency is a MetallmixError naming the file. */
export function readIndexFile(path: string): { header: IndexFileHeader; payload: Float32Array } {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (err) {
    throw new MetallmixError(`cannot read vector index: ${(err as Error).message}`, {
      location: { file: path },
      cause: err,
    });
  }
  const fail = (reason: string): never => {
    throw new MetallmixError(`not a valid vector index: ${reason}`, { location: { file: path } });
  };
  if (buf.length < MAGIC.length + 4 || !buf.subarray(0, MAGIC.length).equals(MAGIC))
    fail(`missing the ${MAGIC.toString('latin1')} signature`);
  const jsonLength = buf.readUInt32LE(MAGIC.length);
  const prefix = MAGIC.length + 4 + jsonLength;
  if (prefix > buf.length) fail(`header of ${jsonLength} bytes runs past the end of the file`);
  let header: IndexFileHeader;
  try {
    header = JSON.parse(buf.toString('utf8', MAGIC.length + 4, prefix));
  } catch (err) {
    return fail(`header is not JSON (${(err as Error).message})`);
  }
  if (typeof header !== 'object' || header === null) fail('header is not an object');
  for (const field of ['dim', 'count'] as const) {
    if (!Number.isInteger(header[field]) || header[field] < 0)
      fail(`header field "${field}" is not a count`);
  }
  if (typeof header.type !== 'string') fail('header field "type" is missing');
  const start = prefix + ((4 - (prefix % 4)) % 4);
  const floats = (buf.length - start) / 4;
  if (!Number.isInteger(floats)) fail('payload is not a whole number of float32 values');
  // Copy into a fresh, aligned buffer: Node may hand out a Buffer at any offset of a shared pool.
  const payload = new Float32Array(floats);
  new Uint8Array(payload.buffer).set(buf.subarray(start));
  return { header, payload };
}
