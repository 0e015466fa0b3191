/**
 * Classifies images with a trained model on a dedicated engine thread, so a large request never
 * blocks the API's event loop (streams keep flowing) and never waits behind training jobs.
 *
 * Requests run one at a time, in order. A request can be abandoned (its client went away, or it
 * ran past its timeout): a waiting one is simply dropped; the running one cannot be interrupted
 * from outside its WebAssembly loop, so its thread is terminated and a fresh one serves the next
 * request — an abandoned classification never delays the ones behind it.
 */
import type { Worker } from 'node:worker_threads';
import type { Classification, TrainedModel } from '../experiment/run.js';
import { spawnThread, spawnThreadFromUrl } from './spawn-thread.js';
import { errorMessage, type FromWorker, type ToWorker } from './worker-protocol.js';

export interface ClassifyOptions {
  /** Aborting ends the request with an AbortError (e.g. the client disconnected). */
  signal?: AbortSignal;
  /** From the call, waiting included; past it the request ends with a ClassifyTimeoutError. */
  timeoutMs?: number;
}

export interface Classifier {
  classify(model: TrainedModel, images: Uint8Array[], opts?: ClassifyOptions): Promise<Classification[]>;
  close(): Promise<void>;
}

export class ClassifyTimeoutError extends Error {}

interface Request {
  id: number;
  model: TrainedModel;
  images: Uint8Array[];
  resolve: (p: Classification[]) => void;
  reject: (e: Error) => void;
  cleanup: () => void;
}

export class ThreadClassifier implements Classifier {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly waiting: Request[] = [];
  private active: Request | null = null;
  private closed = false;

  constructor(private readonly workerUrl?: URL) {}

  classify(model: TrainedModel, images: Uint8Array[], opts: ClassifyOptions = {}): Promise<Classification[]> {
    if (this.closed) return Promise.reject(new Error('classifier is closed'));
    if (opts.signal?.aborted) return Promise.reject(abortError());
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = () => this.abandon(request, abortError());
      const request: Request = {
        id: this.nextId++,
        model,
        images,
        resolve,
        reject,
        cleanup: () => {
          clearTimeout(timer);
          opts.signal?.removeEventListener('abort', onAbort);
        },
      };
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      if (opts.timeoutMs !== undefined) {
        timer = setTimeout(
          () => this.abandon(request, new ClassifyTimeoutError(`classification did not finish within ${opts.timeoutMs} ms`)),
          opts.timeoutMs,
        );
        timer.unref();
      }
      this.waiting.push(request);
      this.next();
    });
  }

  /** Requests not finished yet (running + waiting). */
  get pending(): number {
    return this.waiting.length + (this.active ? 1 : 0);
  }

  private next(): void {
    if (this.active || this.closed) return;
    const request = this.waiting.shift();
    if (!request) return;
    this.active = request;
    const msg: ToWorker = { type: 'classify', requestId: request.id, model: request.model, images: request.images };
    this.ensureWorker().postMessage(msg);
  }

  private settle(request: Request, outcome: { ok: Classification[] } | { err: Error }): void {
    request.cleanup();
    if (this.active === request) this.active = null;
    if ('ok' in outcome) request.resolve(outcome.ok);
    else request.reject(outcome.err);
    this.next();
  }

  private abandon(request: Request, err: Error): void {
    if (this.active === request) {
      // Mid-classification: only terminating the thread stops it.
      this.dropWorker();
      this.settle(request, { err });
      return;
    }
    const at = this.waiting.indexOf(request);
    if (at < 0) return;
    this.waiting.splice(at, 1);
    request.cleanup();
    request.reject(err);
  }

  private dropWorker(): void {
    const worker = this.worker;
    this.worker = null;
    if (!worker) return;
    worker.removeAllListeners();
    worker.on('error', () => {});
    void worker.terminate().catch(() => {});
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = this.workerUrl
      ? spawnThreadFromUrl(this.workerUrl, { name: 'classifier' })
      : spawnThread('engine-worker', { name: 'classifier' });
    worker.on('message', (msg: FromWorker) => {
      if (msg.type !== 'classified' && msg.type !== 'classifyFailed') return;
      const request = this.active;
      if (!request || request.id !== msg.requestId) return;
      this.settle(request, msg.type === 'classified' ? { ok: msg.predictions } : { err: new Error(msg.error) });
    });
    const fail = (reason: string) => {
      if (this.worker !== worker) return;
      this.worker = null;
      if (this.active) this.settle(this.active, { err: new Error(reason) });
    };
    worker.on('error', (err) => fail(`classifier thread crashed: ${errorMessage(err)}`));
    worker.on('exit', (code) => fail(`classifier thread exited with code ${code}`));
    worker.unref();
    this.worker = worker;
    return worker;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const r of this.waiting.splice(0)) {
      r.cleanup();
      r.reject(new Error('classifier is closed'));
    }
    const worker = this.worker;
    this.worker = null;
    if (worker) await worker.terminate();
  }
}

function abortError(): Error {
  const err = new Error('the classification was abandoned');
  err.name = 'AbortError';
  return err;
}
