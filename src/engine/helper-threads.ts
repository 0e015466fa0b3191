/**
 * The helper threads of a network split over several threads (kernel: assembly/threads.ts). Each
 * helper instantiates the threaded kernel on the network's shared memory without starting it,
 * adopts the layout thread 0 published, and stays inside the kernel's `helperLoop` (spinning,
 * then sleeping on the step epoch) until `stop`. Helpers are unref'd worker threads: a network
 * that is dropped without `close()` is stopped when it is garbage-collected.
 */
import { Worker } from 'node:worker_threads';

const HELPER_START_TIMEOUT_MS = 60_000;

/** Most threads one network may use (the kernel's limit). */
export const MAX_ENGINE_THREADS = 32;

// Plain CommonJS so that it runs the same from the TypeScript sources (tests) and dist.
const HELPER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory, control, index, failedAt, answerAt } = workerData;
let instance = null;
try {
  instance = new WebAssembly.Instance(module, { env: { memory, abort() { throw new Error('engine kernel aborted'); } } });
  instance.exports.attachHelper(control, index);
  instance.exports.helperLoop(index);
} catch (err) {
  // Thread 0 is inside the kernel waiting for this helper, its event loop blocked: flag the
  // failure in shared memory (it then traps) and say why on stderr directly.
  const words = new Int32Array(memory.buffer);
  Atomics.store(words, failedAt >> 2, 1);
  Atomics.notify(words, answerAt >> 2);
  require('node:fs').writeSync(2, 'engine helper thread ' + index + ' failed: ' + (err && err.stack || err) + '\\n');
  throw err;
}
`;

export interface Helpers {
  readonly count: number;
  stop(): void;
}

const finalizer = new FinalizationRegistry<() => void>((stop) => stop());

/** `kernel`: thread 0's instance (its stopHelpers makes helpers leave their loop and exit). */
export function startHelpers(
  module: WebAssembly.Module,
  memory: WebAssembly.Memory,
  control: number,
  threads: number,
  kernel: { stopHelpers(): void; failedFlagAddress(): number; answerAddress(w: number): number; readyAddress(): number },
): Helpers {
  const workers: Worker[] = [];
  for (let index = 1; index < threads; index++) {
    const w = new Worker(HELPER_SOURCE, { eval: true, name: `engine-helper-${index}`, workerData: { module, memory, control, index, failedAt: kernel.failedFlagAddress(), answerAt: kernel.answerAddress(index) } });
    w.unref();
    // A helper that fails flags it in shared memory (thread 0 then traps, see HELPER_SOURCE).
    w.on('error', () => {});
    workers.push(w);
  }
  // The network is used only once every helper runs its loop: a helper that starts while thread 0
  // is already inside a sample is not needed for correctness, but starting them all first keeps
  // a slow start (seconds, on a loaded machine) out of the first sample and surfaces a failed one.
  const words = new Int32Array(memory.buffer);
  const ready = kernel.readyAddress() >> 2;
  const failed = kernel.failedFlagAddress() >> 2;
  const deadline = Date.now() + HELPER_START_TIMEOUT_MS;
  for (let n = Atomics.load(words, ready); n < workers.length; n = Atomics.load(words, ready)) {
    if (Atomics.load(words, failed) !== 0 || Date.now() > deadline) {
      kernel.stopHelpers();
      for (const w of workers) void w.terminate();
      throw new Error(`engine helper threads did not start (${n} of ${workers.length} within ${HELPER_START_TIMEOUT_MS / 1000} s)`);
    }
    Atomics.wait(words, ready, n, 50);
  }
  let stopped = false;
  const stop = () => {
    if (!stopped) kernel.stopHelpers();
    stopped = true;
  };
  const helpers: Helpers = { count: workers.length, stop };
  finalizer.register(helpers, stop);
  return helpers;
}
