/**
 * The distributed job runner (REDIS_URL set): the API side of BullMQ. Experiments become BullMQ
 * jobs (jobId = experiment id, so adding one twice is a no-op); worker processes
 * (workers/worker.ts, src/queue/distributed-worker.ts) run them and write everything to the
 * shared PostgreSQL store. This adapter only relays what happens, to this API instance's stream
 * hub and recorder:
 *
 * - ends through BullMQ's QueueEvents (a Redis stream, so a short disconnect loses nothing):
 *   `completed`, `failed`, `removed`;
 * - live events (progress, metrics, spikes, weights, voltage) through Redis pub/sub, encoded
 *   binary (src/queue/redis.ts), several events of a job per message — one channel every API
 *   instance subscribes to, so a client of instance B watches a job submitted to instance A.
 *   Progress rides with them rather than through job.updateProgress (a Lua script and a stream
 *   entry that every API instance reads, ten times a second per job): only the latest matters;
 * - cancel from any instance: a waiting job is removed; a running one gets a cancel message on a
 *   channel every worker listens to, and the worker holding it calls `worker.cancelJob`.
 *
 * The end of a job is read back from the store (the worker stores its final state before BullMQ
 * calls it completed), and reported only after the worker's `end` marker arrived on the live
 * channel (bounded wait), so the last frames (final weights) reach clients before the end.
 */
import { hostname } from 'node:os';
import { Queue, QueueEvents, type JobsOptions } from 'bullmq';
import { Redis } from 'ioredis';
import type { ExperimentStore } from '../store/store.js';
import type { Log } from './job-recorder.js';
import { ReadBackStoredEnds } from './read-back-stored-ends.js';
import { RunnerListeners, type ClusterStats, type JobRunner, type JobRunnerEvent, type JobRunnerListener, type JobRunnerStats, type JobSpec } from './job-runner.js';
import {
  decodeLiveMessage,
  probeRedis,
  redisConnectionOptions,
  spikelabKeys,
  type ExperimentJobData,
  type ExperimentJobResult,
  type WorkerHeartbeat,
} from './redis.js';

export interface BullMqRunnerOptions {
  redisUrl: string;
  prefix: string;
  queueName: string;
  /** Runs of a job whose engine fails, before it ends failed. */
  attempts: number;
  backoffMs: number;
  /** Workers whose heartbeat is older than this are not counted (ms). */
  heartbeatMs: number;
  /** The shared store: ends are read back from it. */
  store: ExperimentStore;
  log: Log;
  /** How often the queue is compared with the database (reconcileWith). */
  reconcileIntervalMs: number;
  onListenerError?: (err: unknown) => void;
  /** How long the end of a job waits for the worker's `end` marker on the live channel. */
  endWaitMs?: number;
  /** Refresh period of the cached queue counts behind stats(). */
  statsIntervalMs?: number;
}

