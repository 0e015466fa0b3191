/**
 * The job-runner port: where experiments run. The embedded adapter runs them in this process's
 * worker threads; a distributed adapter (BullMQ on Redis) can run them on other machines and
 * relay the same events. The API only ever talks to this interface.
 */
import type { ExperimentDefinition } from '../experiment/schema.js';
import type { ExperimentEvent, ExperimentResult } from '../experiment/events.js';
import type { JobRecording } from './job-recorder.js';

export interface JobSpec {
  /** The experiment id; one job per experiment at a time. */
  id: string;
  definition: ExperimentDefinition;
  /** Principal id of the experiment's owner (per-owner running quota); null/undefined: none. */
  owner?: string | null;
  /** State bytes of the experiment's latest checkpoint, to continue an interrupted run. */
  resumeFrom?: Uint8Array;
  /** Training samples the checkpoint covers (informational, for records and logs). */
  resumeFromSample?: number;
}

/**
 * What happens to jobs. For one job: `started`, then any number of `event`s in emission order,
 * then exactly one of `finished` / `failed` / `cancelled` — unless the runner is closed first, in
 * which case nothing more is reported (the job stays unfinished in the store and is resumed by
 * the next runner).
 */
export type JobRunnerEvent =
  | { type: 'started'; id: string; resumedFrom: number | null }
  | { type: 'event'; id: string; event: ExperimentEvent }
  /** The run ended; `result.cancelled` is true when a cancel stopped it early (partial results). */
  | { type: 'finished'; id: string; result: ExperimentResult }
  | { type: 'failed'; id: string; error: string }
  /**
   * Cancelled while still waiting in the queue, or stopped by force inside a sample (its thread
   * terminated after the cancel grace): there are no results.
   */
  | { type: 'cancelled'; id: string };

export type JobRunnerListener = (event: JobRunnerEvent) => void;

export interface JobRunnerStats {
  /** Jobs waiting for a free worker. */
  queued: number;
  /** Jobs currently running. */
  running: number;
  /** Engine worker threads (or processes) available. */
  workers: number;
}

/** Distributed mode only: the queue and the worker processes as seen from Redis (for /metrics). */
export interface ClusterStats {
  /** Jobs in the queue by BullMQ state (waiting, active, delayed, prioritized, failed). */
  queue: Record<string, number>;
  /** Worker processes with a recent heartbeat and the jobs each is running. */
  workers: { id: string; host: string; pid: number; concurrency: number; active: number }[];
  /** Cluster-wide since the counters were created: jobs requeued after their worker died, and failed runs retried. */
  counters: { stalled: number; retried: number };
}

/** The latest stored checkpoint of an experiment: where an interrupted run continues. */
export interface ResumePoint {
  samplesDone: number;
  state: Uint8Array;
}

/**
 * Every adapter implements every method, so callers never ask which runner they have; `kind`
 * is for reports (/health) only.
 */
export interface JobRunner {
  readonly kind: 'embedded' | 'bullmq';
  start(): Promise<void>;
  /**
   * Queues a job (FIFO). The embedded runner rejects a job with an id it already holds; the
   * BullMQ runner treats it as a no-op (several API instances may enqueue the same experiment).
   */
  submit(job: JobSpec): Promise<void>;
  /**
   * Asks a job to stop: a queued job is removed (`cancelled`), a running one stops after its
   * current sample (`finished` with partial results). Resolves false if the runner does not know
   * the job (already over, or never submitted here).
   */
  cancel(id: string): Promise<boolean>;
  /**
   * Whether the job is queued or running where this runner's jobs run: this process's queue and
   * threads (embedded), or the queue every instance and worker shares (BullMQ, asked of Redis).
   * Used to find unfinished experiments that nothing will run.
   */
  holds(id: string): Promise<boolean>;
  /**
   * The checkpoint to put in the JobSpec of an unfinished experiment that is submitted again
   * (null: none to send). The embedded runner's threads get it from here; BullMQ workers load it
   * from the store themselves when they take the job, so it never goes through Redis.
   */
  resumeCheckpointFor(record: { id: string; status: string }): Promise<ResumePoint | null>;
  /**
   * Has `reconcile` called whenever the queue may have lost jobs the database still holds as
   * unfinished (it resubmits them and resolves with how many). BullMQ: periodically and whenever
   * Redis comes back (a Redis flushed or restarted without its AOF). Embedded: never — its queue
   * lives and dies with this process, and everything unfinished is resubmitted at start.
   */
  reconcileWith(reconcile: () => Promise<number>): void;
  on(listener: JobRunnerListener): () => void;
  stats(): JobRunnerStats;
  /**
   * How a JobRecorder records this runner's events (a new one for each recorder): everything,
   * when the jobs run in this process; only the ends the store does not hold yet, when worker
   * processes ran them and stored them.
   */
  recording(): JobRecording;
  /** Readiness: throws when the runner cannot take or run jobs. */
  check(): Promise<void>;
  /**
   * Queue depth, workers and their active jobs, stalled/retried counts of the cluster; null when
   * there is none (the embedded runner's threads are all of it, and stats() reports them).
   */
  clusterStats(): Promise<ClusterStats | null>;
  /**
   * Stops taking jobs and stops running ones at a sample boundary without reporting their end
   * (only the checkpoint of the point where they stopped), so they stay `running`/`queued` in the
   * store and resume from their last checkpoint on the next start.
   */
  close(): Promise<void>;
}

/** The listeners of a runner: one throwing listener neither stops the others nor the runner. */
export class RunnerListeners {
  private readonly listeners = new Set<JobRunnerListener>();

  constructor(private readonly onError?: (err: unknown) => void) {}

  add(listener: JobRunnerListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: JobRunnerEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (err) {
        this.onError?.(err);
      }
    }
  }

  clear(): void {
    this.listeners.clear();
  }
}
