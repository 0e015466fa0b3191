/**
 * A worker process of distributed mode: a BullMQ Worker whose processor hands each job to this
 * process's own pool of engine threads (the EmbeddedJobRunner of the embedded mode, sized to the
 * BullMQ concurrency) — not to a BullMQ sandboxed processor (`useWorkerThreads`). Why:
 *
 * - the engine's bulk output (spike rasters, weight matrices, multi-MB checkpoints) crosses from
 *   the thread by transferring ArrayBuffers; a sandboxed processor would send everything through
 *   BullMQ's JSON messages between processor and worker;
 * - cancel and shutdown stop the engine between two samples through a SharedArrayBuffer flag it
 *   reads without processing a message (a busy engine thread does not read messages);
 * - the JobRecorder writes progress, metrics, checkpoints and the final result to PostgreSQL
 *   from the main thread over one connection pool, and one Redis connection publishes the live
 *   events — instead of connections in every sandbox;
 * - it is the same engine-thread protocol the embedded mode uses and tests, and it runs from the
 *   TypeScript sources in tests (a sandboxed processor must be a compiled file).
 * The main thread stays idle while threads train, so BullMQ's lock renewal is never late.
 *
 * The database is the source of truth: job data is only the experiment id; the processor loads
 * the definition and the latest checkpoint from the store, so a job taken over after its worker
 * died (BullMQ stalled-job recovery) resumes where the last checkpoint left it, bit-identically.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Worker, WaitingError, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { DatasetBlobs } from '../data/blobs.js';
import type { ExperimentEvent } from '../experiment/events.js';
import { finishedStatuses, type ExperimentStore } from '../store/store.js';
import { EmbeddedJobRunner } from './embedded-runner.js';
import { JobRecorder, type Log } from './job-recorder.js';
import type { JobRunnerEvent } from './job-runner.js';
import {
  encodeLiveMessage,
  probeRedis,
  redisConnectionOptions,
  spikelabKeys,
  type ExperimentJobData,
  type ExperimentJobResult,
  type LiveMessage,
  type WorkerHeartbeat,
} from './redis.js';
import type { QueueSettings } from '../config.js';

export interface DistributedWorkerOptions {
  redisUrl: string;
  queue: QueueSettings;
  store: ExperimentStore;
  log: Log & { debug?(obj: object, msg?: string): void };
  /** MNIST directory handed to the engine. */
  mnistDir?: string;
  /** Uploaded datasets: copied from the database into this worker's cache (by hash) before a run. */
  datasets?: DatasetBlobs;
  /** Engine thread module (tests substitute a scripted engine). */
  engineWorkerUrl?: URL;
  /** Cancel grace before an engine thread is terminated, minimum time between checkpoints (config.protection). */
  cancelGraceMs?: number;
  checkpointMinIntervalMs?: number;
  /** Threads one job's network may use when it is large enough (ENGINE_THREADS). */
  engineThreads?: number;
}

type End = Extract<JobRunnerEvent, { type: 'finished' | 'failed' | 'cancelled' }>;

/** A batch of live events is published early once it holds this many events or array bytes. */
const MAX_BATCH_EVENTS = 256;
const MAX_BATCH_BYTES = 1 << 20;

/** Bytes of the typed arrays an event carries (rasters, snapshots, traces). */
function arrayBytes(event: ExperimentEvent): number {
  let bytes = 0;
  for (const value of Object.values(event)) if (ArrayBuffer.isView(value)) bytes += value.byteLength;
  return bytes;
}

interface ActiveJob {
  id: string;
  job: Job<ExperimentJobData, ExperimentJobResult>;
  /** Why the engine is being stopped without recording the stop (the job continues elsewhere). */
  abandon: null | 'shutdown' | 'lock lost';
  end: Promise<End>;
  resolveEnd: (e: End) => void;
}

export class DistributedWorker {
  readonly id = randomUUID();
  private worker!: Worker<ExperimentJobData, ExperimentJobResult>;
  private pool!: EmbeddedJobRunner;
  private recorder!: JobRecorder;
  private pub!: Redis;
  private sub!: Redis;
  private readonly keys: ReturnType<typeof spikelabKeys>;
  private readonly active = new Map<string, ActiveJob>();
  /**
   * Live events of each job not yet published. A small network emits dozens of metrics windows
   * (and, when watched, rasters) a second; one Redis message each cost the worker and the API
   * more CPU than relaying them in one message a few times a second.
   */
  private readonly liveBatches = new Map<string, { events: ExperimentEvent[]; bytes: number; timer: NodeJS.Timeout }>();
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private closing: Promise<void> | null = null;

