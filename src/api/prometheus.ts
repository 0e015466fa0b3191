/** Prometheus text exposition of the server's gauges and counters. */
import type { JobRunnerStats } from '../queue/job-runner.js';
import type { ExperimentStatus, ProgressSnapshot } from '../store/store.js';
import type { StreamCounters } from './stream-hub.js';

export interface MetricsSnapshot {
  experiments: Record<ExperimentStatus, number> | null;
  runner: JobRunnerStats;
  live: [string, ProgressSnapshot][];
  wsClients: number;
  stream: StreamCounters;
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
