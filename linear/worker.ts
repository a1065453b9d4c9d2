/**
 * Body of a worker thread of the linear pool (pool.ts): runs spectrum jobs as messages arrive and
 * posts each result, or the error's name and message, back under the job's id.
 */
import { parentPort } from 'node:worker_threads';
import { runSpectrumJob, type SpectrumJob } from './jobs.ts';

const port = parentPort;
if (!port) throw new Error('linear/worker.ts runs only as a worker thread');

port.on('message', (m: { id: number; job: SpectrumJob }) => {
  try {
    const result = runSpectrumJob(m.job);
    const buffers = [
      result.values.buffer,
      ...result.systems.flatMap((s) => [s.values.buffer, s.rates.buffer, s.uu.buffer, s.uw.buffer, s.ww.buffer]),
    ];
    port.postMessage({ id: m.id, result }, buffers as ArrayBuffer[]);
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    port.postMessage({ id: m.id, error: { name: err.name, message: err.message, stack: err.stack } });
  }
});
