/**
 * The helper threads of a network split over several threads (kernel: assembly/threads.ts). Each
 * helper instantiates the threaded kernel on the network's shared memory without starting it,
 * adopts the layout thread 0 published, and stays inside the kernel's `helperLoop` (spinning,
 * then sleeping on the step epoch) until `stop`. Helpers are unref'd worker threads: a network
 * that is dropped without `close()` is stopped when it is garbage-collected.
 */
import { Worker } from 'node:worker_threads';

/** Most threads one network may use (the kernel's limit). */
export const MAX_ENGINE_THREADS = 32;

// Plain CommonJS so that it runs the same from the TypeScript sources (tests) and dist.
const HELPER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory, control, index } = workerData;
const instance = new WebAssembly.Instance(module, { env: { memory, abort() { throw new Error('engine kernel aborted'); } } });
instance.exports.attachHelper(control, index);
try {
  instance.exports.helperLoop(index);
} catch (err) {
  instance.exports.helperFailed(index);
  throw err;
}
`;

export interface Helpers {
  readonly count: number;
  stop(): void;
}

const finalizer = new FinalizationRegistry<() => void>((stop) => stop());

/** `stop` is the kernel's stopHelpers (thread 0's instance): helpers leave their loop and exit. */
export function startHelpers(module: WebAssembly.Module, memory: WebAssembly.Memory, control: number, threads: number, stopHelpers: () => void): Helpers {
  const workers: Worker[] = [];
  for (let index = 1; index < threads; index++) {
    const w = new Worker(HELPER_SOURCE, { eval: true, name: `engine-helper-${index}`, workerData: { module, memory, control, index } });
    w.unref();
    // A helper that traps marks itself failed in the kernel (thread 0 then traps too).
    w.on('error', () => {});
    workers.push(w);
  }
  let stopped = false;
  const stop = () => {
    if (!stopped) stopHelpers();
    stopped = true;
  };
  const helpers: Helpers = { count: workers.length, stop };
  finalizer.register(helpers, stop);
  return helpers;
}
