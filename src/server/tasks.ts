// The library operations a worker thread runs for the server, and the messages both sides
// exchange. Inputs and results cross the thread boundary by structured clone, so they hold data
// only: no progress callbacks (the worker makes its own and posts what they report).
import type {
  BenchInput,
  BenchReport,
  ErrorLocation,
  ImportInput,
  ImportResult,
  KbInput,
  KbOverview,
  RecordFilter,
  StoredRecord,
  ProfileInput,
  ProfileResult,
  Recommendation,
  RecommendInput,
} from '../index.ts';

export interface Operations {
  recommend: { input: Omit<RecommendInput, 'progress'>; result: Recommendation };
  bench: { input: Omit<BenchInput, 'progress'>; result: BenchReport };
  profile: { input: Omit<ProfileInput, 'progress'>; result: ProfileResult };
  import: { input: Omit<ImportInput, 'progress'>; result: ImportResult };
  kbOverview: { input: KbInput; result: KbOverview };
  kbRecords: { input: KbInput & RecordFilter & Page; result: RecordsPage };
}

export interface Page {
  offset: number;
  limit: number;
}

export interface RecordsPage extends Page {
  total: number;
  records: StoredRecord[];
}
export type Operation = keyof Operations;

export interface TaskRequest<K extends Operation = Operation> {
  id: number;
  op: K;
  input: Operations[K]['input'];
}

/** How far a task got: `done` of `total` items of the work called `label`. */
export interface TaskProgress {
  label: string;
  done: number;
  total: number;
  note?: string;
}

/** A failure as it crosses the thread boundary (an Error's class does not survive the clone). */
export interface TaskFailure {
  name: string;
  message: string;
  /** Set for a MetallmixError: the user can fix it. */
  exitCode?: number;
  location?: ErrorLocation;
  stack?: string;
}

export type WorkerMessage =
  | { id: number; type: 'progress'; progress: TaskProgress }
  | { id: number; type: 'result'; value: unknown }
  | { id: number; type: 'error'; error: TaskFailure };
