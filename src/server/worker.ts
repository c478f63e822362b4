// A worker thread of the server: runs the library's CPU-bound operations (meta-learner fits,
// bench, profiling) one at a time, so the server's event loop keeps answering.
import { parentPort } from 'node:worker_threads';
import {
  MetallmixError,
  bench,
  importRuns,
  kbOverview,
  kbRecords,
  profileDataset,
  recommend,
} from '../index.ts';
import type { ProgressFactory } from '../index.ts';
import type {
  Operation,
  Operations,
  RecordsPage,
  TaskFailure,
  TaskRequest,
  WorkerMessage,
} from './tasks.ts';

/** Progress is posted at most this often (and always at the end), to keep the channel quiet. */
const PROGRESS_INTERVAL_MS = 100;

const port = parentPort!;
const post = (message: WorkerMessage) => port.postMessage(message);

const RUN: { [K in Operation]: (input: never, progress: ProgressFactory) => Promise<unknown> } = {
  recommend: (input: Parameters<typeof recommend>[0], progress) =>
    recommend({ ...input, progress }),
  bench: (input: Parameters<typeof bench>[0], progress) => bench({ ...input, progress }),
  profile: (input: Parameters<typeof profileDataset>[0], progress) =>
    profileDataset({ ...input, progress }),
  import: (input: Parameters<typeof importRuns>[0], progress) => importRuns({ ...input, progress }),
  kbOverview: (input: Parameters<typeof kbOverview>[0]) => kbOverview(input),
  kbRecords: async ({
    offset,
    limit,
    dataset,
    model,
    status,
    ...kb
  }: Operations['kbRecords']['input']): Promise<RecordsPage> => {
    const all = await kbRecords({ ...kb, filter: { dataset, model, status } });
    return { total: all.length, offset, limit, records: all.slice(offset, offset + limit) };
  },
};

function failure(err: unknown): TaskFailure {
  if (err instanceof MetallmixError)
    return {
      name: err.name,
      message: err.message,
      exitCode: err.exitCode,
      location: err.location,
    };
  const e = err instanceof Error ? err : new Error(String(err));
  return { name: e.name, message: e.message, stack: e.stack };
}

port.on('message', async (request: TaskRequest) => {
  const { id } = request;
  const progress: ProgressFactory = (label, total) => {
    let last = 0;
    return {
      tick(done, note) {
        const now = performance.now();
        if (now - last < PROGRESS_INTERVAL_MS && done < total) return;
        last = now;
        post({ id, type: 'progress', progress: { label, done, total, note } });
      },
      finish(note) {
        post({ id, type: 'progress', progress: { label, done: total, total, note } });
      },
    };
  };
  try {
    const value = await RUN[request.op](request.input as never, progress);
    post({ id, type: 'result', value });
  } catch (err) {
    post({ id, type: 'error', error: failure(err) });
  }
});
