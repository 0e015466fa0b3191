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

// Byte offsets in the kernel's control block (assembly/threads.ts).
const EPOCH = 0;
const EXIT = 8;

// Plain CommonJS so that it runs the same from the TypeScript sources (tests) and dist.
const HELPER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory, control, index } = workerData;
const instance = new WebAssembly.Instance(module, { env: { memory, abort() { throw new Error('engine kernel aborted'); } } });
instance.exports.attachHelper(control, index);
instance.exports.helperLoop(index);
`;

export interface Helpers {
  readonly count: number;
  stop(): void;
}

function stopper(memory: WebAssembly.Memory, control: number): () => void {
  let stopped = false;
  return () => {
    if (stopped) return;
    stopped = true;
    const words = new Int32Array(memory.buffer, control, 4);
    Atomics.store(words, EXIT / 4, 1);
    Atomics.add(words, EPOCH / 4, 1);
    Atomics.notify(words, EPOCH / 4);
  };
}

const finalizer = new FinalizationRegistry<() => void>((stop) => stop());

export function startHelpers(module: WebAssembly.Module, memory: WebAssembly.Memory, control: number, threads: number): Helpers {
  const workers: Worker[] = [];
  for (let index = 1; index < threads; index++) {
    const w = new Worker(HELPER_SOURCE, { eval: true, name: `engine-helper-${index}`, workerData: { module, memory, control, index } });
    w.unref();
    // A helper that fails leaves thread 0 waiting; the kernel gives up after ~10 s and traps.
    w.on('error', () => {});
    workers.push(w);
  }
  const stop = stopper(memory, control);
  const helpers: Helpers = { count: workers.length, stop };
  finalizer.register(helpers, stop);
  return helpers;
}
