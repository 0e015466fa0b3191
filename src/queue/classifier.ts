/**
 * Classifies images with a trained model on a dedicated engine thread, so a large request never
 * blocks the API's event loop (streams keep flowing) and never waits behind training jobs.
 */
import type { Worker } from 'node:worker_threads';
import type { Classification, TrainedModel } from '../experiment/run.js';
import { spawnThread, spawnThreadFromUrl } from './spawn-thread.js';
import { errorMessage, type FromWorker, type ToWorker } from './worker-protocol.js';

export interface Classifier {
  classify(model: TrainedModel, images: Uint8Array[]): Promise<Classification[]>;
  close(): Promise<void>;
}

export class ThreadClassifier implements Classifier {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (p: Classification[]) => void; reject: (e: Error) => void }>();
  private closed = false;

  constructor(private readonly workerUrl?: URL) {}

  classify(model: TrainedModel, images: Uint8Array[]): Promise<Classification[]> {
    if (this.closed) return Promise.reject(new Error('classifier is closed'));
    const worker = this.ensureWorker();
    const requestId = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(requestId, { resolve, reject });
      const msg: ToWorker = { type: 'classify', requestId, model, images };
      worker.postMessage(msg);
    });
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = this.workerUrl
      ? spawnThreadFromUrl(this.workerUrl, { name: 'classifier' })
      : spawnThread('engine-worker', { name: 'classifier' });
    worker.on('message', (msg: FromWorker) => {
      if (msg.type !== 'classified' && msg.type !== 'classifyFailed') return;
      const p = this.pending.get(msg.requestId);
      if (!p) return;
      this.pending.delete(msg.requestId);
      if (msg.type === 'classified') p.resolve(msg.predictions);
      else p.reject(new Error(msg.error));
    });
    const fail = (reason: string) => {
      if (this.worker === worker) this.worker = null;
      for (const p of this.pending.values()) p.reject(new Error(reason));
      this.pending.clear();
    };
    worker.on('error', (err) => fail(`classifier thread crashed: ${errorMessage(err)}`));
    worker.on('exit', (code) => fail(`classifier thread exited with code ${code}`));
    worker.unref();
    this.worker = worker;
    return worker;
  }

  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = null;
    if (worker) await worker.terminate();
  }
}
