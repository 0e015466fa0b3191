/**
 * /metrics through prom-client: the project's own gauges and counters (same names as before) plus
 * prom-client's default process metrics (memory, event-loop lag, GC). Values that live elsewhere
 * (the store, the runner, the stream hub) are copied into the metrics on each scrape.
 *
 * Per-experiment series (labelled with experiment ids) are in a separate registry that is only
 * rendered for callers allowed to see every experiment: anyone when no API keys are configured,
 * an admin key otherwise — ids are how other tenants' experiments would be found.
 */
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { ClusterStats, JobRunnerStats } from '../queue/job-runner.js';
import type { ExperimentStatus, ProgressSnapshot } from '../store/store.js';
import type { StreamCounters } from './stream-hub.js';

export interface MetricsSnapshot {
  experiments: Record<ExperimentStatus, number> | null;
  runner: JobRunnerStats;
  live: [string, ProgressSnapshot][];
  wsClients: number;
  stream: StreamCounters;
  /** Distributed mode: the queue and workers as Redis sees them (null: embedded, or Redis unreachable). */
  cluster?: ClusterStats | null;
  checkpoints?: { written: number; dropped: number };
}

/** A counter whose total is kept elsewhere: set to that total on each scrape. */
function setCounter(c: Counter<string>, value: number, labels: Record<string, string> = {}) {
  c.reset();
  c.inc(labels, Number.isFinite(value) ? value : 0);
}

export class Metrics {
  readonly registry = new Registry();
  /** Series labelled with experiment ids. */
  private readonly detail = new Registry();
  private readonly g;
  private readonly c;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    const r = [this.registry];
    const gauge = (name: string, help: string, labelNames: string[] = [], registers = r) => new Gauge({ name, help, labelNames, registers });
    const counter = (name: string, help: string, labelNames: string[] = []) => new Counter({ name, help, labelNames, registers: r });
    this.g = {
      experiments: gauge('spikelab_experiments', 'Experiments in the store by status.', ['status']),
      queued: gauge('spikelab_jobs_queued', 'Jobs waiting for a free engine worker.'),
      running: gauge('spikelab_jobs_running', 'Jobs running on engine workers.'),
      workers: gauge('spikelab_engine_workers', 'Engine worker threads.'),
      samplesPerSecond: gauge('spikelab_samples_per_second', 'Latest samples/s of each running experiment.', ['experiment', 'phase'], [this.detail]),
      samplesPerSecondTotal: gauge('spikelab_samples_per_second_total', 'Samples/s summed over running experiments.'),
      queueJobs: gauge('spikelab_queue_jobs', 'Jobs in the BullMQ queue by state (queue depth: waiting + delayed + prioritized).', ['state']),
      queueWorkers: gauge('spikelab_queue_workers', 'Worker processes with a recent heartbeat.'),
      workerActive: gauge('spikelab_worker_active_jobs', 'Jobs running on each worker process.', ['worker', 'host', 'pid']),
      workerConcurrency: gauge('spikelab_worker_concurrency', 'Engine threads (concurrent jobs) of each worker process.', ['worker', 'host', 'pid']),
      wsClients: gauge('spikelab_ws_clients', 'Open WebSocket stream clients.'),
      maxBuffered: gauge('spikelab_ws_max_buffered_bytes', 'Most bytes ever waiting on one stream client socket.'),
      buffered: gauge('spikelab_ws_buffered_bytes', 'Bytes waiting on all stream client sockets now (bounded by STREAM_TOTAL_BUFFER_BYTES).'),
    };
    this.c = {
      stalled: counter('spikelab_jobs_stalled_total', 'Jobs requeued because their worker stopped renewing the lock (died).'),
      retried: counter('spikelab_jobs_retried_total', 'Failed job runs retried with backoff.'),
      framesSent: counter('spikelab_ws_frames_sent_total', 'Stream frames sent, by channel.', ['channel']),
      framesDropped: counter('spikelab_ws_frames_dropped_total', 'Stream frames dropped because a client could not keep up, by channel.', ['channel']),
      bytesSent: counter('spikelab_ws_bytes_sent_total', 'Stream bytes sent.'),
      rejected: counter('spikelab_ws_rejected_total', 'Stream connections refused by a limit (per experiment or per client).'),
      checkpointsWritten: counter('spikelab_checkpoints_written_total', 'Checkpoints written to the store.'),
      checkpointsDropped: counter('spikelab_checkpoints_dropped_total', 'Checkpoints replaced by a newer one before they were written (backpressure).'),
    };
  }

  /** The exposition text; `withExperimentIds` adds the series labelled with experiment ids. */
  async render(m: MetricsSnapshot, withExperimentIds: boolean): Promise<string> {
    const { g, c } = this;
    g.experiments.reset();
    if (m.experiments) for (const [status, n] of Object.entries(m.experiments)) g.experiments.set({ status }, n);
    g.queued.set(m.runner.queued);
    g.running.set(m.runner.running);
    g.workers.set(m.runner.workers);
    g.samplesPerSecond.reset();
    for (const [id, p] of m.live) g.samplesPerSecond.set({ experiment: id, phase: p.phase }, finite(p.samplesPerSec));
    g.samplesPerSecondTotal.set(m.live.reduce((s, [, p]) => s + finite(p.samplesPerSec), 0));
    g.queueJobs.reset();
    g.workerActive.reset();
    g.workerConcurrency.reset();
    if (m.cluster) {
      for (const [state, n] of Object.entries(m.cluster.queue)) g.queueJobs.set({ state }, n);
      g.queueWorkers.set(m.cluster.workers.length);
      for (const w of m.cluster.workers) {
        const labels = { worker: w.id, host: w.host, pid: String(w.pid) };
        g.workerActive.set(labels, w.active);
        g.workerConcurrency.set(labels, w.concurrency);
      }
      setCounter(c.stalled, m.cluster.counters.stalled);
      setCounter(c.retried, m.cluster.counters.retried);
    }
    g.wsClients.set(m.wsClients);
    g.maxBuffered.set(m.stream.maxBufferedBytes);
    g.buffered.set(m.stream.bufferedBytes);
    c.framesSent.reset();
    for (const [channel, n] of Object.entries(m.stream.sent)) c.framesSent.inc({ channel }, n);
    c.framesDropped.reset();
    for (const [channel, n] of Object.entries(m.stream.dropped)) c.framesDropped.inc({ channel }, n);
    setCounter(c.bytesSent, m.stream.bytesSent);
    setCounter(c.rejected, m.stream.rejected);
    setCounter(c.checkpointsWritten, m.checkpoints?.written ?? 0);
    setCounter(c.checkpointsDropped, m.checkpoints?.dropped ?? 0);
    const base = await this.registry.metrics();
    return withExperimentIds ? base + (await this.detail.metrics()) : base;
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

const finite = (x: number) => (Number.isFinite(x) ? x : 0);
