/** Entry of an engine worker thread: serves the real engine. */
import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { serveEngine, type Engine } from './engine-thread.js';

if (!parentPort) throw new Error('engine-worker must run as a worker thread');

/**
 * Linux schedules threads individually, and setpriority on the calling "process" renices only
 * this thread: the engine yields the CPU to the API's event loop (requests, streams, a
 * distributed worker's lock renewal) when they compete, and takes all of it otherwise. Elsewhere
 * the call would renice the whole process, so it is Linux only.
 */
const ENGINE_THREAD_NICE = 10;
if (process.platform === 'linux') {
  try {
    setPriority(ENGINE_THREAD_NICE);
  } catch {
    // Not permitted (some sandboxes): run at normal priority.
  }
}

// Imported lazily so a broken engine module fails the job with its message instead of killing the thread.
serveEngine(parentPort, async (): Promise<Engine> => {
  const { runExperiment, classify } = await import('../experiment/run.js');
  return { runExperiment, classify };
});