/** BullMQ states in which the queue still holds (and will run) a job. */
const liveStates = new Set<string>(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children']);
const waitingStates = new Set<string>(['waiting', 'delayed', 'prioritized', 'waiting-children']);

export class BullMqJobRunner implements JobRunner {
  readonly kind = 'bullmq' as const;
  private queue!: Queue<ExperimentJobData, ExperimentJobResult>;
  private events!: QueueEvents;
  private sub!: Redis;
  private cmd!: Redis;
  private readonly keys: ReturnType<typeof spikelabKeys>;
  private readonly listeners: RunnerListeners;
  /** End markers seen recently, and ends waiting for theirs. */
  private readonly endsSeen = new Map<string, number>();
  private readonly endWaiters = new Map<string, () => void>();
  private cached: JobRunnerStats = { queued: 0, running: 0, workers: 0 };
  private statsTimer: NodeJS.Timeout | undefined;
  /** Resubmits what the queue lost (reconcileWith); runs one at a time. */
  private reconcile: (() => void) | undefined;
  private reconcileTimer: NodeJS.Timeout | undefined;
  private started = false;
  private closed = false;
  private wasDisconnected = false;

  constructor(private readonly opts: BullMqRunnerOptions) {
    this.listeners = new RunnerListeners(opts.onListenerError);
    this.keys = spikelabKeys(opts.prefix, opts.queueName);
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await probeRedis(this.opts.redisUrl);
    const connection = redisConnectionOptions(this.opts.redisUrl);
    const name = `spikelab-api:${hostname()}:${process.pid}`;
    this.queue = new Queue(this.opts.queueName, { connection: { ...connection, connectionName: name }, prefix: this.opts.prefix });
    this.events = new QueueEvents(this.opts.queueName, { connection, prefix: this.opts.prefix });
    this.sub = new Redis({ ...connection, connectionName: `${name}:live` });
    this.cmd = new Redis({ ...connection, connectionName: `${name}:cmd` });
    this.queue.on('error', (err: Error) => this.opts.log.warn({ err: err.message }, 'BullMQ queue error'));
    this.events.on('error', (err: Error) => this.opts.log.warn({ err: err.message }, 'BullMQ queue events error'));
    this.sub.on('error', () => {});
    this.cmd.on('error', () => {});
    // The command connection notices a lost Redis like the others; when it comes back, the API
    // compares the database with the queue (a restarted Redis without AOF lost its jobs).
    this.cmd.on('close', () => {
      if (this.started && !this.closed) this.wasDisconnected = true;
    });
    this.cmd.on('ready', () => {
      if (!this.wasDisconnected || this.closed) return;
      this.wasDisconnected = false;
      this.opts.log.info({}, 'Redis connection is back; reconciling the queue with the database');
      this.reconcile?.();
    });

    this.sub.on('messageBuffer', (_channel: Buffer, message: Buffer) => this.onLive(message));
    this.events.on('completed', ({ jobId, returnvalue }) => void this.onEnded(jobId, returnvalue as unknown as ExperimentJobResult, null));
    this.events.on('failed', ({ jobId, failedReason }) => void this.onEnded(jobId, null, failedReason));
    // A cancel removes a waiting job (finished ones are dropped by removeOnComplete, without an
    // event); the cancel flag tells it from a removal by an operator's tool.
    this.events.on('removed', ({ jobId }) => {
      void this.cmd.exists(this.keys.cancelFlag(jobId)).then(
        (n) => {
          if (n === 1 && !this.closed) this.emit({ type: 'cancelled', id: jobId });
        },
        () => {},
      );
    });

    await Promise.all([this.queue.waitUntilReady(), this.events.waitUntilReady()]);
    await this.sub.subscribe(this.keys.live);
    await this.refreshStats();
    this.statsTimer = setInterval(() => void this.refreshStats(), this.opts.statsIntervalMs ?? 1000);
    this.statsTimer.unref();
  }

  /**
   * Adds the job (idempotent: jobId = experiment id, several API instances may enqueue the same
   * unfinished experiment at once). The worker loads the definition and the latest checkpoint
   * from the database, so `resumeFrom` is not sent through Redis. A job the queue already failed
   * (e.g. after stalling too often while no API instance was up) is reported failed instead.
   */
  async submit(job: JobSpec): Promise<void> {
    if (this.closed) throw new Error('job runner is closed');
    if (!this.started) throw new Error('job runner is not started');
    // A cancelled job must not come back through a reconcile that raced with its cancel.
    if ((await this.cmd.exists(this.keys.cancelFlag(job.id))) === 1) {
      this.emit({ type: 'cancelled', id: job.id });
      return;
    }
    const state = await this.queue.getJobState(job.id);
    if (state === 'failed') {
      const failed = await this.queue.getJob(job.id);
      this.emit({ type: 'failed', id: job.id, error: failed?.failedReason || 'failed in the queue' });
      return;
    }
    // (A completed job is removed at once — removeOnComplete — so its id is free again.)
    const options: JobsOptions = {
      jobId: job.id,
      attempts: this.opts.attempts,
      backoff: { type: 'exponential', delay: this.opts.backoffMs },
      removeOnComplete: true,
      // Kept a while, so a failure that happened while no API instance listened is still found.
      removeOnFail: { age: 7 * 24 * 3600, count: 10_000 },
    };
    await this.queue.add('experiment', { id: job.id }, options);
  }

  /** Whether the queue holds the job (asked of Redis, not of this instance's memory). */
  async holds(id: string): Promise<boolean> {
    const state = await this.queue.getJobState(id);
    if (state === 'failed') return false; // submit() reports it
    return liveStates.has(state);
  }

  /** Nothing to send: the worker that takes the job loads its latest checkpoint from the store. */
  async resumeCheckpointFor(_record: { id: string; status: string }): Promise<null> {
    return null;
  }

  /**
   * The database is the source of truth: experiments it holds as queued/running but the queue
   * lost (Redis flushed, or restarted without its AOF) are enqueued again by `reconcile` — every
   * reconcileIntervalMs, and whenever Redis comes back.
   */
  reconcileWith(reconcile: () => Promise<number>): void {
    let busy = false;
    this.reconcile = () => {
      if (busy || this.closed) return;
      busy = true;
      reconcile()
        .then(
          (n) => n > 0 && this.opts.log.info({ resumed: n }, 're-enqueued experiments the queue did not hold'),
          (err: unknown) => this.opts.log.warn({ err }, 'could not reconcile the queue with the database'),
        )
        .finally(() => (busy = false));
    };
    clearInterval(this.reconcileTimer);
    this.reconcileTimer = setInterval(this.reconcile, this.opts.reconcileIntervalMs);
    this.reconcileTimer.unref();
  }

  async cancel(id: string): Promise<boolean> {
    // The flag covers a job a worker takes between our look and our message.
    await this.cmd.set(this.keys.cancelFlag(id), '1', 'EX', 7 * 24 * 3600);
    const state = await this.queue.getJobState(id);
    if (waitingStates.has(state)) {
      try {
        const removed = await this.queue.remove(id);
        // QueueEvents `removed` reports it, here and on every other instance.
        if (removed === 1) return true;
      } catch {
        // Locked: a worker took it meanwhile; cancel it there.
      }
    } else if (state !== 'active') {
      return false;
    }
    await this.cmd.publish(this.keys.cancel, id);
    return true;
  }

  on(listener: JobRunnerListener): () => void {
    return this.listeners.add(listener);
  }

  /** The workers store everything of their jobs; this instance reads the ends back. */
  recording(): ReadBackStoredEnds {
    return new ReadBackStoredEnds();
  }

  stats(): JobRunnerStats {
    return { ...this.cached };
  }

  async check(): Promise<void> {
    if (this.closed) throw new Error('job runner is closed');
    if (!this.started) throw new Error('job runner is not started');
    const queueClient = (await withTimeout(this.queue.backend.client, 1000, 'the queue connection is not ready')) as unknown as { status: string };
    for (const [what, client] of [
      ['commands', this.cmd],
      ['live events', this.sub],
      ['queue', queueClient],
    ] as const) {
      if (client.status !== 'ready') throw new Error(`Redis connection (${what}) is ${client.status}; reconnecting`);
    }
    await withTimeout(this.cmd.ping(), 2000, 'Redis did not answer a ping within 2 s');
  }

  async clusterStats(): Promise<ClusterStats> {
    const [counts, beats, counters] = await Promise.all([
      this.queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'failed'),
      this.cmd.hgetall(this.keys.workers),
      this.cmd.hgetall(this.keys.counters),
    ]);
    return {
      queue: counts,
      workers: liveWorkers(beats, this.opts.heartbeatMs).map((w) => ({
        id: w.id,
        host: w.host,
        pid: w.pid,
        concurrency: w.concurrency,
        active: w.active.length,
      })),
      counters: { stalled: Number(counters.stalled ?? 0), retried: Number(counters.retried ?? 0) },
    };
  }

  async close(): Promise<void> {
    clearInterval(this.reconcileTimer);
    if (this.closed || !this.started) {
      this.closed = true;
      return;
    }
    this.closed = true;
    this.listeners.clear();
    clearInterval(this.statsTimer);
    for (const wake of this.endWaiters.values()) wake();
    await Promise.allSettled([this.events.close(), this.queue.close()]);
    this.sub.disconnect();
    this.cmd.disconnect();
  }

  private async refreshStats(): Promise<void> {
    if (this.closed) return;
    try {
      const [counts, beats] = await Promise.all([
        this.queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized'),
        this.cmd.hgetall(this.keys.workers),
      ]);
      this.cached = {
        queued: (counts.waiting ?? 0) + (counts.delayed ?? 0) + (counts.prioritized ?? 0),
        running: counts.active ?? 0,
        workers: liveWorkers(beats, this.opts.heartbeatMs).reduce((n, w) => n + w.concurrency, 0),
      };
    } catch {
      // Redis is away; /health says so. Keep the last numbers.
    }
  }

  private onLive(message: Buffer): void {
    let msg;
    try {
      msg = decodeLiveMessage(message);
    } catch (err) {
      this.opts.log.warn({ err }, 'undecodable live message');
      return;
    }
    switch (msg.kind) {
      case 'started':
        this.endsSeen.delete(msg.id);
        this.emit({ type: 'started', id: msg.id, resumedFrom: msg.resumedFrom });
        return;
      case 'event':
        this.emit({ type: 'event', id: msg.id, event: msg.event });
        return;
      case 'events':
        for (const event of msg.events) this.emit({ type: 'event', id: msg.id, event });
        return;
      case 'end': {
        const wake = this.endWaiters.get(msg.id);
        if (wake) wake();
        else {
          this.endsSeen.set(msg.id, Date.now());
          // Markers of jobs whose end never comes here (e.g. a retried attempt) must not pile up.
          for (const [id, at] of this.endsSeen) if (Date.now() - at > 60_000) this.endsSeen.delete(id);
        }
        return;
      }
    }
  }

  /** A job left the queue: report its stored end (after the worker's last live frames). */
  private async onEnded(id: string, returned: ExperimentJobResult | null, failedReason: string | null): Promise<void> {
    if (!this.endsSeen.delete(id)) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, this.opts.endWaitMs ?? 1000);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.endWaiters.set(id, done);
      });
      this.endWaiters.delete(id);
    }
    if (this.closed) return;
    if (failedReason !== null) {
      this.emit({ type: 'failed', id, error: failedReason });
      return;
    }
    let record;
    try {
      record = await this.opts.store.get(id);
    } catch (err) {
      this.opts.log.error({ err, experimentId: id }, 'could not read the end of a job');
      return;
    }
    if (!record) return; // deleted
    if (record.result) this.emit({ type: 'finished', id, result: record.result });
    else if (record.status === 'failed') this.emit({ type: 'failed', id, error: record.error ?? 'failed' });
    else if (record.status === 'cancelled' || returned?.outcome === 'cancelled') this.emit({ type: 'cancelled', id });
    // `skipped` with an unfinished record should not happen; the reconciler re-enqueues it if so.
  }

  private emit(event: JobRunnerEvent): void {
    this.listeners.emit(event);
  }
}

export function liveWorkers(beats: Record<string, string>, heartbeatMs: number, now = Date.now()): WorkerHeartbeat[] {
  const out: WorkerHeartbeat[] = [];
  for (const raw of Object.values(beats)) {
    try {
      const beat = JSON.parse(raw) as WorkerHeartbeat;
      if (now - beat.at <= 3 * heartbeatMs) out.push(beat);
    } catch {
      // ignore a malformed entry
    }
  }
  return out.sort((a, b) => a.id.localeCompare(b.id));
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(message)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}
