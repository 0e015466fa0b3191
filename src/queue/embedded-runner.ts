/**
 * The embedded job runner: a fixed pool of engine worker threads fed from a FIFO queue.
 * Cancellation is a shared Int32 flag the engine reads between samples, so a busy thread stops
 * without having to process a message. A sample itself cannot look at the flag (its loops run in
 * WebAssembly, or in one long JS loop for the rest period), so a job that has not stopped within
 * `cancelGraceMs` is stopped by terminating its thread — V8 interrupts running WebAssembly on
 * terminate — and a fresh thread takes the slot: a cancel or delete is observed within about a
 * second whatever one sample costs, and the thread is free for the next job.
 */
import type { Worker } from 'node:worker_threads';
import {
  RunnerListeners,
  type JobRunner,
  type JobRunnerEvent,
  type JobRunnerListener,
  type JobRunnerStats,
  type JobSpec,
  type ResumePoint,
} from './job-runner.js';
import { spawnThread, spawnThreadFromUrl } from './spawn-thread.js';
import { StoreEveryEvent } from './store-every-event.js';
import { errorMessage, type FromWorker, type ToWorker } from './worker-protocol.js';

export interface EmbeddedRunnerOptions {
  workers: number;
  /** MNIST directory handed to the engine. */
  dataDir?: string;
  /** Root of uploaded datasets' canonical files handed to the engine. */
  datasetsDir?: string;
  /**
   * Makes an uploaded dataset readable under datasetsDir before its job starts (distributed mode:
   * copies it out of PostgreSQL into this machine's cache).
   */
  prepareDataset?: (sha256: string) => Promise<void>;
  /** Engine thread module; defaults to ./engine-worker (tests substitute a scripted engine). */
  workerUrl?: URL;
  onListenerError?: (err: unknown) => void;
  /** Checkpoints of one job closer together than this are dropped in its thread (0: none). */
  checkpointMinIntervalMs?: number;
  /** Threads one job's network may use when it is large enough (engineThreadsFor); default 1. */
  engineThreads?: number;
  /** Time a cancelled job gets to stop at a sample boundary before its thread is terminated (default 500 ms). */
  cancelGraceMs?: number;
  /** Most jobs of one owner running at once (0 = unlimited); a job over it waits, later jobs of others go first. */
  runningLimit?: (owner: string | null | undefined) => number;
  /**
   * Where the checkpoints of resubmitted experiments are (the store). A distributed worker's pool
   * has none: its processor loads the checkpoint and puts it in the JobSpec itself.
   */
  checkpoints?: { loadCheckpoint(id: string): Promise<ResumePoint | null> };
}

interface Slot {
  worker: Worker;
  job: { spec: JobSpec; stop: Int32Array; killTimer?: NodeJS.Timeout } | null;
  /** While closing: called when the slot's engine has stopped. */
  onStopped?: () => void;
}

/**
 * How long `close` waits for running engines to stop at a sample boundary (and report the
 * checkpoint of that point) before terminating them inside their sample; they then resume from
 * their last stored checkpoint. Longer than a cancel's grace: a shutdown wants to keep the work
 * done since that checkpoint, and a reniced engine thread on a loaded host can need more than a
 * second to reach the boundary and post its state.
 */
const STOP_TIMEOUT_MS = 5000;

export class EmbeddedJobRunner implements JobRunner {
  readonly kind = 'embedded' as const;
  private readonly slots: Slot[] = [];
  private readonly queue: JobSpec[] = [];
  private readonly listeners: RunnerListeners;
  private started = false;
  private closed = false;
  /** close() has begun: engines are stopping and only their checkpoints are still reported. */
  private stopping = false;

  constructor(private readonly opts: EmbeddedRunnerOptions) {
    this.listeners = new RunnerListeners(opts.onListenerError);
    if (!Number.isInteger(opts.workers) || opts.workers < 1) throw new Error('workers must be a positive integer');
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    for (let i = 0; i < this.opts.workers; i++) this.slots.push(this.newSlot(i));
  }

