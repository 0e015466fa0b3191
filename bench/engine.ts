/**
 * `npm run bench`: the canonical engine workload (diehl-cook-2015, 250 steps per sample, learning
 * on, then inference with learning off) at 100, 400, 1,600 and 6,400 neurons, median of several
 * runs, and the same workload on the C reference in ../shared/ref (built here when a C compiler
 * is present), interleaved run by run so that both see the same machine load. Prints samples/s
 * and our speed as a ratio to the reference. Then the samples/s of the other models and rules
 * (no reference has them).
 *
 * Then one network on 2 threads against 1 (1,600 and 6,400 neurons, interleaved), the cost of a
 * step's hand-off between threads, and what that predicts for more cores, with the core-to-core
 * round trip measured between the runs (it sets what a hand-off costs, and it moves by itself).
 *
 *   npm run bench                      # default sizes, threads, then the models
 *   npm run bench -- --repeats 3 --neurons 100
 *   npm run bench -- --models-only
 *   npm run bench -- --threads-only
 *   npm run bench -- --recovery-only   # one network's speed before, during and after other work
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { resolveDefinition } from '../src/experiment/presets.js';
import type { ExperimentDefinition } from '../src/experiment/schema.js';
import { runExperiment } from '../src/experiment/run.js';
import { mnistDataDir } from '../src/io/mnist.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

interface Measure {
  train: number;
  test: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

async function ours(neurons: number, train: number, test: number, seed: number, threads = 1): Promise<Measure> {
  return measure({ preset: 'diehl-cook-2015', neurons, train, test, seed }, () => {}, threads);
}

async function measure(request: Record<string, unknown>, patch: (d: ExperimentDefinition) => void = () => {}, threads = 1): Promise<Measure> {
  const def = resolveDefinition({ ...request, checkpointEvery: 0, stream: { spikesEvery: 0, weightsEvery: 0 } });
  patch(def);
  const r = await runExperiment(def, { emit: () => {}, yieldEveryMs: 1e9, threads });
  return { train: r.train.samplesPerSec, test: r.test.samplesPerSec };
}

/**
 * Microseconds per round trip of one value between two threads spinning on a SharedArrayBuffer,
 * over `ms`. On the 2-vCPU VMs here it is bimodal and moves by itself every few seconds (0.1 µs,
 * or 0.5 µs when the host places the vCPUs apart), and so does everything a step's hand-offs cost:
 * the thread figures are printed with the round trips measured beside them.
 */
async function coreRoundTripUs(ms = 300): Promise<number> {
  const sab = new SharedArrayBuffer(128);
  const a = new Int32Array(sab);
  const echo = `const a = new Int32Array(require('node:worker_threads').workerData); let last = 0;
    for (;;) { const v = Atomics.load(a, 0); if (v === -1) break; if (v !== last) { Atomics.store(a, 16, v); last = v; } }`;
  const w = new Worker(echo, { eval: true, workerData: sab });
  try {
    Atomics.store(a, 0, 1); // wait until the echo runs
    while (Atomics.load(a, 16) !== 1) await new Promise((r) => setImmediate(r));
    const t0 = performance.now();
    let n = 0;
    while (performance.now() - t0 < ms) {
      for (let k = 0; k < 1000; k++, n++) {
        const v = n + 2;
        Atomics.store(a, 0, v);
        while (Atomics.load(a, 16) !== v);
      }
    }
    return ((performance.now() - t0) * 1000) / n;
  } finally {
    Atomics.store(a, 0, -1);
    await w.terminate();
  }
}

/**
 * 2 threads against 1 on the same workload, interleaved; then the hand-off cost per step (a
 * 16-neuron network has almost no work to split, so 2 threads minus 1 is the hand-off), and the
 * speed-up it predicts for T threads: t(T) = (1 − f)·t1 + f·t1/T + c, with the split fraction f
 * solved from the measured t(2).
 */
