/**
 * Persists what a job runner reports into the store: status changes, throttled progress,
 * labelling-window metrics, the latest checkpoint and the final result with its trained arrays.
 * Writes of one job are applied strictly in event order (one promise chain per job), so e.g. the
 * final status never lands before the last checkpoint. Listeners hear about a status change only
 * after it is stored, so whoever reacts (stream end, cancel request) sees the stored state.
 *
 * Checkpoints have backpressure: at most one waits to be written per job (a newer one replaces
 * it: latest wins), and two writes of one job are at least `checkpointMinIntervalMs` apart, so a
 * definition that checkpoints every sample cannot queue gigabytes of states behind a slow store,
 * and a cancel or the final result never waits behind a backlog of checkpoints. The stopping
 * point of a shutdown is still written (flush/settled write the pending one at once).
 *
 * It lives wherever events arrive first: next to the embedded runner in the API process, or (in
 * distributed mode) in the worker process that runs the job. An API instance in distributed mode
 * uses it in `remote` mode: the worker has already stored what it reports, so it only keeps the
 * live progress and turns reported ends into status notifications read back from the store —
 * writing only an end the worker could not record (a job the queue failed after it stalled too
 * often, or a waiting job removed by a cancel), compare-and-set as always.
 */
import type { ExperimentEvent } from '../experiment/events.js';
import type { ExperimentRecord, ExperimentStore, ProgressSnapshot } from '../store/store.js';
import { finishedStatuses } from '../store/store.js';
import type { JobRunnerEvent } from './job-runner.js';

export interface Log {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export type StatusListener = (record: ExperimentRecord) => void;

interface PendingCheckpoint {
  /** The latest checkpoint not yet written (null: none waiting). */
  latest: { samplesDone: number; state: Uint8Array } | null;
  savedAt: number;
  timer?: NodeJS.Timeout;
  /** A write is queued on the job's chain and will take `latest` when it runs. */
  queued: boolean;
}

interface Trained {
  weights: Float32Array | null;
  theta: Float32Array | null;
}

export class JobRecorder {
  private readonly chains = new Map<string, Promise<void>>();
  private readonly progress = new Map<string, ProgressSnapshot>();
  private readonly progressSavedAt = new Map<string, number>();
  private readonly trained = new Map<string, Trained>();
  private readonly forgotten = new Set<string>();
  private readonly listeners = new Set<StatusListener>();
  private readonly checkpoints = new Map<string, PendingCheckpoint>();
  /** Checkpoints replaced before they were written (for /metrics and tests). */
  checkpointsDropped = 0;
  checkpointsWritten = 0;

  constructor(
    private readonly store: ExperimentStore,
    private readonly log: Log,
    /** Minimum time between two progress writes of one job; the latest progress is also kept in memory. */
    private readonly progressIntervalMs = 1000,
    private readonly opts: { remote?: boolean; checkpointMinIntervalMs?: number } = {},
  ) {}

  readonly handle = (e: JobRunnerEvent): void => {
    if (this.forgotten.has(e.id)) return;
    if (this.opts.remote) {
      this.handleRemote(e);
      return;
    }
    switch (e.type) {
      case 'started':
        this.enqueue(e.id, async () => {
          const record = await this.store.transition(e.id, ['queued', 'running'], 'running', {
            started: true,
            resumedFrom: e.resumedFrom,
            error: null,
          });
          if (record) this.notify(record);
        });
        return;
      case 'event':
        this.onEngineEvent(e.id, e.event);
        return;
      case 'finished':
        this.discardCheckpoint(e.id);
        this.enqueue(e.id, async () => {
          const trained = this.trained.get(e.id) ?? { weights: null, theta: null };
          this.trained.delete(e.id);
          const progress = this.progress.get(e.id);
          if (progress) await this.store.saveProgress(e.id, progress);
          const neurons = e.result.neurons;
          const record = await this.store.finish(e.id, {
            status: e.result.cancelled ? 'cancelled' : 'completed',
            result: e.result,
            weights: trained.weights,
            weightsShape: [trained.weights && neurons > 0 ? trained.weights.length / neurons : 0, neurons],
            theta: trained.theta,
          });
          this.endOf(e.id);
          if (record) this.notify(record);
        });
        return;
      case 'failed':
        // The failed run's checkpoints still matter (a retry resumes from the last one written).
        this.writeCheckpointNow(e.id);
        this.enqueue(e.id, async () => {
          this.checkpoints.delete(e.id);
          this.trained.delete(e.id);
          const record = await this.store.transition(e.id, ['queued', 'running'], 'failed', { error: e.error, finished: true });
          this.endOf(e.id);
          if (record) this.notify(record);
        });
        return;
      case 'cancelled':
        this.discardCheckpoint(e.id);
        this.enqueue(e.id, async () => {
          this.trained.delete(e.id);
          // From `running` too: a job stopped by force inside a sample ends without results.
          const record = await this.store.transition(e.id, ['queued', 'running'], 'cancelled', { finished: true });
          this.endOf(e.id);
          if (record) this.notify(record);
        });
        return;
    }
  };