  private newSlot(index: number): Slot {
    const worker = this.opts.workerUrl
      ? spawnThreadFromUrl(this.opts.workerUrl, { name: `engine-${index}` })
      : spawnThread('engine-worker', { name: `engine-${index}` });
    const slot: Slot = { worker, job: null };
    worker.on('message', (msg: FromWorker) => this.onMessage(slot, msg));
    worker.on('error', (err) => this.onThreadDeath(slot, `engine thread crashed: ${errorMessage(err)}`));
    worker.on('exit', (code) => this.onThreadDeath(slot, `engine thread exited with code ${code}`));
    // Idle threads must not keep a finished process alive.
    worker.unref();
    return slot;
  }

  async submit(job: JobSpec): Promise<void> {
    if (this.closed || this.stopping) throw new Error('job runner is closed');
    if (!this.started) throw new Error('job runner is not started');
    if (this.has(job.id)) throw new Error(`job ${job.id} is already queued or running`);
    this.queue.push(job);
    this.pump();
  }

  async cancel(id: string): Promise<boolean> {
    const queuedAt = this.queue.findIndex((j) => j.id === id);
    if (queuedAt >= 0) {
      this.queue.splice(queuedAt, 1);
      this.emit({ type: 'cancelled', id });
      return true;
    }
    const slot = this.slots.find((s) => s.job?.spec.id === id);
    if (!slot) return false;
    const job = slot.job!;
    Atomics.store(job.stop, 0, 1);
    job.killTimer ??= setTimeout(() => {
      // Still the same job after the grace: it is inside a long sample. End it by force.
      if (slot.job === job && !this.stopping && !this.closed) this.kill(slot, id);
    }, this.opts.cancelGraceMs ?? 500);
    job.killTimer.unref();
    return true;
  }

  /**
   * Terminates a slot's thread mid-sample and gives the slot a fresh thread. The job ends
   * `cancelled` without partial results (its last stored checkpoint stays as it was).
   */
  private kill(slot: Slot, id: string): void {
    const index = this.slots.indexOf(slot);
    if (index < 0) return;
    slot.job = null;
    slot.worker.removeAllListeners();
    slot.worker.on('error', () => {});
    void slot.worker.terminate().catch(() => {});
    this.slots[index] = this.newSlot(index);
    this.emit({ type: 'cancelled', id });
    this.pump();
  }

  has(id: string): boolean {
    return this.queue.some((j) => j.id === id) || this.slots.some((s) => s.job?.spec.id === id);
  }

  async holds(id: string): Promise<boolean> {
    return this.has(id);
  }

  /** A running experiment continues from its latest stored checkpoint; a queued one starts from scratch. */
  async resumeCheckpointFor(record: { id: string; status: string }): Promise<ResumePoint | null> {
    if (record.status !== 'running' || !this.opts.checkpoints) return null;
    return this.opts.checkpoints.loadCheckpoint(record.id);
  }

  /** Nothing to reconcile: this queue lives and dies with the process, and start resubmits what the store holds. */
  reconcileWith(_reconcile: () => Promise<number>): void {}

  on(listener: JobRunnerListener): () => void {
    return this.listeners.add(listener);
  }

  /** The jobs run in this process's threads: nothing has stored their events yet. */
  recording(): StoreEveryEvent {
    return new StoreEveryEvent();
  }

  stats(): JobRunnerStats {
    return {
      queued: this.queue.length,
      running: this.slots.filter((s) => s.job !== null).length,
      workers: this.slots.length,
    };
  }

  async check(): Promise<void> {
    if (this.closed) throw new Error('job runner is closed');
    if (!this.started) throw new Error('job runner is not started');
  }

  /** No cluster: the threads of this process are all there is (stats() reports them). */
  async clusterStats(): Promise<null> {
    return null;
  }

