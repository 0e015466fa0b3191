/**
 * `npm run loadtest`: the server under load, as a separate compiled process (so the load
 * generator does not share its event loop), with autocannon and real WebSocket clients.
 *
 * 1. API latency while two jobs train: autocannon on GET /health, GET /v1/experiments and
 *    GET /v1/experiments/:id (p50/p99/max, requests/s) while two 400-neuron jobs train on the
 *    two engine threads (goal: p99 < 50 ms).
 * 2. Training-throughput cost of WebSocket watchers: the same 100-neuron job (same seed, so the
 *    same work) alone and with `--watchers` clients on the weights channel, alternated
 *    `--repeats` times; train samples/s medians and their ratio (goal: < 10 % slower).
 * 3. Memory soak: `--soak-experiments` small experiments submitted evenly over
 *    `--soak-seconds`, each watched by a client on progress, metrics and weights; the server's
 *    resident memory from /metrics every 5 s (goal: flat, < 1 GB).
 *
 *   npm run loadtest -- [--duration 5] [--connections 10] [--watchers 100] [--repeats 3]
 *                       [--soak-seconds 600] [--soak-experiments 500] [--skip-soak]
 *                       [--phases latency,watchers,soak] [--json out.json]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import WebSocket from 'ws';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '5' },
    connections: { type: 'string', default: '10' },
    watchers: { type: 'string', default: '100' },
    repeats: { type: 'string', default: '3' },
    'soak-seconds': { type: 'string', default: '600' },
    'soak-experiments': { type: 'string', default: '500' },
    'skip-soak': { type: 'boolean', default: false },
    phases: { type: 'string', default: 'latency,watchers,soak' },
    json: { type: 'string' },
  },
});
const num = (k: keyof typeof args) => Number(args[k]);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);

async function startServer(): Promise<{ url: string; proc: ChildProcess; dataDir: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'spikelab-loadtest-'));
  const port = 20000 + Math.floor(Math.random() * 20000);
  const proc = spawn(process.execPath, [join(root, 'dist/src/server.js')], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      WORKERS: '2',
      LOG_LEVEL: 'warn',
      // All watchers come from this one address.
      MAX_STREAMS_PER_EXPERIMENT: '1000',
      MAX_STREAMS_PER_CLIENT: '10000',
      MAX_QUEUED: '10000',
      API_KEYS: '',
      DATABASE_URL: '',
      REDIS_URL: '',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`${url}/health`)).ok) return { url, proc, dataDir };
    } catch {
      /* not listening yet */
    }
    await sleep(100);
  }
  proc.kill();
  throw new Error('the server did not start');
}

async function submit(url: string, body: object): Promise<string> {
  const res = await fetch(`${url}/v1/experiments`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = (await res.json()) as { id: string; message?: string };
  if (res.status !== 201) throw new Error(`submit: ${res.status} ${json.message}`);
  return json.id;
}

async function get(url: string, id: string): Promise<any> {
  return (await fetch(`${url}/v1/experiments/${id}`)).json();
}

async function waitEnd(url: string, id: string): Promise<any> {
  for (;;) {
    const e = await get(url, id);
    if (['completed', 'failed', 'cancelled'].includes(e.status)) return e;
    await sleep(100);
  }
}

async function rss(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^process_resident_memory_bytes (\d+)/m.exec(text)?.[1] ?? NaN);
}

// ---- 1. API latency while two jobs train ----
async function latencyUnderTraining(url: string) {
  const trainer = { preset: 'diehl-cook-2015', neurons: 400, train: 60000, epochs: 2, test: 0 };
  const jobs = [await submit(url, { ...trainer, seed: 1 }), await submit(url, { ...trainer, seed: 2 })];
  for (;;) {
    const states = await Promise.all(jobs.map((id) => get(url, id)));
    if (states.every((s) => s.status === 'running' && (s.progress?.done ?? 0) > 0)) break;
    await sleep(100);
  }
  const routes = ['/health', '/v1/experiments', `/v1/experiments/${jobs[0]}`];
  const results = [];
  for (const path of routes) {
    const r = await autocannon({ url: `${url}${path}`, connections: num('connections'), duration: num('duration') });
    results.push({
      route: `GET ${path.replace(jobs[0]!, ':id')}`,
      requestsPerSec: Math.round(r.requests.average),
      p50Ms: r.latency.p50,
      p99Ms: r.latency.p99,
      maxMs: r.latency.max,
      non2xx: r.non2xx,
      errors: r.errors,
    });
  }
  const still = await Promise.all(jobs.map((id) => get(url, id)));
  const trainingThroughout = still.every((s) => s.status === 'running');
  for (const id of jobs) await fetch(`${url}/v1/experiments/${id}/cancel`, { method: 'POST' });
  return { routes: results, trainingThroughout, samplesPerSec: still.map((s) => Math.round(s.progress?.samplesPerSec ?? 0)) };
}