  /** Remote mode: the worker stored it; read the stored state back and tell the listeners. */
  private handleRemote(e: JobRunnerEvent): void {
    const readBack = async (written: ExperimentRecord | null) => {
      const record = written ?? (await this.store.get(e.id));
      if (record) this.notify(record);
    };
    switch (e.type) {
      case 'started':
        this.enqueue(e.id, () => readBack(null));
        return;
      case 'event':
        if (e.event.type === 'progress') {
          const { type: _t, ...snapshot } = e.event;
          this.progress.set(e.id, snapshot);
        }
        return;
      case 'finished':
        this.enqueue(e.id, async () => {
          this.endOf(e.id);
          await readBack(null);
        });
        return;
      case 'failed':
        this.enqueue(e.id, async () => {
          this.endOf(e.id);
          await readBack(await this.store.transition(e.id, ['queued', 'running'], 'failed', { error: e.error, finished: true }));
        });
        return;
      case 'cancelled':
        this.enqueue(e.id, async () => {
          this.endOf(e.id);
          await readBack(await this.store.transition(e.id, ['queued', 'running'], 'cancelled', { finished: true }));
        });
        return;
    }
  }

  private onEngineEvent(id: string, event: ExperimentEvent): void {
    switch (event.type) {
      case 'progress': {
        const { type: _t, ...snapshot } = event;
        this.progress.set(id, snapshot);
        const now = Date.now();
        if (now - (this.progressSavedAt.get(id) ?? 0) >= this.progressIntervalMs) {
          this.progressSavedAt.set(id, now);
          this.enqueue(id, () => this.store.saveProgress(id, snapshot));
        }
        return;
      }
      case 'metrics':
        this.enqueue(id, () => this.store.appendMetrics(id, event));
        return;
      case 'checkpoint':
        this.offerCheckpoint(id, event.samplesDone, event.state);
        return;
      case 'weights': {
        // A run stopped before its `done` still leaves its latest snapshot as partial weights.
        const t = this.trained.get(id);
        this.trained.set(id, { weights: event.data, theta: t?.theta ?? null });
        return;
      }
      case 'done':
        this.trained.set(id, { weights: event.weights, theta: event.theta });
        return;
      default:
        return;
    }
  }

  /** The latest progress of a job running here (fresher than the stored, throttled one). */
  liveProgress(id: string): ProgressSnapshot | undefined {
    return this.progress.get(id);
  }

  liveProgressAll(): [string, ProgressSnapshot][] {
    return [...this.progress.entries()];
  }

  /** Whether events of this job are still being written. */
  isBusy(id: string): boolean {
    return this.chains.has(id);
  }

