/** Entry of an engine worker thread: serves the real engine. */
import { parentPort } from 'node:worker_threads';
import { serveEngine, type Engine } from './engine-thread.js';

if (!parentPort) throw new Error('engine-worker must run as a worker thread');

// Imported lazily so a broken engine module fails the job with its message instead of killing the thread.
serveEngine(parentPort, async (): Promise<Engine> => {
  const { runExperiment, classify } = await import('../experiment/run.js');
  return { runExperiment, classify };
});