// ---- 2. training throughput with watchers on the weights channel ----
async function watcherCost(url: string) {
  const job = { preset: 'diehl-cook-2015', neurons: 100, train: 20000, test: 0, seed: 7 };
  const run = async (watchers: number) => {
    const id = await submit(url, job);
    let bytes = 0;
    const sockets = Array.from({ length: watchers }, () => {
      const ws = new WebSocket(`${url.replace('http', 'ws')}/v1/experiments/${id}/stream?channels=weights`);
      ws.on('message', (d: Buffer) => (bytes += d.byteLength));
      ws.on('error', () => {});
      return ws;
    });
    const end = await waitEnd(url, id);
    for (const ws of sockets) ws.terminate();
    return { samplesPerSec: end.result.train.samplesPerSec as number, bytes };
  };
  const repeats = num('repeats');
  const alone: number[] = [];
  const watched: number[] = [];
  let bytes = 0;
  for (let i = 0; i < repeats; i++) {
    alone.push((await run(0)).samplesPerSec);
    const w = await run(num('watchers'));
    watched.push(w.samplesPerSec);
    bytes += w.bytes;
  }
  const a = median(alone);
  const w = median(watched);
  return {
    watchers: num('watchers'),
    aloneSamplesPerSec: Math.round(a),
    watchedSamplesPerSec: Math.round(w),
    slowdownPercent: Math.round((1 - w / a) * 1000) / 10,
    runs: { alone: alone.map(Math.round), watched: watched.map(Math.round) },
    megabytesToWatchersPerRun: mb(bytes / repeats),
  };
}

// ---- 3. memory soak ----
async function soak(url: string) {
  const n = num('soak-experiments');
  const seconds = num('soak-seconds');
  const small = { preset: 'diehl-cook-2015', neurons: 10, train: 300, test: 100 };
  const samples: { t: number; rssMb: number }[] = [];
  const t0 = Date.now();
  const sampler = setInterval(() => void rss(url).then((r) => samples.push({ t: Math.round((Date.now() - t0) / 1000), rssMb: mb(r) })), 5000);
  samples.push({ t: 0, rssMb: mb(await rss(url)) });
  const ends: Promise<unknown>[] = [];
  let failed = 0;
  for (let i = 0; i < n; i++) {
    const due = t0 + (i * seconds * 1000) / n;
    if (due > Date.now()) await sleep(due - Date.now());
    const id = await submit(url, { ...small, seed: i });
    const ws = new WebSocket(`${url.replace('http', 'ws')}/v1/experiments/${id}/stream?channels=progress,metrics,weights`);
    ws.on('message', () => {});
    ws.on('error', () => {});
    ends.push(
      new Promise((r) => ws.on('close', r)).then(async () => {
        if ((await get(url, id)).status !== 'completed') failed++;
      }),
    );
  }
  await Promise.all(ends);
  clearInterval(sampler);
  samples.push({ t: Math.round((Date.now() - t0) / 1000), rssMb: mb(await rss(url)) });
  const values = samples.map((s) => s.rssMb);
  const q = (f: number) => samples[Math.min(samples.length - 1, Math.round(f * (samples.length - 1)))]!;
  return {
    experiments: n,
    seconds: Math.round((Date.now() - t0) / 1000),
    notCompleted: failed,
    rssMb: { start: values[0], q25: q(0.25).rssMb, q50: q(0.5).rssMb, q75: q(0.75).rssMb, end: values[values.length - 1], max: Math.max(...values) },
    /** Every sample: seconds since the start, resident MB. */
    samples: samples.map((x) => [x.t, x.rssMb]),
  };
}

async function main() {
  const server = await startServer();
  const report: Record<string, unknown> = { node: process.version, date: new Date().toISOString() };
  const phases = new Set(args.phases!.split(','));
  if (args['skip-soak']) phases.delete('soak');
  try {
    if (phases.has('latency')) {
      console.error('1/3 API latency while two jobs train…');
      report.latency = await latencyUnderTraining(server.url);
      console.log(JSON.stringify({ latency: report.latency }, null, 2));
    }
    if (phases.has('watchers')) {
      console.error(`2/3 training throughput alone and with ${args.watchers} weights watchers…`);
      report.watchers = await watcherCost(server.url);
      console.log(JSON.stringify({ watchers: report.watchers }, null, 2));
    }
    if (phases.has('soak')) {
      console.error(`3/3 memory soak: ${args['soak-experiments']} experiments over ${args['soak-seconds']} s…`);
      report.soak = await soak(server.url);
      console.log(JSON.stringify({ soak: report.soak }, null, 2));
    }
  } finally {
    server.proc.kill('SIGTERM');
    await new Promise((r) => server.proc.once('exit', r));
    rmSync(server.dataDir, { recursive: true, force: true });
  }
  if (args.json) writeFileSync(args.json, JSON.stringify(report, null, 2) + '\n');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
