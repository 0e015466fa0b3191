/**
 * One network on several threads (src/engine/assembly/threads.ts): the same bits for any thread
 * count on every path the split touches (the fused current-synapse step, the buffered
 * conductance step, delay scatter, state carried between samples, learning on and off, uneven
 * shares), through checkpoint and resume, and helpers that end when the network closes.
 */
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { Worker } from 'node:worker_threads';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRecording, engineThreadsFor, Network, type NetworkSpec } from '../../src/engine/network.js';
import { resolveDefinition } from '../../src/experiment/presets.js';
import { runExperiment } from '../../src/experiment/run.js';
import type { ExperimentEvent } from '../../src/experiment/events.js';
import type { ExperimentDefinition } from '../../src/experiment/schema.js';
import { compileDefinition } from '../../src/experiment/topology.js';
import { loadMnist, type MnistData } from '../../src/io/mnist.js';

const INPUTS = 784;
let mnist: MnistData;
beforeAll(() => {
  mnist = loadMnist();
});

function image(k: number): Uint8Array {
  return mnist.train.images.subarray(k * INPUTS, (k + 1) * INPUTS);
}

function spec(request: Record<string, unknown>, patch: (d: ExperimentDefinition) => void = () => {}): NetworkSpec {
  const def = resolveDefinition({ train: 100, test: 10, ...request });
  patch(def);
  return compileDefinition(def).spec;
}

type Dense = Extract<ExperimentDefinition['connections'][number], { type: 'dense' }>;
const plasticity = (rule: Dense['plasticity']) => (d: ExperimentDefinition) => {
  (d.connections.find((c) => c.type === 'dense') as Dense).plasticity = rule;
};

/** Everything a run of `samples` samples leaves behind, per sample and at the end. */
function trace(s: NetworkSpec, threads: number, samples: number, learnUntil: number, aloneJobs?: (k: number) => number) {
  const net = new Network(s, undefined, threads);
  try {
    const perSample: string[] = [];
    for (let k = 0; k < samples; k++) {
      if (aloneJobs) {
        // The kernel may also go alone by itself (a busy machine), so only a long budget is checked:
        // a sample spent entirely alone used a sample's jobs of it, more than a short budget, so
        // those end inside a sample.
        if (k > 0 && aloneJobs(k - 1) >= 1e5) {
          const used = 1e5 - net.aloneJobsLeft;
          expect(used).toBeGreaterThan(200);
          expect(used).toBeLessThan(5000);
        }
        net.runAlone(aloneJobs(k));
      }
      const rec = createRecording([0, 1, Math.min(s.neurons - 1, 17)]);
      const spikes = net.runSample(image(k), k < learnUntil, k % 3 === 0 ? rec : null);
      perSample.push(`${spikes}:${Array.from(net.counts).join(',')}:${rec.excitatory.join(',')}:${rec.voltage.join(',')}`);
    }
    const st = net.getState();
    return {
      perSample,
      weights: new Uint32Array(st.weights.buffer.slice(0)),
      theta: new Uint32Array(st.theta.buffer.slice(0)),
      prng: Array.from(st.prng),
      carried: st.carried ? Array.from(st.carried) : null,
    };
  } finally {
    net.close();
  }
}

function expectSame(a: ReturnType<typeof trace>, b: ReturnType<typeof trace>, what: string): void {
  expect(b.perSample, `${what}: spikes, counts, rasters, voltages`).toEqual(a.perSample);
  expect(b.prng, `${what}: PRNG`).toEqual(a.prng);
  let bad = -1;
  for (let i = 0; i < a.weights.length && bad < 0; i++) if (a.weights[i] !== b.weights[i]) bad = i;
  expect(bad, `${what}: first weight that differs`).toBe(-1);
  expect(Array.from(b.theta), `${what}: theta`).toEqual(Array.from(a.theta));
  expect(b.carried, `${what}: carried state`).toEqual(a.carried);
}