  constructor(private readonly opts: DistributedWorkerOptions) {
    this.keys = spikelabKeys(opts.queue.prefix, opts.queue.name);
  }

  async start(): Promise<void> {
    const { queue, log } = this.opts;
    await probeRedis(this.opts.redisUrl);
    const connection = redisConnectionOptions(this.opts.redisUrl);
    const name = `spikelab-worker:${hostname()}:${process.pid}`;
    this.pub = new Redis({ ...connection, connectionName: `${name}:pub` });
    this.sub = new Redis({ ...connection, connectionName: `${name}:cancel` });
    this.pub.on('error', () => {});
    this.sub.on('error', () => {});

    this.pool = new EmbeddedJobRunner({
      workers: queue.workerConcurrency,
      dataDir: this.opts.mnistDir,
      datasetsDir: this.opts.datasets?.localRoot,
      prepareDataset: this.opts.datasets ? (sha) => this.opts.datasets!.ensureLocal(sha) : undefined,
      workerUrl: this.opts.engineWorkerUrl,
      cancelGraceMs: this.opts.cancelGraceMs,
      checkpointMinIntervalMs: this.opts.checkpointMinIntervalMs,
      engineThreads: this.opts.engineThreads,
      onListenerError: (err) => log.error({ err }, 'job event listener failed'),
    });
    await this.pool.start();
    this.recorder = new JobRecorder(this.opts.store, log, this.pool.recording(), { checkpointMinIntervalMs: this.opts.checkpointMinIntervalMs });
    this.pool.on((e) => this.onPoolEvent(e));

    this.sub.on('message', (_channel: string, id: string) => {
      if (this.active.has(id)) {
        log.info({ experimentId: id }, 'cancel requested');
        this.worker.cancelJob(id, 'cancelled through the API');
      }
    });
    await this.sub.subscribe(this.keys.cancel);

    this.worker = new Worker<ExperimentJobData, ExperimentJobResult>(
      queue.name,
      // Three parameters: BullMQ passes an AbortSignal only to processors that declare it.
      (job, token, signal) => this.process(job, token, signal),
      {
        connection: { ...connection, connectionName: name },
        prefix: queue.prefix,
        concurrency: queue.workerConcurrency,
        lockDuration: queue.lockDurationMs,
        stalledInterval: queue.stalledIntervalMs,
        maxStalledCount: queue.maxStalledCount,
        autorun: false,
      },
    );
    this.worker.on('error', (err) => log.warn({ err: err.message }, 'BullMQ worker error'));
    this.worker.on('stalled', (jobId) => {
      log.warn({ experimentId: jobId }, 'job stalled (its worker died); requeued');
      void this.pub.hincrby(this.keys.counters, 'stalled', 1).catch(() => {});
    });
    // Another worker owns the job now (our lock expired, e.g. after a long pause, or Redis lost
    // it): stop our copy without recording anything.
    this.worker.on('lockRenewalFailed', (ids) => {
      for (const id of ids) {
        const a = this.active.get(id);
        if (!a || a.abandon) continue;
        log.warn({ experimentId: id }, 'lost the lock of a job; stopping this copy');
        a.abandon = 'lock lost';
        void this.pool.cancel(id);
      }
    });
    await this.worker.waitUntilReady();
    void this.worker.run().catch((err: unknown) => log.error({ err }, 'BullMQ worker stopped'));
    await this.heartbeat();
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), queue.heartbeatMs);
    this.heartbeatTimer.unref();
    log.info({ worker: this.id, queue: queue.name, prefix: queue.prefix, concurrency: queue.workerConcurrency }, 'worker ready');
  }

  /** Jobs running here (for logs and tests). */
  activeJobs(): string[] {
    return [...this.active.keys()];
  }

  private async process(
    job: Job<ExperimentJobData, ExperimentJobResult>,
    token: string | undefined,
    signal?: AbortSignal,
  ): Promise<ExperimentJobResult> {
    const { store, log } = this.opts;
    const id = job.data.id;
    if (this.closing) return this.giveBack(job, token);
    const record = await store.get(id);
    if (!record) return { outcome: 'skipped', reason: 'deleted' };
    if (finishedStatuses.includes(record.status)) return { outcome: 'skipped', reason: `already ${record.status}` };
    if (await this.cancelRequested(id)) {
      const cancelled = await store.transition(id, ['queued', 'running'], 'cancelled', { finished: true });
      await this.publish({ kind: 'end', id });
      return cancelled ? { outcome: 'cancelled' } : { outcome: 'skipped', reason: 'no longer unfinished' };
    }
    const checkpoint = await store.loadCheckpoint(id);
    const started = await store.transition(id, ['queued', 'running'], 'running', {
      started: true,
      resumedFrom: checkpoint?.samplesDone ?? null,
      error: null,
    });
    if (!started) return { outcome: 'skipped', reason: 'no longer unfinished' };

    let resolveEnd!: (e: End) => void;
    const end = new Promise<End>((resolve) => (resolveEnd = resolve));
    const a: ActiveJob = { id, job, abandon: null, end, resolveEnd };
    this.active.set(id, a);
    const onAbort = () => void this.pool.cancel(id);
    signal?.addEventListener('abort', onAbort);
    log.info({ experimentId: id, attempt: job.attemptsStarted, resumedFrom: started.resumedFrom }, 'job started');
    try {
      await this.publish({ kind: 'started', id, resumedFrom: started.resumedFrom });
      // Shutting down since this job was taken: it has not started training, hand it back.
      if (this.closing || a.abandon) return await this.giveBack(job, token);
      await this.pool.submit({
        id,
        definition: record.definition,
        resumeFrom: checkpoint?.state,
        resumeFromSample: checkpoint?.samplesDone,
      });
      // A cancel published before this job was ours is only in the flag.
      if (await this.cancelRequested(id)) void this.pool.cancel(id);
      const outcome = await a.end;
      if (a.abandon) {
        await this.recorder.settled(id);
        if (a.abandon === 'shutdown') return await this.giveBack(job, token);
        throw new Error('the lock of the job was lost; another worker runs it');
      }
      await this.recorder.settled(id);
      if (outcome.type === 'cancelled') {
        await store.transition(id, ['queued', 'running'], 'cancelled', { finished: true });
        await this.publish({ kind: 'end', id });
        log.info({ experimentId: id }, 'job stopped by force inside a sample');
        return { outcome: 'cancelled' };
      }
      if (outcome.type === 'finished') {
        // Verify against the truth: a final write that failed must not complete the job.
        const stored = await store.get(id);
        if (stored && !finishedStatuses.includes(stored.status)) {
          throw new Error('the result could not be stored');
        }
        await this.publish({ kind: 'end', id });
        log.info({ experimentId: id, status: stored?.status, weightsSha256: outcome.result.weightsSha256 }, 'job finished');
        return { outcome: outcome.result.cancelled ? 'cancelled' : 'completed' };
      }
      // The engine failed: retried with backoff until the attempts are used up, then failed for good.
      const attempts = job.opts.attempts ?? 1;
      const last = job.attemptsMade + 1 >= attempts;
      if (last) {
        await store.transition(id, ['queued', 'running'], 'failed', { error: outcome.error, finished: true });
      } else {
        await store.transition(id, ['running'], 'queued', {
          error: `attempt ${job.attemptsMade + 1} of ${attempts} failed (retrying): ${outcome.error}`,
        });
        void this.pub.hincrby(this.keys.counters, 'retried', 1).catch(() => {});
      }
      await this.publish({ kind: 'end', id });
      log.warn({ experimentId: id, error: outcome.error, retry: !last }, 'job failed');
      throw new Error(outcome.error);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.active.delete(id);
    }
  }

  /** Shutdown: back to the waiting list (not a failed attempt); the next worker resumes it from its checkpoint. */
  private async giveBack(job: Job<ExperimentJobData, ExperimentJobResult>, token: string | undefined): Promise<never> {
    await job.moveToWait(token);
    this.opts.log.info({ experimentId: job.data.id }, 'job handed back to the queue');
    throw new WaitingError();
  }

  private onPoolEvent(e: JobRunnerEvent): void {
    const a = this.active.get(e.id);
    if (!a) return;
    // `cancelled` from the pool: the engine did not stop within the grace and its thread was terminated.
    if (e.type === 'finished' || e.type === 'failed' || e.type === 'cancelled') {
      // A failure is recorded by the processor (it knows whether a retry follows).
      if (!a.abandon && e.type === 'finished') this.recorder.handle(e);
      a.resolveEnd(e);
      return;
    }
    // `started` was recorded by the processor before the job reached the pool.
    if (e.type !== 'event') return;
    if (a.abandon) {
      // Shutting down: record everything up to the sample where the engine stopped (windows the
      // next worker will not repeat, the checkpoint of that point), so it resumes from there.
      // After a lost lock, nothing is ours.
      if (a.abandon === 'shutdown' && e.event.type !== 'done') this.recorder.handle(e);
      return;
    }
    this.recorder.handle(e);
    const event = e.event;
    switch (event.type) {
      case 'progress':
        // Only the latest progress of a batch is worth sending (a phase's last one is always sent).
        this.publishSoon(e.id, event, true);
        return;
      case 'checkpoint':
        // Stored by the recorder; nobody watches checkpoints live.
        return;
      default:
        this.publishSoon(e.id, event);
    }
  }

  private publishSoon(id: string, event: ExperimentEvent, replacesProgress = false): void {
    const batch = this.liveBatches.get(id);
    if (batch) {
      if (replacesProgress) {
        const k = batch.events.findLastIndex((x) => x.type === 'progress' && x.done !== x.total);
        if (k >= 0) batch.events.splice(k, 1);
      }
      batch.events.push(event);
      batch.bytes += arrayBytes(event);
      // A message stays small however fast a definition emits (rasters every sample, snapshots).
      if (batch.events.length >= MAX_BATCH_EVENTS || batch.bytes >= MAX_BATCH_BYTES) this.publishBatch(id);
      return;
    }
    const timer = setTimeout(() => this.publishBatch(id), this.opts.queue.liveBatchMs);
    timer.unref();
    this.liveBatches.set(id, { events: [event], bytes: arrayBytes(event), timer });
  }

  /** Publishes the job's waiting live events now (before its `end`, which must come last). */
  private publishBatch(id: string): void {
    const batch = this.liveBatches.get(id);
    if (!batch) return;
    clearTimeout(batch.timer);
    this.liveBatches.delete(id);
    const { events } = batch;
    void this.publish(events.length === 1 ? { kind: 'event', id, event: events[0]! } : { kind: 'events', id, events });
  }

  private async publish(msg: LiveMessage): Promise<void> {
    // A job's frames keep their order: its waiting events go first (one connection keeps commands in order).
    if (msg.kind === 'started' || msg.kind === 'end') this.publishBatch(msg.id);
    try {
      await this.pub.publish(this.keys.live, encodeLiveMessage(msg));
    } catch (err) {
      // Live frames are best effort; the store has everything that matters.
      this.opts.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'could not publish a live event');
    }
  }

  private async cancelRequested(id: string): Promise<boolean> {
    try {
      return (await this.pub.exists(this.keys.cancelFlag(id))) === 1;
    } catch {
      return false;
    }
  }

  private async heartbeat(): Promise<void> {
    const beat: WorkerHeartbeat = {
      id: this.id,
      host: hostname(),
      pid: process.pid,
      concurrency: this.opts.queue.workerConcurrency,
      active: this.activeJobs(),
      at: Date.now(),
    };
    try {
      await this.pub.hset(this.keys.workers, this.id, JSON.stringify(beat));
    } catch {
      // Redis is away; the next beat retries.
    }
  }

  /**
   * Graceful stop: take no new jobs; stop running ones at a sample boundary without recording a
   * cancel, wait for their pending writes (checkpoints), hand them back to the queue so another
   * worker resumes them from their last checkpoint; close connections. Bounded by `timeoutMs`,
   * after which the BullMQ worker is closed forcibly (its jobs then stall and are recovered).
   */
  close(timeoutMs: number): Promise<void> {
    this.closing ??= (async () => {
      const { log } = this.opts;
      clearInterval(this.heartbeatTimer);
      const closed = this.worker.close();
      for (const a of this.active.values()) {
        if (a.abandon) continue;
        a.abandon = 'shutdown';
        void this.pool.cancel(a.id);
      }
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        closed.then(() => false),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs))),
      ]);
      clearTimeout(timer);
      if (timedOut) {
        log.warn({ timeoutMs }, 'jobs did not stop in time; closing the BullMQ worker forcibly');
        await this.worker.close(true).catch(() => {});
      }
      await this.pool.close();
      for (const id of [...this.liveBatches.keys()]) this.publishBatch(id);
      await this.recorder.flush();
      await this.pub.hdel(this.keys.workers, this.id).catch(() => {});
      this.pub.disconnect();
      this.sub.disconnect();
    })();
    return this.closing;
  }
}