  onStatus(listener: StatusListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves with the record once the job reaches a final status (or null after the timeout). */
  waitForFinish(id: string, timeoutMs: number): Promise<ExperimentRecord | null> {
    return new Promise((resolve) => {
      const off = this.onStatus((record) => {
        if (record.id !== id || !finishedStatuses.includes(record.status)) return;
        clearTimeout(timer);
        off();
        resolve(record);
      });
      const timer = setTimeout(() => {
        off();
        resolve(null);
      }, timeoutMs);
    });
  }

  /** Latest wins: replaces a waiting checkpoint, and schedules a write no sooner than the minimum interval. */
  private offerCheckpoint(id: string, samplesDone: number, state: Uint8Array): void {
    let c = this.checkpoints.get(id);
    if (!c) {
      c = { latest: null, savedAt: 0, queued: false };
      this.checkpoints.set(id, c);
    }
    if (c.latest) this.checkpointsDropped++;
    c.latest = { samplesDone, state };
    this.scheduleCheckpoint(id, c);
  }

  private scheduleCheckpoint(id: string, c: PendingCheckpoint, now = false): void {
    if (c.queued || !c.latest) return;
    if (c.timer && !now) return;
    clearTimeout(c.timer);
    c.timer = undefined;
    const wait = now ? 0 : c.savedAt + (this.opts.checkpointMinIntervalMs ?? 0) - Date.now();
    if (wait > 0) {
      c.timer = setTimeout(() => {
        c.timer = undefined;
        this.scheduleCheckpoint(id, c);
      }, wait);
      c.timer.unref();
      return;
    }
    c.queued = true;
    this.enqueue(id, async () => {
      c.queued = false;
      const latest = c.latest;
      c.latest = null;
      if (!latest || this.checkpoints.get(id) !== c) return;
      try {
        await this.store.saveCheckpoint(id, latest.samplesDone, latest.state);
        this.checkpointsWritten++;
      } finally {
        c.savedAt = Date.now();
        // One arrived while this one was being written: its turn comes after the interval.
        if (c.latest) this.scheduleCheckpoint(id, c);
      }
    });
  }

  /** The run ended: its checkpoints are of no use any more (finish() deletes the stored one). */
  private discardCheckpoint(id: string): void {
    const c = this.checkpoints.get(id);
    if (!c) return;
    clearTimeout(c.timer);
    if (c.latest) this.checkpointsDropped++;
    this.checkpoints.delete(id);
  }

  /** Writes the waiting checkpoint of a job now (shutdown: the stopping point must be stored). */
  private writeCheckpointNow(id: string): void {
    const c = this.checkpoints.get(id);
    if (c?.latest) this.scheduleCheckpoint(id, c, true);
  }

  /** Stops recording a job (it is being deleted). */
  forget(id: string): void {
    this.discardCheckpoint(id);
    this.forgotten.add(id);
    this.endOf(id);
    this.trained.delete(id);
  }

  /** Waits until every write of one job queued so far is applied. */
  async settled(id: string): Promise<void> {
    this.writeCheckpointNow(id);
    for (let chain = this.chains.get(id); chain; chain = this.chains.get(id)) await chain;
    const c = this.checkpoints.get(id);
    if (c && !c.latest && !c.timer && !c.queued) this.checkpoints.delete(id);
  }

  /** Waits until every write queued so far is applied (graceful shutdown). */
  async flush(): Promise<void> {
    for (const id of this.checkpoints.keys()) this.writeCheckpointNow(id);
    while (this.chains.size > 0) await Promise.all([...this.chains.values()]);
  }

  private endOf(id: string): void {
    this.progress.delete(id);
    this.progressSavedAt.delete(id);
  }

  private enqueue(id: string, write: () => Promise<void>): void {
    const previous = this.chains.get(id) ?? Promise.resolve();
    const next = previous
      .then(() => (this.forgotten.has(id) ? undefined : write()))
      .catch((err: unknown) => this.log.error({ err, experimentId: id }, 'failed to record job event'));
    this.chains.set(id, next);
    void next.then(() => {
      if (this.chains.get(id) === next) this.chains.delete(id);
    });
  }

  private notify(record: ExperimentRecord): void {
    for (const listener of this.listeners) {
      try {
        listener(record);
      } catch (err) {
        this.log.error({ err, experimentId: record.id }, 'status listener failed');
      }
    }
  }
}