describe('a network on several threads', () => {
  it('diehl-cook-2015 (fused current synapses): same bits on 1, 2 and 3 threads, learning on and off', () => {
    // 100 neurons = 7 blocks of 16: 3 threads get uneven shares.
    const s = spec({ preset: 'diehl-cook-2015', neurons: 100, seed: 3 });
    const one = trace(s, 1, 12, 9);
    expectSame(one, trace(s, 2, 12, 9), '2 threads');
    expectSame(one, trace(s, 3, 12, 9), '3 threads');
  });

  it('diehl-cook-2015-original (conductances, delays, state carried between samples): same bits on 1 and 2 threads', () => {
    const s = spec({ preset: 'diehl-cook-2015-original', neurons: 48, seed: 5 });
    expect(s.dense.delay).not.toBeNull();
    expect(s.resetBetweenSamples).toBe(false);
    expect(s.excitatory.spikeLockoutMs).toBe(50);
    const one = trace(s, 1, 5, 4);
    expectSame(one, trace(s, 2, 5, 4), '2 threads');
  });

  it('every learning rule: plasticity and normalization, applied by the thread that owns each column, give the same bits on 1 and 3 threads', () => {
    const rules: Dense['plasticity'][] = [
      { rule: 'weight-dependent-post-pre', nuPre: 1e-3, nuPost: 1e-2 },
      { rule: 'stdp', aPlus: 0.01, aMinus: 2e-3, tauPlusMs: 20, tauMinusMs: 20, pairing: 'all-to-all' },
      { rule: 'stdp', aPlus: 0.01, aMinus: 2e-3, tauPlusMs: 20, tauMinusMs: 20, pairing: 'nearest' },
      { rule: 'diehl-cook', nuPre: 1e-3, nuPost: 1e-2, tauPreMs: 20, tauPost1Ms: 20, tauPost2Ms: 40 },
      { rule: 'power-law', nu: 1e-3, xTarget: 0.4, mu: 0.2, tauPreMs: 20 },
    ];
    for (const rule of rules) {
      // 100 neurons, several spikes per step: columns of every thread change in one step.
      const base = spec({ preset: 'diehl-cook-2015', neurons: 100, seed: 4 }, plasticity(rule));
      const s: NetworkSpec = { ...base, excitatory: { ...base.excitatory, oneSpikePerStep: false } };
      const one = trace(s, 1, 6, 6);
      expect(one.perSample.some((x) => !x.startsWith('0:')), `${rule?.rule}: spikes`).toBe(true);
      expectSame(one, trace(s, 3, 6, 6), `${rule?.rule} ${rule && 'pairing' in rule ? rule.pairing : ''}, 3 threads`);
    }
  });

  it('thread 0 running jobs alone (what it does when helpers get no core), switching in and out mid-sample: same bits', () => {
    // Jobs per sample: one or two per step (excitatory update, delay-line scatter), the reset and
    // the normalization (252 for the fused preset, ~1,000–2,000 for the original one); 0 hands the
    // next sample back to the helpers unless the kernel goes alone by itself.
    const alone = (k: number) => [0, 100, 700, 0, 300, 100000][k % 6];
    const fused = spec({ preset: 'diehl-cook-2015', neurons: 100 });
    expectSame(trace(fused, 1, 12, 9), trace(fused, 2, 12, 9, alone), 'fused, 2 threads');
    const original = spec({ preset: 'diehl-cook-2015-original', neurons: 40 }, (d) => {
      d.timePerSampleMs = 60;
      d.restBetweenSamplesMs = 20;
    });
    expectSame(trace(original, 1, 6, 4), trace(original, 3, 6, 4, alone), 'original, 3 threads');
  });

  it('more threads than blocks, no inhibitory layer, every crossing a spike: same bits', () => {
    const base = spec({ preset: 'diehl-cook-2015', neurons: 20, seed: 9 });
    const s: NetworkSpec = { ...base, inhibitory: null, excitatory: { ...base.excitatory, oneSpikePerStep: false } };
    const one = trace(s, 1, 6, 6);
    expectSame(one, trace(s, 4, 6, 6), '4 threads on 2 blocks');
  });

  it('an experiment on 2 threads, stopped at a checkpoint and resumed on 1, ends where one uninterrupted thread does', async () => {
    const def = resolveDefinition({ preset: 'diehl-cook-2015', neurons: 64, train: 300, test: 50, seed: 11, checkpointEvery: 100 });
    const quiet = { emit: () => {}, yieldEveryMs: 1e9 };
    const whole = await runExperiment(def, { ...quiet, threads: 1 });
    let checkpoint: Uint8Array | null = null;
    const first = await runExperiment(def, {
      ...quiet,
      threads: 2,
      emit: (e: ExperimentEvent) => {
        if (e.type === 'checkpoint') checkpoint = e.state;
      },
      shouldStop: (done) => done >= 150,
    });
    expect(first.cancelled).toBe(true);
    expect(checkpoint).not.toBeNull();
    const resumed = await runExperiment(def, { ...quiet, threads: 1, resumeFrom: checkpoint! });
    expect(resumed.weightsSha256).toBe(whole.weightsSha256);
    expect(resumed.accuracy).toEqual(whole.accuracy);
    const twoThreads = await runExperiment(def, { ...quiet, threads: 2 });
    expect(twoThreads.weightsSha256).toBe(whole.weightsSha256);
  });

  it('close() ends the helper threads', async () => {
    const net = new Network(spec({ preset: 'diehl-cook-2015', neurons: 64, seed: 1 }), undefined, 3);
    net.runSample(image(0), true);
    const helpers = (net as unknown as { helpers: Worker[] }).helpers;
    expect(helpers).toHaveLength(2);
    const exits = helpers.map((w) => once(w, 'exit'));
    net.close();
    await Promise.all(exits);
    expect(() => net.runSample(image(1), true)).toThrow();
  });

  it('runs on 2 threads in a process started with --input-type=module (node -e), same bits as 1 thread', async () => {
    // The compiled engine, as a user's script would load it (`npm test` builds first). Helpers
    // inherit the process's flags; with this one their script used to fail to start, and thread 0
    // waited a minute for them before trapping.
    const dist = pathToFileURL(join(import.meta.dirname, '..', '..', 'dist', 'src', 'experiment')).href;
    const script = (threads: number) => `
      const { resolveDefinition } = await import('${dist}/presets.js');
      const { runExperiment } = await import('${dist}/run.js');
      const def = resolveDefinition({ preset: 'diehl-cook-2015', neurons: 64, train: 20, test: 5, seed: 4, checkpointEvery: 0 });
      const r = await runExperiment(def, { emit: () => {}, threads: ${threads} });
      console.log(r.weightsSha256);`;
    const run = (threads: number) =>
      promisify(execFile)(process.execPath, ['--input-type=module', '-e', script(threads)], { timeout: 20_000 });
    const [one, two] = await Promise.all([run(1), run(2)]);
    expect(two.stdout.trim()).toMatch(/^[0-9a-f]{64}$/);
    expect(two.stdout.trim()).toBe(one.stdout.trim());
  });

  it('a budget splits only networks large enough to gain', () => {
    expect(engineThreadsFor(100, 8, 16)).toBe(1);
    expect(engineThreadsFor(1600, 8, 16)).toBe(1);
    expect(engineThreadsFor(6400, 8, 16)).toBe(2);
    expect(engineThreadsFor(6400, 1, 16)).toBe(1);
    expect(engineThreadsFor(200_000, 64, 64)).toBe(32);
    // Never more threads than cores.
    expect(engineThreadsFor(200_000, 8, 2)).toBe(2);
  });
});
