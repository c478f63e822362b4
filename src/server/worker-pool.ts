// Worker threads for the library's CPU-bound operations. A pool of long-lived workers serves
// requests (recommend, profile, import) in order, with a bounded queue; a bench job gets a worker
// of its own for its whole run, ended when the job ends or is cancelled.
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { packagePath } from '../core/package-files.ts';
import type {
  Operation,
  Operations,
  TaskFailure,
  TaskProgress,
  TaskRequest,
  WorkerMessage,
} from './tasks.ts';

/**
 * The worker's entry. Built (this module is in the bundle of dist/): the bundled worker,
 * dist/server-worker.js (scripts/build.ts). From the sources: worker.ts through tsx, whose loader
 * a worker thread does not inherit from the thread that started it, so each worker registers it
 * before importing worker.ts.
 */
function bootstrap(): string {
  if (!import.meta.url.endsWith('.ts'))
    return `import(${JSON.stringify(pathToFileURL(packagePath('dist', 'server-worker.js')).href)});`;
  const tsx = import.meta.resolve('tsx/esm/api');
  const worker = new URL('./worker.ts', import.meta.url).href;
  return `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(worker)}); });`;
}

/** A failure inside a worker, with what the worker knew of it (exitCode: user-fixable). */
export class TaskError extends Error {
  readonly failure: TaskFailure;
  constructor(failure: TaskFailure) {
    super(failure.message);
    this.name = failure.name;
    this.failure = failure;
    if (failure.stack) this.stack = failure.stack;
  }
}

/** The queue of waiting requests is full: the face answers 429. */
export class BusyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BusyError';
  }
}

type OnProgress = (progress: TaskProgress) => void;

interface Running {
  resolve(value: unknown): void;
  reject(err: Error): void;
  onProgress?: OnProgress;
}

/** One worker thread; runs one task at a time. */
class TaskWorker {
  private readonly worker: Worker;
  private running: { id: number; task: Running } | undefined;
  private nextId = 1;
  private dead: Error | undefined;
  /** Called once the worker has stopped, whether it was terminated or crashed. */
  onExit?: () => void;

  constructor() {
    this.worker = new Worker(bootstrap(), { eval: true });
    this.worker.on('message', (m: WorkerMessage) => this.receive(m));
    this.worker.on('error', (err) => this.stop(err));
    this.worker.on('exit', (code) => {
      this.stop(new Error(`worker thread exited with code ${code}`));
      this.onExit?.();
    });
  }

  get busy(): boolean {
    return this.running !== undefined;
  }

  run<K extends Operation>(
    op: K,
    input: Operations[K]['input'],
    onProgress?: OnProgress,
  ): Promise<Operations[K]['result']> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.running = {
        id,
        task: { resolve: resolve as (v: unknown) => void, reject, onProgress },
      };
      const request: TaskRequest<K> = { id, op, input };
      this.worker.postMessage(request);
    });
  }

  private receive(m: WorkerMessage): void {
    const current = this.running;
    if (!current || current.id !== m.id) return;
    if (m.type === 'progress') current.task.onProgress?.(m.progress);
    else {
      this.running = undefined;
      if (m.type === 'result') current.task.resolve(m.value);
      else current.task.reject(new TaskError(m.error));
    }
  }

  private stop(err: Error): void {
    this.dead ??= err;
    const current = this.running;
    this.running = undefined;
    current?.task.reject(err);
  }

  async terminate(reason = 'cancelled'): Promise<void> {
    this.stop(new Error(reason));
    await this.worker.terminate();
  }
}

interface Queued {
  start(worker: TaskWorker): void;
}

export interface PoolOptions {
  /** Long-lived workers for requests. */
  size: number;
  /** Requests that may wait for a worker; more are refused with BusyError. */
  maxQueued: number;
}

export class WorkerPool {
  private readonly workers: TaskWorker[] = [];
  private readonly queue: Queued[] = [];
  private readonly isolated = new Set<TaskWorker>();
  private closed = false;

  constructor(private readonly options: PoolOptions) {}

  /** Starts the pool's workers now, so the first request does not wait for one to load. */
  warm(): void {
    while (this.workers.length < this.options.size) this.spawn();
  }

  /** Requests waiting for a worker. */
  get queued(): number {
    return this.queue.length;
  }

  /** Runs `op` on a pooled worker as soon as one is free. */
  run<K extends Operation>(
    op: K,
    input: Operations[K]['input'],
    onProgress?: OnProgress,
  ): Promise<Operations[K]['result']> {
    if (this.closed) return Promise.reject(new Error('the server is shutting down'));
    const free = this.freeWorker();
    if (free) return this.runOn(free, op, input, onProgress);
    if (this.queue.length >= this.options.maxQueued)
      return Promise.reject(
        new BusyError(
          `${this.queue.length} requests are already waiting for a worker; try again shortly`,
        ),
      );
    return new Promise((resolve, reject) => {
      this.queue.push({
        start: (worker) => this.runOn(worker, op, input, onProgress).then(resolve, reject),
      });
    });
  }

  /** Runs `op` on a worker of its own; `cancel` ends that worker (and so the task). */
  runIsolated<K extends Operation>(
    op: K,
    input: Operations[K]['input'],
    onProgress?: OnProgress,
  ): { result: Promise<Operations[K]['result']>; cancel(): Promise<void> } {
    const worker = new TaskWorker();
    this.isolated.add(worker);
    const result = worker.run(op, input, onProgress).finally(() => {
      this.isolated.delete(worker);
      void worker.terminate('finished');
    });
    return { result, cancel: () => worker.terminate('the job was cancelled') };
  }

  private freeWorker(): TaskWorker | undefined {
    const idle = this.workers.find((w) => !w.busy);
    if (idle) return idle;
    if (this.workers.length >= this.options.size) return undefined;
    return this.spawn();
  }

  private spawn(): TaskWorker {
    const worker = new TaskWorker();
    // A crashed worker leaves the pool; the next request starts a fresh one.
    worker.onExit = () => {
      const i = this.workers.indexOf(worker);
      if (i >= 0) this.workers.splice(i, 1);
      this.drain();
    };
    this.workers.push(worker);
    return worker;
  }

  private runOn<K extends Operation>(
    worker: TaskWorker,
    op: K,
    input: Operations[K]['input'],
    onProgress?: OnProgress,
  ): Promise<Operations[K]['result']> {
    return worker.run(op, input, onProgress).finally(() => this.drain());
  }

  private drain(): void {
    while (this.queue.length && !this.closed) {
      const worker = this.freeWorker();
      if (!worker) return;
      this.queue.shift()!.start(worker);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.queue.length = 0;
    await Promise.all(
      [...this.workers, ...this.isolated].map((w) => w.terminate('the server is shutting down')),
    );
  }
}