async function threadScaling(repeats: number, sizes: { neurons: number; train: number; test: number }[]): Promise<void> {
  const steps = 250;
  const small: Measure[][] = [[], []];
  for (let k = 0; k < repeats; k++)
    for (const t of [1, 2]) small[t - 1].push(await ours(16, 2000, 2000, k, t));
  const perStep = (m: Measure[]) => 1e6 / median(m.map((x) => x.test)) / steps;
  const handoffUs = perStep(small[1]) - perStep(small[0]);
  console.log(`hand-off between 2 threads: ${handoffUs.toFixed(2)} µs per step (16 neurons, learning off, 2 threads − 1)`);
  console.log(`core-to-core round trip: ${(await coreRoundTripUs()).toFixed(2)} µs (two threads spinning on a SharedArrayBuffer)`);
  const rows: Record<string, unknown>[] = [];
  for (const { neurons, train, test } of sizes) {
    await ours(neurons, Math.min(200, train), 50, 99, 2); // warm-up
    const one: Measure[] = [];
    const two: Measure[] = [];
    const roundTrips: number[] = [];
    for (let k = 0; k < repeats; k++) {
      roundTrips.push(await coreRoundTripUs());
      one.push(await ours(neurons, train, test, k, 1));
      two.push(await ours(neurons, train, test, k, 2));
    }
    roundTrips.push(await coreRoundTripUs());
    const t1 = 1e6 / median(one.map((m) => m.train)) / steps;
    const t2 = 1e6 / median(two.map((m) => m.train)) / steps;
    const f = Math.min(1, Math.max(0, (2 * (t1 - t2 + handoffUs)) / t1));
    const predict = (T: number) => Number((t1 / ((1 - f) * t1 + (f * t1) / T + handoffUs)).toFixed(2));
    const row = {
      neurons,
      '1 thread train/s': Math.round(median(one.map((m) => m.train))),
      '2 threads train/s': Math.round(median(two.map((m) => m.train))),
      'speed-up train': Number((t1 / t2).toFixed(2)),
      'speed-up test': Number((median(two.map((m) => m.test)) / median(one.map((m) => m.test))).toFixed(2)),
      'µs/step (1 thread)': Number(t1.toFixed(2)),
      'split fraction': Number(f.toFixed(2)),
      'model 4 / 8 / 16 threads': `${predict(4)} / ${predict(8)} / ${predict(16)}`,
      'core round trip µs': roundTrips.map((x) => x.toFixed(2)).join(' '),
    };
    rows.push(row);
    console.log(`threads N=${neurons}: ${JSON.stringify(row)}`);
  }
  console.table(rows);
  // More threads than cores (the server never does this, but other processes may take cores):
  // waiters must give the core back instead of spinning on it.
  const over = availableParallelism() + 1;
  const alone = await ours(1600, 300, 50, 0, 1);
  const crowded = await ours(1600, 300, 50, 0, over);
  console.log(
    `oversubscribed: 1,600 neurons on ${over} threads and ${over - 1} cores trains ${Math.round(crowded.train)} samples/s (1 thread: ${Math.round(alone.train)})`,
  );
  await recovery();
}

/**
 * One network on every core, with as many busy processes started beside it for a few seconds:
 * its training speed before, during and after. Waiters shorten their spin while the cores are
 * taken; after, the speed must come back (it once stayed halved for the rest of the run).
 */
