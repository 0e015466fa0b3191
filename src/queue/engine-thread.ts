/**
 * The loop of an engine worker thread: runs one experiment at a time (or classifies images) and
 * posts its events to the main thread, transferring typed-array buffers instead of copying them.
 * The engine is passed in so tests can serve a scripted engine through the same protocol.
 */
import type { MessagePort } from 'node:worker_threads';
import type { ExperimentDefinition } from '../experiment/schema.js';
import type { EmitFn, ExperimentResult } from '../experiment/events.js';
import type { Classification, RunOptions, TrainedModel } from '../experiment/run.js';
import { errorMessage, transferableEvent, type FromWorker, type ToWorker } from './worker-protocol.js';

export interface Engine {
  runExperiment(def: ExperimentDefinition, opts: RunOptions): Promise<ExperimentResult>;
  classify(model: TrainedModel, images: Uint8Array[]): Classification[] | Promise<Classification[]>;
}

export function serveEngine(port: MessagePort, loadEngine: () => Promise<Engine>): void {
  const post = (msg: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(msg, transfer);

  port.on('message', (msg: ToWorker) => {
    if (msg.type === 'run') void run(msg);
    else void classify(msg);
  });

  async function run(msg: Extract<ToWorker, { type: 'run' }>) {
    const stop = new Int32Array(msg.stop);
    const minInterval = msg.checkpointMinIntervalMs ?? 0;
    let checkpointAt = -Infinity;
    const emit: EmitFn = (event) => {
      // Backpressure at the source: a definition that checkpoints every sample would otherwise
      // post megabytes per sample to the main thread. The checkpoint of a stop is always sent.
      if (event.type === 'checkpoint' && minInterval > 0 && Atomics.load(stop, 0) === 0) {
        const now = performance.now();
        if (now - checkpointAt < minInterval) return;
        checkpointAt = now;
      }
      const t = transferableEvent(event);
      post({ type: 'event', id: msg.id, event: t.event }, t.transfer);
    };
    try {
      const engine = await loadEngine();
      const result = await engine.runExperiment(msg.definition, {
        emit,
        shouldStop: () => Atomics.load(stop, 0) !== 0,
        resumeFrom: msg.resumeFrom,
        dataDir: msg.dataDir,
        datasetsDir: msg.datasetsDir,
        threads: { budget: msg.engineThreads ?? 1 },
      });
      post({ type: 'finished', id: msg.id, result });
    } catch (err) {
      post({ type: 'failed', id: msg.id, error: errorMessage(err) });
    }
  }

  async function classify(msg: Extract<ToWorker, { type: 'classify' }>) {
    try {
      const engine = await loadEngine();
      post({ type: 'classified', requestId: msg.requestId, predictions: await engine.classify(msg.model, msg.images) });
    } catch (err) {
      post({ type: 'classifyFailed', requestId: msg.requestId, error: errorMessage(err) });
    }
  }
}
