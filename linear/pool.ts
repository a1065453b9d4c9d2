/**
 * Where spectrum jobs run: inline (one thread), or on a pool of node:worker_threads, one job per
 * worker at a time, so that the eigendecompositions of a sweep use every core. Results are the
 * same bits either way (the same code on the same inputs, and the calling thread's eigensolver,
 * passed with each job); only the wall time differs.
 *
 * Workers load the TypeScript sources through tsx's loader, registered inside the worker, so the
 * pool works under the CLI (bin/groklens.js), under `tsx` and under vitest alike.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { UserError } from '../src/errors.ts';
import { runSpectrumJob, type SpectrumJob, type SpectrumResult } from './jobs.ts';

export interface JobRunner {
  readonly workers: number; // 1: inline
  run(job: SpectrumJob): Promise<SpectrumResult>;
  close(): Promise<void>;
}

/**
 * Jobs run one after another on the calling thread, each in its own turn of the event loop, so a
 * caller's progress callbacks (and Ctrl-C) are seen between them.
 */
export function inlineRunner(): JobRunner {
  return {
    workers: 1,
    run: (job) =>
      new Promise<SpectrumResult>((resolve, reject) => {
        setImmediate(() => {
          try {
            resolve(runSpectrumJob(job));
          } catch (e) {
            reject(e);
          }
        });
      }),
    close: () => Promise.resolve(),
  };
}

/** The default number of workers: one per core the process may use. */
export const defaultWorkers = (): number => Math.max(1, availableParallelism());

/** `workers` = 1 runs inline; more starts that many worker threads (lazily, on the first jobs). */
export function createRunner(workers: number): JobRunner {
  if (!Number.isInteger(workers) || workers < 1)
    throw new UserError(`workers must be a positive integer, got ${workers}`);
  return workers === 1 ? inlineRunner() : workerRunner(workers);
}

interface Pending {
  job: SpectrumJob;
  resolve: (r: SpectrumResult) => void;
  reject: (e: Error) => void;
}

function rebuildError(e: { name: string; message: string; stack?: string }): Error {
  // A user's mistake (e.g. a diverging eta) stays a UserError across the thread boundary.
  const err = e.name === 'UserError' ? new UserError(e.message) : new Error(`linear worker: ${e.message}`);
  if (e.name !== 'UserError' && e.stack) err.stack = e.stack;
  return err;
}

function workerRunner(count: number): JobRunner {
  const tsx = import.meta.resolve('tsx/esm/api');
  const body = new URL('./worker.ts', import.meta.url).href;
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(body)}); });`;
  const queue: Pending[] = [];
  const idle: Worker[] = [];
  const busy = new Map<Worker, { id: number; pending: Pending }>();
  let started = 0;
  let nextId = 0;
  let closed = false;

  const fail = (w: Worker, e: Error) => {
    const b = busy.get(w);
    busy.delete(w);
    b?.pending.reject(e);
    // A dead worker takes every queued job down with it rather than leaving them waiting.
    for (const p of queue.splice(0)) p.reject(e);
  };

  const spawn = (): Worker => {
    const w = new Worker(boot, { eval: true });
    started++;
    w.on(
      'message',
      (m: { id: number; result?: SpectrumResult; error?: { name: string; message: string; stack?: string } }) => {
        const b = busy.get(w);
        if (!b || b.id !== m.id) return;
        busy.delete(w);
        if (m.error) b.pending.reject(rebuildError(m.error));
        else b.pending.resolve(m.result!);
        idle.push(w);
        dispatch();
      },
    );
    w.on('error', (e) => fail(w, e));
    w.on('exit', (code) => {
      const i = idle.indexOf(w);
      if (i >= 0) idle.splice(i, 1);
      started--; // a later job may start a replacement
      if (!closed && busy.has(w)) fail(w, new Error(`linear worker exited with code ${code}`));
    });
    return w;
  };

  const dispatch = () => {
    while (queue.length) {
      const w = idle.pop() ?? (started < count ? spawn() : undefined);
      if (!w) return;
      const pending = queue.shift()!;
      const id = nextId++;
      busy.set(w, { id, pending });
      w.postMessage({ id, job: pending.job });
    }
  };

  return {
    workers: count,
    run: (job) =>
      new Promise<SpectrumResult>((resolve, reject) => {
        if (closed) return reject(new Error('linear worker pool is closed'));
        queue.push({ job, resolve, reject });
        dispatch();
      }),
    close: async () => {
      closed = true;
      const all = [...idle, ...busy.keys()];
      idle.length = 0;
      await Promise.all(all.map((w) => w.terminate()));
    },
  };
}
