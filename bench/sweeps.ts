/**
 * Sweep throughput (part of `npm run bench`): one 16-trial sweep (8 points × 2 seeds) of
 * 100-neuron, 10,000-sample trials through one API process of distributed mode, first with 1
 * worker process, then with 2 (all compiled, child processes). Prints both wall times (POST →
 * sweep completed), their ratio, and the queueing overhead per trial as the store records it:
 * sweep submission → first trial start, and (1-worker run, trials back to back) each trial's
 * finish → the next trial's start. Uses REDIS_URL / DATABASE_URL (default: this machine's) with a
 * key prefix and schema of its own, removed afterwards; prints "skipped" when they do not answer.
 *
 * The trials stream progress and window metrics (what the sweep page plots) but no spike rasters
 * or weight snapshots: nobody watches sixteen rasters, and on this 2-core machine relaying them
 * (engine → worker → Redis → API) takes CPU from the second worker. `--streams` keeps the preset's
 * rasters (every 50 samples) and snapshots (every 500) to measure that cost too.
 *
 *   npm run build && node dist/bench/sweeps.js [--neurons 100] [--train 10000] [--streams]
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { type Child, cpuBetween, cpuSecondsByPid, openCluster, parallelCapacity, startApiAndWorkers } from './cluster-harness.js';


const { values: args } = parseArgs({
  options: {
    neurons: { type: 'string', default: '100' },
    train: { type: 'string', default: '10000' },
    streams: { type: 'boolean', default: false },
  },
});

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

interface TrialTimes {
  createdAt: number;
  startedAt: number;
  finishedAt: number;
}

async function main() {
  const cluster = await openCluster('sweep', { SWEEP_TICK_MS: '1000' });
  if (!cluster) return;
  const env = cluster.env;
  const neurons = Number(args.neurons);
  const train = Number(args.train);
  const children: Child[] = [];
  try {
    const { url, addWorker: worker, waitWorkers } = await startApiAndWorkers(env, children);

    // Where each run's CPU went: the engine threads, the rest of the worker processes (main
    // thread: recording and relaying; V8 and libuv threads), the API, the databases.
    const isWorker = (pid: number) => children.findIndex((c) => c.proc.pid === pid) > 0;
    const labelOf = (key: string, pid: number, name: string, seconds: number) => {
      const child = children.findIndex((c) => c.proc.pid === pid);
      if (child === 0) return 'API';
      // A worker process's engine thread is the one that computes for seconds; the others relay.
      if (child > 0) return key === `${pid}/${pid}` ? 'worker main threads' : seconds > 2 ? 'engine threads' : 'worker other threads';
      if (pid === process.pid) return 'bench';
      if (name === 'postgres') return 'PostgreSQL';
      if (name.startsWith('redis-server')) return 'Redis';
      return 'other';
    };
    const cpuLine = (r: { wall: number; cpu: Map<string, number> }) => {
      const total = [...r.cpu.values()].reduce((a, b) => a + b, 0);
      const parts = ['engine threads', 'worker main threads', 'worker other threads', 'API', 'PostgreSQL', 'Redis', 'bench', 'other'].map(
        (k) => `${k} ${(r.cpu.get(k) ?? 0).toFixed(1)}`,
      );
      return `CPU ${total.toFixed(1)} s of ${(2 * r.wall).toFixed(1)} available (${parts.join(', ')})`;
    };
    const grid = [48, 56, 64, 80, 96, 112, 128, 160];
    const runSweep = async (label: string, size = { train, values: grid, seeds: 2 }) => {
      const cpuBefore = cpuSecondsByPid(isWorker);
      const submitted = Date.now();
      const t0 = performance.now();
      const res = await fetch(`${url}/v1/sweeps`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          name: label,
          base: {
            preset: 'diehl-cook-2015',
            neurons,
            train: size.train,
            validation: 1000,
            test: 500,
            checkpointEvery: 2000,
            ...(args.streams ? {} : { stream: { spikesEvery: 0, weightsEvery: 0 } }),
          },
          parameters: [{ type: 'grid', path: '/encoder/maxRateHz', values: size.values }],
          seeds: size.seeds,
        }),
      });
      const answered = Date.now();
      if (res.status !== 201) throw new Error(`sweep submit failed: ${res.status} ${await res.text()}`);
      const { id } = (await res.json()) as { id: string };
      // Watched as a dashboard watches it, through the sweep's WebSocket stream: its last frame
      // (`end`) carries the finished sweep. Polling GET /v1/sweeps/:id instead was the bench's own
      // load on the API and PostgreSQL (every trial's row, five times a second).
      const sweep = await new Promise<{ status: string; error: string | null; items: { experimentId: string }[] }>((resolveEnd, reject) => {
        const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/sweeps/${id}/stream`);
        ws.on('message', (data) => {
          const msg = JSON.parse(String(data)) as { type: string; sweep?: { status: string; error: string | null; items: { experimentId: string }[] } };
          if (msg.type === 'end' && msg.sweep) resolveEnd(msg.sweep);
        });
        ws.on('error', reject);
        ws.on('close', (code, reason) => reject(new Error(`sweep stream closed before its end: ${code} ${String(reason)}`)));
      });
      const wall = (performance.now() - t0) / 1000;
      const cpu = cpuBetween(cpuBefore, cpuSecondsByPid(isWorker), labelOf);
      if (sweep.status !== 'completed') throw new Error(`sweep ${sweep.status}: ${sweep.error}`);
      const times: TrialTimes[] = [];
      for (const t of sweep.items) {
        const e = (await (await fetch(`${url}/v1/experiments/${t.experimentId}`)).json()) as { createdAt: string; startedAt: string; finishedAt: string };
        times.push({ createdAt: Date.parse(e.createdAt), startedAt: Date.parse(e.startedAt), finishedAt: Date.parse(e.finishedAt) });
      }
      times.sort((a, b) => a.startedAt - b.startedAt);
      return { wall, submitted, answered, times, cpu };
    };

    console.log(
      `sweep bench: 16 trials (8 points × 2 seeds) × (${neurons} neurons, ${train} train, 1000 validation, 500 test), ` +
        `1 API process, WORKER_CONCURRENCY=1, ${availableParallelism()} cores, ` +
        (args.streams ? 'trials stream rasters and weight snapshots' : 'trials stream progress and metrics only'),
    );
    const capacity = await parallelCapacity();
    console.log(`  machine: 2 CPU-bound threads do ×${capacity.toFixed(2)} the work of 1 (the best speed-up possible here)`);
    await worker();
    await waitWorkers(1);
    // One tiny sweep first, so the timed ones do not pay for compiling the API's and the worker's
    // code paths (the first sweep of a process took ~70 ms longer to submit its first trial).
    await runSweep('warm-up', { train: 200, values: [64], seeds: 1 });
    const one = await runSweep('1 worker');
    const gaps = one.times.slice(1).map((t, i) => t.startedAt - one.times[i]!.finishedAt);
    console.log(`  1 worker process:  ${one.wall.toFixed(2)} s; ${cpuLine(one)}`);
    await worker();
    await waitWorkers(2);
    const two = await runSweep('2 workers');
    console.log(`  2 worker processes: ${two.wall.toFixed(2)} s; ${cpuLine(two)}`);
    const busy = (r: typeof one) => r.times.reduce((sum, t) => sum + (t.finishedAt - t.startedAt), 0) / 1000;
    // The trial that ends last runs alone from the moment the other worker ran out of trials.
    const byEnd = [...two.times].sort((a, b) => a.finishedAt - b.finishedAt);
    const last = byEnd.at(-1)!;
    const alone = (last.finishedAt - Math.max(last.startedAt, byEnd.at(-2)?.finishedAt ?? last.startedAt)) / 1000;
    console.log(
      `  trial time: ${busy(one).toFixed(2)} s in all on 1 worker, ${busy(two).toFixed(2)} s on 2 (each trial slower by ` +
        `×${(busy(two) / busy(one)).toFixed(2)} when two run at once); 2 workers busy ${((100 * busy(two)) / (2 * two.wall)).toFixed(0)} % ` +
        `of the wall time; the last trial runs alone for ${alone.toFixed(2)} s`,
    );
    console.log(`  wall-time ratio 2 workers / 1 worker: ${(two.wall / one.wall).toFixed(2)} (speed-up ×${(one.wall / two.wall).toFixed(2)})`);
    // The first sweep of the API process also pays for compiling its code paths: the POST's answer
    // and the queue (a trial stored → its worker marks it running) are printed apart.
    const firstStart = (r: typeof one) =>
      `${r.times[0]!.startedAt - r.submitted} ms (POST answered in ${r.answered - r.submitted} ms; first trial stored → started ${r.times[0]!.startedAt - r.times[0]!.createdAt} ms)`;
    console.log(
      `  queueing overhead per trial: submission → first trial start ${firstStart(one)} with 1 worker, ${firstStart(two)} with 2; ` +
        `finish → next start (1 worker, back to back) median ${median(gaps).toFixed(0)} ms, max ${Math.max(...gaps).toFixed(0)} ms`,
    );
  } finally {
    await cluster.close(children);
  }
}

main().catch((err: unknown) => {
  console.error('sweep bench failed:', err instanceof Error ? err.message : err);
  process.exit(1);
});
