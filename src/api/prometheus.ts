/** Prometheus text exposition of the server's gauges and counters. */
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
}

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

export function renderMetrics(m: MetricsSnapshot): string {
  const lines: string[] = [];
  const metric = (name: string, type: 'gauge' | 'counter', help: string, samples: [Record<string, string>, number][]) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) {
      const l = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
      lines.push(`${name}${l.length ? `{${l.join(',')}}` : ''} ${Number.isFinite(value) ? value : 0}`);
    }
  };
  if (m.experiments) {
    metric(
      'spikelab_experiments',
      'gauge',
      'Experiments in the store by status.',
      Object.entries(m.experiments).map(([status, n]) => [{ status }, n]),
    );
  }
  metric('spikelab_jobs_queued', 'gauge', 'Jobs waiting for a free engine worker.', [[{}, m.runner.queued]]);
  metric('spikelab_jobs_running', 'gauge', 'Jobs running on engine workers.', [[{}, m.runner.running]]);
  metric('spikelab_engine_workers', 'gauge', 'Engine worker threads.', [[{}, m.runner.workers]]);
  metric(
    'spikelab_samples_per_second',
    'gauge',
    'Latest samples/s of each running experiment.',
    m.live.map(([id, p]) => [{ experiment: id, phase: p.phase }, p.samplesPerSec]),
  );
  metric('spikelab_samples_per_second_total', 'gauge', 'Samples/s summed over running experiments.', [
    [{}, m.live.reduce((s, [, p]) => s + p.samplesPerSec, 0)],
  ]);
  if (m.cluster) {
    const c = m.cluster;
    metric(
      'spikelab_queue_jobs',
      'gauge',
      'Jobs in the BullMQ queue by state (queue depth: waiting + delayed + prioritized).',
      Object.entries(c.queue).map(([state, n]) => [{ state }, n]),
    );
    metric('spikelab_queue_workers', 'gauge', 'Worker processes with a recent heartbeat.', [[{}, c.workers.length]]);
    metric(
      'spikelab_worker_active_jobs',
      'gauge',
      'Jobs running on each worker process.',
      c.workers.map((w) => [{ worker: w.id, host: w.host, pid: String(w.pid) }, w.active]),
    );
    metric(
      'spikelab_worker_concurrency',
      'gauge',
      'Engine threads (concurrent jobs) of each worker process.',
      c.workers.map((w) => [{ worker: w.id, host: w.host, pid: String(w.pid) }, w.concurrency]),
    );
    metric('spikelab_jobs_stalled_total', 'counter', 'Jobs requeued because their worker stopped renewing the lock (died).', [
      [{}, c.counters.stalled],
    ]);
    metric('spikelab_jobs_retried_total', 'counter', 'Failed job runs retried with backoff.', [[{}, c.counters.retried]]);
  }
  metric('spikelab_ws_clients', 'gauge', 'Open WebSocket stream clients.', [[{}, m.wsClients]]);
  metric(
    'spikelab_ws_frames_sent_total',
    'counter',
    'Stream frames sent, by channel.',
    Object.entries(m.stream.sent).map(([channel, n]) => [{ channel }, n]),
  );
  metric(
    'spikelab_ws_frames_dropped_total',
    'counter',
    'Stream frames dropped because a client could not keep up, by channel.',
    Object.entries(m.stream.dropped).map(([channel, n]) => [{ channel }, n]),
  );
  metric('spikelab_ws_bytes_sent_total', 'counter', 'Stream bytes sent.', [[{}, m.stream.bytesSent]]);
  metric('spikelab_ws_max_buffered_bytes', 'gauge', 'Most bytes ever waiting on one stream client socket.', [
    [{}, m.stream.maxBufferedBytes],
  ]);
  return lines.join('\n') + '\n';
}