  async close(): Promise<void> {
    if (this.closed || this.stopping) return;
    this.stopping = true;
    this.queue.length = 0;
    // Running engines stop at their next sample boundary and report a checkpoint of that point;
    // their events up to there are still recorded, their (partial) end is not, so the job stays
    // `running` in the store and the next start resumes it exactly where it stopped.
    const running = this.slots.filter((s) => s.job !== null);
    const stopped = running.map((s) => new Promise<void>((resolve) => (s.onStopped = resolve)));
    for (const slot of running) Atomics.store(slot.job!.stop, 0, 1);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(stopped), new Promise((resolve) => (timer = setTimeout(resolve, STOP_TIMEOUT_MS)))]);
    clearTimeout(timer);
    this.closed = true;
    this.listeners.clear();
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (slot.job !== null) continue;
      const next = this.queue.findIndex((j) => this.mayStart(j));
      if (next < 0) return;
      this.assign(slot, this.queue.splice(next, 1)[0]!);
    }
  }

  /** FIFO, except that a job whose owner already runs its quota waits for one of them to end. */
  private mayStart(job: JobSpec): boolean {
    const limit = this.opts.runningLimit?.(job.owner) ?? 0;
    if (limit <= 0) return true;
    return this.slots.filter((s) => s.job !== null && s.job.spec.owner === job.owner).length < limit;
  }

  private assign(slot: Slot, spec: JobSpec): void {
    const stop = new SharedArrayBuffer(4);
    slot.job = { spec, stop: new Int32Array(stop) };
    this.emit({ type: 'started', id: spec.id, resumedFrom: spec.resumeFrom ? (spec.resumeFromSample ?? 0) : null });
    const resumeFrom = spec.resumeFrom ? new Uint8Array(spec.resumeFrom) : undefined;
    const msg: ToWorker = {
      type: 'run',
      id: spec.id,
      definition: spec.definition,
      resumeFrom,
      stop,
      dataDir: this.opts.dataDir,
      datasetsDir: this.opts.datasetsDir,
      checkpointMinIntervalMs: this.opts.checkpointMinIntervalMs,
      engineThreads: this.opts.engineThreads,
    };
    const ds = spec.definition.dataset;
    const sha = ds.name === 'upload' ? ds.resolved?.sha256 : undefined;
    if (!sha || !this.opts.prepareDataset) {
      slot.worker.postMessage(msg, resumeFrom ? [resumeFrom.buffer] : []);
      return;
    }
    this.opts.prepareDataset(sha).then(
      () => {
        if (slot.job?.spec === spec && !this.closed) slot.worker.postMessage(msg, resumeFrom ? [resumeFrom.buffer] : []);
      },
      (err: unknown) => {
        if (slot.job?.spec !== spec || this.closed) return;
        slot.job = null;
        if (this.stopping) slot.onStopped?.();
        else {
          this.emit({ type: 'failed', id: spec.id, error: `could not load dataset ${sha}: ${errorMessage(err)}` });
          this.pump();
        }
      },
    );
  }

  private onMessage(slot: Slot, msg: FromWorker): void {
    if (this.closed || !slot.job) return;
    const id = slot.job.spec.id;
    if (this.stopping) {
      // Everything up to the stop is recorded (a labelling window the resumed run will not
      // repeat, the checkpoint of the stopping point); the partial end is not.
      if (msg.type === 'event' && msg.event.type !== 'done') this.emit({ type: 'event', id, event: msg.event });
      else if (msg.type === 'finished' || msg.type === 'failed') {
        slot.job = null;
        slot.onStopped?.();
      }
      return;
    }
    switch (msg.type) {
      case 'event':
        this.emit({ type: 'event', id, event: msg.event });
        return;
      case 'finished':
        clearTimeout(slot.job.killTimer);
        slot.job = null;
        this.emit({ type: 'finished', id, result: msg.result });
        this.pump();
        return;
      case 'failed':
        clearTimeout(slot.job.killTimer);
        slot.job = null;
        this.emit({ type: 'failed', id, error: msg.error });
        this.pump();
        return;
      default:
        return;
    }
  }

  /** A thread that dies fails its job and is replaced, so the pool keeps its size. */
  private onThreadDeath(slot: Slot, reason: string): void {
    if (this.stopping) slot.onStopped?.();
    if (this.closed || this.stopping) return;
    const index = this.slots.indexOf(slot);
    if (index < 0) return;
    const job = slot.job;
    clearTimeout(job?.killTimer);
    slot.job = null;
    slot.worker.removeAllListeners();
    slot.worker.on('error', () => {});
    void slot.worker.terminate().catch(() => {});
    this.slots[index] = this.newSlot(index);
    if (job) this.emit({ type: 'failed', id: job.spec.id, error: reason });
    this.pump();
  }

  private emit(event: JobRunnerEvent): void {
    this.listeners.emit(event);
  }
}