async function recovery(): Promise<void> {
  const threads = availableParallelism();
  // Sized by time, not samples (a fixed workload ran out before "after" on fast machines): the
  // run is stopped 5 s after the busy processes end.
  const def = resolveDefinition({ preset: 'diehl-cook-2015', neurons: 1600, train: 60000, epochs: 10, test: 0, seed: 3, checkpointEvery: 0, stream: { spikesEvery: 0, weightsEvery: 0, progressEvery: 25 } });
  const marks: { t: number; done: number }[] = [];
  const hogs: ChildProcess[] = [];
  let t0 = NaN;
  const BEFORE = 3000;
  const BUSY = 3000;
  const AFTER = 5000;
  const rate = (from: number, to: number) => {
    const inside = marks.filter((m) => m.t >= from && m.t <= to);
    if (inside.length < 2) return NaN;
    const a = inside[0];
    const b = inside[inside.length - 1];
    return ((b.done - a.done) * 1000) / (b.t - a.t);
  };
  try {
    await runExperiment(def, {
      threads,
      yieldEveryMs: 1e9,
      shouldStop: () => !Number.isNaN(t0) && performance.now() - t0 > BEFORE + BUSY + AFTER,
      emit: (e) => {
        if (e.type !== 'progress' || e.phase !== 'train') return;
        // Times from the first progress event: loading the data is not training.
        if (Number.isNaN(t0)) t0 = performance.now();
        const t = performance.now() - t0;
        marks.push({ t, done: e.done });
        if (t > BEFORE && hogs.length === 0 && t < BEFORE + BUSY)
          for (let k = 0; k < threads; k++) hogs.push(spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
        if (t > BEFORE + BUSY) for (const h of hogs.splice(0)) h.kill('SIGKILL');
      },
    });
  } finally {
    for (const h of hogs) h.kill('SIGKILL');
  }
  const end = marks[marks.length - 1]?.t ?? 0;
  const [before, during, after] = [rate(0, BEFORE), rate(BEFORE + 200, BEFORE + BUSY), rate(BEFORE + BUSY + 500, end)];
  console.log(
    `after other work: 1,600 neurons on ${threads} threads trains ${Math.round(before)} samples/s, ${Math.round(during)} while ${threads} busy processes run, ${Math.round(after)} after they stop`,
  );
}

type Dense = Extract<ExperimentDefinition['connections'][number], { type: 'dense' }>;
const dense = (d: ExperimentDefinition) => d.connections.find((c) => c.type === 'dense') as Dense;

/** Every model and rule on the default network (100 neurons), and the original preset. */
const MODELS: { name: string; request: Record<string, unknown>; patch?: (d: ExperimentDefinition) => void }[] = [
  { name: 'diehl-cook-2015 (post-pre, current synapses)', request: { preset: 'diehl-cook-2015' } },
  { name: '+ weight-dependent-post-pre', request: { preset: 'diehl-cook-2015' }, patch: (d) => void (dense(d).plasticity = { rule: 'weight-dependent-post-pre', nuPre: 1e-4, nuPost: 1e-2 }) },
  { name: '+ stdp all-to-all', request: { preset: 'diehl-cook-2015' }, patch: (d) => void (dense(d).plasticity = { rule: 'stdp', aPlus: 0.01, aMinus: 1e-4, tauPlusMs: 20, tauMinusMs: 20, pairing: 'all-to-all' }) },
  { name: '+ stdp nearest', request: { preset: 'diehl-cook-2015' }, patch: (d) => void (dense(d).plasticity = { rule: 'stdp', aPlus: 0.01, aMinus: 1e-4, tauPlusMs: 20, tauMinusMs: 20, pairing: 'nearest' }) },
  { name: '+ diehl-cook rule', request: { preset: 'diehl-cook-2015' }, patch: (d) => void (dense(d).plasticity = { rule: 'diehl-cook', nuPre: 1e-4, nuPost: 1e-2, tauPreMs: 20, tauPost1Ms: 20, tauPost2Ms: 40 }) },
  { name: '+ power-law', request: { preset: 'diehl-cook-2015' }, patch: (d) => void (dense(d).plasticity = { rule: 'power-law', nu: 1e-3, xTarget: 0.4, mu: 0.2, tauPreMs: 20 }) },
  { name: '+ delays 0–10 ms', request: { preset: 'diehl-cook-2015' }, patch: (d) => void (dense(d).delay = { minMs: 0, maxMs: 10 }) },
  { name: '+ poisson input, dt 0.5 ms', request: { preset: 'diehl-cook-2015', encoder: 'poisson', dtMs: 0.5 } },
  { name: 'diehl-cook-2015-original (all of it, 1,000 steps/sample)', request: { preset: 'diehl-cook-2015-original' } },
];

async function models(repeats: number): Promise<void> {
  const rows: Record<string, unknown>[] = [];
  for (const neurons of [100, 400]) {
    for (const m of MODELS) {
      if (neurons === 400 && !m.name.startsWith('diehl-cook-2015')) continue;
      const original = m.name.startsWith('diehl-cook-2015-original');
      const train = original ? (neurons === 100 ? 1000 : 400) : 5000;
      const runs: Measure[] = [];
      for (let k = 0; k < repeats; k++) runs.push(await measure({ ...m.request, neurons, train, test: train / 2, seed: k }, m.patch));
      const row = { model: m.name, neurons, trainPerSec: Math.round(median(runs.map((r) => r.train))), testPerSec: Math.round(median(runs.map((r) => r.test))) };
      rows.push(row);
      console.log(JSON.stringify(row));
    }
  }
  console.table(rows);
}

/**
 * The reference's SIMD code is written for 16 float lanes (one AVX-512 register). On a host
 * without AVX-512, gcc lowers those 64-byte vectors badly: on a 2-vCPU AMD EPYC with AVX2 the
 * stock build runs 3× (100 neurons) to 7× (400) slower than the same file with 8 lanes, which
 * would inflate our ratio. So we also build an 8-lane copy (the lane count and vector types
 * changed, and the fp64 column sum's second half, which only exists for 16 lanes, dropped),
 * keep it only if its learned weights and diagnostics are bit-identical to the stock build's,
 * and divide by whichever of the two is faster at each size.
 */
const EIGHT_LANES: [string, string][] = [
  ['#define VL 16', '#define VL 8'],
  ['typedef float vf __attribute__((vector_size(64)));', 'typedef float vf __attribute__((vector_size(32)));'],
  ['typedef int32_t vi __attribute__((vector_size(64)));', 'typedef int32_t vi __attribute__((vector_size(32)));'],
  ['memcpy(&ah, (const char *)&a + sizeof al, sizeof ah);', 'memset(&ah, 0, sizeof ah);'],
  ['memcpy(n->csum + jb + 8, &hi, sizeof hi);', '(void)hi;'],
];

interface ReferenceBuild {
  name: string;
  bin: string;
}

function buildReferences(): ReferenceBuild[] {
  const src = join(root, '..', 'shared', 'ref');
  if (!existsSync(join(src, 'dc_ref.c'))) return [];
  const cc = spawnSync('sh', ['-c', 'command -v gcc || command -v cc'], { encoding: 'utf8' }).stdout.trim();
  if (!cc) return [];
  const dir = mkdtempSync(join(tmpdir(), 'dcref-'));
  cpSync(src, dir, { recursive: true });
  const compile = (file: string, out: string) =>
    execFileSync(cc, ['-O3', '-march=native', '-ffp-contract=off', '-o', join(dir, out), join(dir, file), '-lm'], { stdio: ['ignore', 'ignore', 'ignore'] });
  compile('dc_ref.c', 'dc_ref');
  const builds: ReferenceBuild[] = [{ name: 'stock', bin: join(dir, 'dc_ref') }];
  let text = readFileSync(join(dir, 'dc_ref.c'), 'utf8');
  for (const [from, to] of EIGHT_LANES) {
    if (text.split(from).length !== 2) {
      console.log(`C reference: 8-lane build skipped (the source no longer has "${from}" once)`);
      return builds;
    }
    text = text.replace(from, to);
  }
  writeFileSync(join(dir, 'dc_ref8.c'), text);
  compile('dc_ref8.c', 'dc_ref8');
  const eight = { name: '8-lane', bin: join(dir, 'dc_ref8') };
  for (const neurons of [100, 400]) {
    const a = referenceCheck(builds[0].bin, neurons, join(dir, 'a.bin'));
    const b = referenceCheck(eight.bin, neurons, join(dir, 'b.bin'));
    if (a !== b) {
      console.log(`C reference: 8-lane build differs from the stock build at ${neurons} neurons; not used`);
      return builds;
    }
  }
  builds.push(eight);
  return builds;
}

/** Learned weights and every diagnostic line but timings and the padded width: equal bits or not. */
function referenceCheck(bin: string, neurons: number, save: string): string {
  const out = execFileSync(
    bin,
    ['--data', mnistDataDir(), '--neurons', String(neurons), '--train', '1500', '--test', '300', '--seed', '7', '--quiet', '--save', save],
    { encoding: 'utf8' },
  );
  const lines = out.split('\n').filter((l) => !/per_s=|seconds=|wall_s=|^config:/.test(l));
  return createHash('sha256').update(readFileSync(save)).update(lines.join('\n')).digest('hex');
}

function reference(bin: string, neurons: number, train: number, test: number, seed: number): Measure {
  const out = execFileSync(
    bin,
    ['--data', mnistDataDir(), '--neurons', String(neurons), '--train', String(train), '--test', String(test), '--seed', String(seed), '--quiet'],
    { encoding: 'utf8' },
  );
  const value = (key: string) => Number(/^(\S+)=(\S+)$/m.exec(out.split('\n').find((l) => l.startsWith(key + '=')) ?? '')?.[2]);
  return { train: value('train_samples_per_s'), test: value('test_samples_per_s') };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      repeats: { type: 'string', default: '5' },
      neurons: { type: 'string' },
      'no-reference': { type: 'boolean' },
      'models-only': { type: 'boolean' },
      'no-models': { type: 'boolean' },
      'no-threads': { type: 'boolean' },
      'threads-only': { type: 'boolean' },
      'recovery-only': { type: 'boolean' },
    },
  });
  const repeats = Number(values.repeats);
  if (values['models-only']) return models(Math.min(repeats, 3));
  if (values['recovery-only']) return recovery();
  const threadSizes = [
    { neurons: 1600, train: 1500, test: 600 },
    { neurons: 6400, train: 400, test: 200 },
  ];
  if (values['threads-only']) return threadScaling(repeats, threadSizes);
  const sizes = values.neurons
    ? [{ neurons: Number(values.neurons), train: 10000, test: 5000 }]
    : [
        { neurons: 100, train: 10000, test: 5000 },
        { neurons: 400, train: 5000, test: 2000 },
        { neurons: 1600, train: 1500, test: 600 },
        { neurons: 6400, train: 400, test: 200 },
      ];
  const refs = values['no-reference'] ? [] : buildReferences();
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}`);
  console.log(
    refs.length
      ? `C reference: built from ../shared/ref (${refs.map((r) => r.name).join(', ')}; ratios divide by the faster)`
      : 'C reference: not available (no ../shared/ref or no C compiler)',
  );
  const rows: Record<string, unknown>[] = [];
  for (const { neurons, train, test } of sizes) {
    await ours(neurons, Math.min(500, train), 100, 99); // warm-up: JIT, MNIST load, kernel compile
    const mine: Measure[] = [];
    const theirs: Measure[][] = refs.map(() => []);
    for (let k = 0; k < repeats; k++) {
      mine.push(await ours(neurons, train, test, k));
      refs.forEach((r, b) => theirs[b].push(reference(r.bin, neurons, train, test, k)));
    }
    const row: Record<string, unknown> = {
      neurons,
      samples: `${train} train / ${test} test`,
      trainPerSec: Math.round(median(mine.map((m) => m.train))),
      testPerSec: Math.round(median(mine.map((m) => m.test))),
    };
    if (refs.length) {
      const trains = theirs.map((runs) => median(runs.map((m) => m.train)));
      const tests = theirs.map((runs) => median(runs.map((m) => m.test)));
      const best = trains.indexOf(Math.max(...trains));
      const rt = trains[best];
      const rs = Math.max(...tests);
      Object.assign(row, {
        ref: refs[best].name,
        refTrainPerSec: Math.round(rt),
        refTestPerSec: Math.round(rs),
        trainRatio: Number((Number(row.trainPerSec) / rt).toFixed(3)),
        testRatio: Number((Number(row.testPerSec) / rs).toFixed(3)),
      });
      if (refs.length > 1) row.stockTrainRatio = Number((Number(row.trainPerSec) / trains[0]).toFixed(3));
      // Run k of ours against run k of the faster build, which ran right after it: on a host whose
      // speed drifts between runs (±20 % here), the pairs' median moves less than a ratio of medians.
      const paired = mine.map((m, k) => m.train / theirs[best][k].train);
      Object.assign(row, {
        pairedTrainRatio: Number(median(paired).toFixed(3)),
        pairedRange: `${Math.min(...paired).toFixed(2)}–${Math.max(...paired).toFixed(2)}`,
      });
    }
    rows.push(row);
    console.log(`N=${neurons}: ${JSON.stringify(row)}`);
  }
  console.table(rows);
  if (!values['no-threads'] && !values.neurons) await threadScaling(Math.min(repeats, 3), threadSizes);
  if (!values['no-models'] && !values.neurons) await models(Math.min(repeats, 3));
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
