/**
 * Turns what a job runner reports into stored state and status notifications. Writes of one job
 * are applied strictly in event order (JobWriteChains), checkpoints have backpressure
 * (CheckpointThrottle), and listeners hear about a status change only after it is stored, so
 * whoever reacts (stream end, cancel request) sees the stored state. It also keeps the latest
 * progress of every running job in memory (fresher than the stored, throttled one).
 *
 * What is written depends on where the job ran, and that is the runner's to say
 * (`JobRunner.recording()`): a job that runs in this process has had nothing stored yet, so every
 * event is written (StoreEveryEvent); a job a distributed worker ran was stored by that worker, so
 * this process only reads its status back (ReadBackStoredEnds).
 */
import type { ExperimentRecord, ExperimentStore, ProgressSnapshot } from '../store/store.js';
import { finishedStatuses } from '../store/store.js';
import { CheckpointThrottle } from './checkpoint-throttle.js';
import { JobWriteChains } from './job-write-chains.js';
import type { JobRunnerEvent } from './job-runner.js';

export interface Log {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export type StatusListener = (record: ExperimentRecord) => void;

/** What a recording works with: the store, the job's write chain, the listeners, the live progress. */
export interface RecordingTools {
  readonly store: ExperimentStore;
  /** Queues a write of the job after its earlier ones. */
  write(id: string, write: () => Promise<void>): void;
  /** Tells the status listeners; called after the write that stored the status. */
  notify(record: ExperimentRecord): void;
  /** The job is over here: its live progress is dropped. */
  ended(id: string): void;
  liveProgress(id: string): ProgressSnapshot | undefined;
  readonly checkpoints: CheckpointThrottle;
  /** Minimum time between two progress writes of one job. */
  readonly progressIntervalMs: number;
}

/** How the events of one runner are recorded (the part that differs between runners). */
export interface JobRecording {
  /** Records one event (the recorder has already kept a progress event as live progress). */
  record(e: JobRunnerEvent, tools: RecordingTools): void;
  /** Drops whatever it keeps of a job that is being deleted. */
  forget(id: string): void;
  /** Queues the writes it holds back of one job (every job: `null`), before the job settles. */
  release(id: string | null, tools: RecordingTools): void;
}

export interface RecorderSettings {
  /** Minimum time between two progress writes of one job; the latest progress is also kept in memory. */
  progressIntervalMs?: number;
  /** Minimum time between two checkpoint writes of one job (older waiting ones are dropped). */
  checkpointMinIntervalMs?: number;
}

export class JobRecorder {
  private readonly writes: JobWriteChains;
  private readonly checkpoints: CheckpointThrottle;
  private readonly progress = new Map<string, ProgressSnapshot>();
  private readonly listeners = new Set<StatusListener>();
  private readonly tools: RecordingTools;

  constructor(
    store: ExperimentStore,
    private readonly log: Log,
    private readonly recording: JobRecording,
    settings: RecorderSettings = {},
  ) {
    this.writes = new JobWriteChains(log);
    this.checkpoints = new CheckpointThrottle(store, this.writes, settings.checkpointMinIntervalMs ?? 0);
    this.tools = {
      store,
      write: (id, write) => this.writes.enqueue(id, write),
      notify: (record) => this.notify(record),
      ended: (id) => this.progress.delete(id),
      liveProgress: (id) => this.progress.get(id),
      checkpoints: this.checkpoints,
      progressIntervalMs: settings.progressIntervalMs ?? 1000,
    };
  }

  /** Checkpoints replaced before they were written, and checkpoints written (for /metrics and tests). */
  get checkpointsDropped(): number {
    return this.checkpoints.dropped;
  }

  get checkpointsWritten(): number {
    return this.checkpoints.written;
  }

  readonly handle = (e: JobRunnerEvent): void => {
    if (this.writes.isForgotten(e.id)) return;
    if (e.type === 'event' && e.event.type === 'progress') {
      const { type: _t, ...snapshot } = e.event;
      this.progress.set(e.id, snapshot);
    }
    this.recording.record(e, this.tools);
  };

  /** The latest progress of a running job (fresher than the stored, throttled one). */
  liveProgress(id: string): ProgressSnapshot | undefined {
    return this.progress.get(id);
  }

  liveProgressAll(): [string, ProgressSnapshot][] {
    return [...this.progress.entries()];
  }

  /** Whether events of this job are still being written. */
  isBusy(id: string): boolean {
    return this.writes.busy(id);
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

  /** Stops recording a job (it is being deleted). */
  forget(id: string): void {
    this.checkpoints.discard(id);
    this.writes.forget(id);
    this.progress.delete(id);
    this.recording.forget(id);
  }

  /** Waits until every write of one job queued so far is applied, its waiting checkpoint included. */
  async settled(id: string): Promise<void> {
    this.recording.release(id, this.tools);
    this.checkpoints.writeNow(id);
    await this.writes.settled(id);
    this.checkpoints.releaseIfIdle(id);
  }

  /** Waits until every write queued so far is applied, waiting checkpoints included (graceful shutdown). */
  async flush(): Promise<void> {
    this.recording.release(null, this.tools);
    for (const id of this.checkpoints.jobs()) this.checkpoints.writeNow(id);
    await this.writes.allSettled();
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
