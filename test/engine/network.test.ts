/**
 * Network: step order, winner-take-all, one_spike, the signal path, learning, normalization and
 * state handling on real MNIST images. The strongest check is a plain dense simulator of
 * BindsNET's step order (test/reference/bindsnet-dense.ts), fed the same encoded input and the
 * same PRNG stream, which must reproduce the kernel bit for bit.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createRecording, Network, type NetworkSpec } from '../../src/engine/network.js';
import { Prng } from '../../src/engine/prng.js';
import { decayFactor } from '../../src/engine/spec.js';
import { resolveDefinition } from '../../src/experiment/presets.js';
import { experimentDefinitionSchema, type AdaptiveLifLayer, type DenseConnection, type ExperimentDefinition, type LifLayer } from '../../src/experiment/schema.js';
import { compileDefinition } from '../../src/experiment/topology.js';
import { loadMnist, type MnistData } from '../../src/io/mnist.js';
import { BindsnetDenseReference } from '../reference/bindsnet-dense.js';

const f = Math.fround;
const INPUTS = 784;
const T = 250;

let mnist: MnistData;
beforeAll(() => {
  mnist = loadMnist();
});

function presetSpec(neurons: number, seed = 0, extra: Record<string, unknown> = {}): NetworkSpec {
  return compileDefinition(resolveDefinition({ preset: 'diehl-cook-2015', neurons, seed, ...extra })).spec;
}

function trainImage(k: number): Uint8Array {
  return mnist.train.images.subarray(k * INPUTS, (k + 1) * INPUTS);
}

function u32(a: Float32Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length);
}

function sameBits(a: Float32Array, b: Float32Array, what: string): void {
  expect(a.length, what).toBe(b.length);
  const x = u32(a);
  const y = u32(b);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) throw new Error(`${what}: differs at ${i} (${a[i]} vs ${b[i]})`);
}

/** Raster pairs → per-step lists. */
function byStep(pairs: number[], steps = T): number[][] {
  const out: number[][] = Array.from({ length: steps }, () => []);
  for (let a = 0; a < pairs.length; a += 2) out[pairs[a]].push(pairs[a + 1]);
  return out;
}

function columnSum(w: Float32Array, n: number, j: number): number {
  let s = 0;
  for (let i = 0; i < INPUTS; i++) s += w[i * n + j];
  return s;
}

/** Per-step input lists from recorded (step, input) pairs. */
function inputByStep(pairs: number[], steps: number): number[][] {
  const out: number[][] = Array.from({ length: steps }, () => []);
  for (let a = 0; a < pairs.length; a += 2) out[pairs[a]].push(pairs[a + 1]);
  return out;
}

/** Raster pairs sorted within each step (the kernel lists inhibitory spikes in its own order). */
function sortedRaster(pairs: number[], steps: number): number[] {
  return byStep(pairs, steps).flatMap((s, t) => s.sort((a, b) => a - b).flatMap((j) => [t, j]));
}

/**
 * Runs the network and the dense reference side by side. The reference is given the network's
 * encoded input: a twin network with zero weights and no inhibition (it never spikes, so only the
 * encoder draws from its PRNG) encodes each image from the network's PRNG state; the reference
 * continues from the twin's PRNG state for its one-spike draws.
 */
function compareWithReference(spec: NetworkSpec, schedule: [number, boolean][]): { spikes: number; inh: number } {
  const net = new Network(spec);
  const encoder = new Network({ ...spec, inhibitory: null, dense: { ...spec.dense, init: { dist: 'constant', value: 0 }, plasticity: null, norm: null } });
  const s0 = net.getState();
  const ref = new BindsnetDenseReference(spec, s0.weights, s0.theta);
  let spikes = 0;
  let inh = 0;
  for (const [k, learning] of schedule) {
    encoder.setState({ ...encoder.getState(), prng: net.rng.getState() });
    const encoded = createRecording([]);
    encoder.runSample(trainImage(k), false, encoded);
    expect(encoded.excitatory).toEqual([]);
    const refRng = new Prng(0);
    refRng.setState(encoder.rng.getState());
    const rec = createRecording([]);
    net.runSample(trainImage(k), learning, rec);
    expect(rec.input, `input, sample ${k}`).toEqual(encoded.input);
    ref.runSample(inputByStep(encoded.input, spec.steps), learning, (c) => refRng.below(c));
    expect(rec.excitatory, `exc raster, sample ${k}`).toEqual(ref.excRaster);
    expect(sortedRaster(rec.inhibitory, spec.steps), `inh raster, sample ${k}`).toEqual(ref.inhRaster);
    expect(Array.from(net.counts)).toEqual(Array.from(ref.counts));
    sameBits(net.theta.slice(), ref.theta, `theta after sample ${k}`);
    sameBits(net.denseWeights(), ref.W, `weights after sample ${k}`);
    expect(Array.from(net.rng.getState())).toEqual(Array.from(refRng.getState()));
    spikes += rec.excitatory.length / 2;
    inh += rec.inhibitory.length / 2;
  }
  return { spikes, inh };
}

const SCHEDULE: [number, boolean][] = [
  [0, true],
  [1, true],
  [2, true],
  [3, true],
  [4, true],
  [5, false],
  [6, true],
  [7, false],
];

describe('Network vs a literal dense reference of the BindsNET step order', () => {
  it('eth_mnist preset: spikes, θ and weights bit for bit over learning and test samples', () => {
    const { spikes, inh } = compareWithReference(presetSpec(12, 3), SCHEDULE);
    expect(spikes).toBeGreaterThan(20);
    expect(inh).toBeGreaterThan(20);
  });

  /** Definition variants, built through the public definition path. */
  function variant(mutate: (d: ExperimentDefinition) => void, neurons = 8, seed = 4): NetworkSpec {
    const d = resolveDefinition({ preset: 'diehl-cook-2015', neurons, seed });
    mutate(d);
    return compileDefinition(experimentDefinitionSchema.parse(d)).spec;
  }
  const dense = (d: ExperimentDefinition) => d.connections[0] as DenseConnection;
  const variants: [string, () => NetworkSpec][] = [
    ['dt = 0.5 ms, 100 ms per sample', () => variant((d) => ((d.dtMs = 0.5), (d.timePerSampleMs = 100)))],
    ['no inhibitory layer, bernoulli input, all spikes propagate', () =>
      variant((d) => {
        d.layers = [d.layers[0], { ...(d.layers[1] as AdaptiveLifLayer), oneSpikePerStep: false }];
        d.connections = [d.connections[0]];
        d.encoder.type = 'bernoulli';
      })],
    ['restBetweenSamplesMs > 0 and a short θ time constant', () =>
      variant((d) => {
        d.restBetweenSamplesMs = 40;
        (d.layers[1] as AdaptiveLifLayer).tauThetaMs = 2000;
        (d.layers[1] as AdaptiveLifLayer).thetaPlusMv = 0.4;
      })],
    ['plain LIF excitatory layer (no θ, no one_spike)', () =>
      variant((d) => {
        const e = d.layers[1] as AdaptiveLifLayer;
        d.layers[1] = { id: e.id, type: 'lif', size: e.size, restMv: -65, resetMv: -60, thresholdMv: -52, refractoryMs: 5, tauMs: 100, traceTauMs: 20 } as LifLayer;
      })],
    // wMin > 0: normalization can scale weights below wMin; BindsNET's whole-matrix clamp at the
    // next training step lifts them back to wMin.
    ['tight weight bounds, strong learning rates, custom norm', () =>
      variant((d) => {
        dense(d).wMin = 0.01;
        dense(d).wMax = 0.2;
        dense(d).plasticity = { rule: 'post-pre', nuPre: 0.002, nuPost: 0.05 };
        dense(d).norm = 60;
        dense(d).init = { dist: 'uniform', low: 0.02, high: 0.15 };
      })],
    ['no plasticity, no normalization', () =>
      variant((d) => {
        dense(d).plasticity = null;
        dense(d).norm = null;
      })],
    ['latency input, weak inhibition, different traces', () =>
      variant((d) => {
        d.encoder.type = 'latency';
        dense(d).init = { dist: 'uniform', low: 0.2, high: 0.6 }; // one spike per pixel needs strong weights
        (d.connections[2] as { weight: number }).weight = -5;
        (d.layers[0] as { traceTauMs: number }).traceTauMs = 7;
        (d.layers[1] as AdaptiveLifLayer).traceTauMs = 33;
      })],
  ];
  for (const [name, make] of variants) {
    it(`variant: ${name}`, () => {
      const { spikes } = compareWithReference(make(), SCHEDULE);
      expect(spikes).toBeGreaterThan(0);
    });
  }
});

describe('Network: one_spike and winner-take-all', () => {
  it('at most one excitatory spike per step; every crossing neuron is still reset, θ-bumped and refractory', () => {
    const n = 10;
    const net = new Network(presetSpec(n, 1));
    const all = Array.from({ length: n }, (_, j) => j);
    const p = { rest: -65, reset: -60, d: decayFactor(1, 100) };
    let multiCrossSteps = 0;
    let loserWasNotFirst = 0;
    let crossings = 0;
    let spikes = 0;
    for (let k = 0; k < 6; k++) {
      const rec = createRecording(all);
      net.runSample(trainImage(k), true, rec);
      const exc = byStep(rec.excitatory);
      const V = (t: number, j: number) => rec.voltage[t * n + j];
      const TH = (t: number, j: number) => rec.threshold[t * n + j];
      for (let t = 0; t < T; t++) {
        expect(exc[t].length).toBeLessThanOrEqual(1);
        // A crossing shows as v = reset exactly together with a θ jump of +θ+ (0.05).
        const crossed: number[] = [];
        for (let j = 0; j < n; j++) {
          const isReset = V(t, j) === -60;
          const jump = t > 0 ? TH(t, j) - TH(t - 1, j) : 0;
          const bumped = Math.abs(jump - 0.05) < 1e-4;
          expect(bumped, `t=${t} j=${j}: reset ${isReset} but θ jump ${jump}`).toBe(isReset);
          if (isReset) crossed.push(j);
        }
        crossings += crossed.length;
        spikes += exc[t].length;
        // one_spike: a step with crossings has exactly one winner, drawn from the crossers.
        expect(exc[t].length).toBe(crossed.length > 0 ? 1 : 0);
        if (exc[t].length) expect(crossed).toContain(exc[t][0]);
        if (crossed.length > 1) {
          multiCrossSteps++;
          if (exc[t][0] !== crossed[0]) loserWasNotFirst++;
        }
        // Every crosser (winner or not) ignores input for the next 5 steps: pure decay.
        for (const j of crossed)
          for (let q = 1; q <= 5 && t + q < T; q++) {
            const want = f(f(p.d * f(V(t + q - 1, j) - p.rest)) + p.rest);
            expect(V(t + q, j)).toBe(want);
          }
      }
    }
    expect(multiCrossSteps).toBeGreaterThan(0);
    // The winner is drawn at random, not always the lowest index.
    expect(loserWasNotFirst).toBeGreaterThan(0);
    expect(crossings).toBeGreaterThan(spikes);
  });

  it('without one_spike several neurons can spike in the same step', () => {
    const n = 10;
    const net = new Network({ ...presetSpec(n, 1), excitatory: { ...presetSpec(n, 1).excitatory, oneSpikePerStep: false } });
    let maxPerStep = 0;
    for (let k = 0; k < 3; k++) {
      const rec = createRecording([]);
      const total = net.runSample(trainImage(k), true, rec);
      expect(total).toBe(rec.excitatory.length / 2);
      for (const s of byStep(rec.excitatory)) maxPerStep = Math.max(maxPerStep, s.length);
    }
    expect(maxPerStep).toBeGreaterThan(1);
  });

  it('an excitatory spike at t makes its inhibitory partner spike at t+1, and only then', () => {
    const n = 10;
    const net = new Network(presetSpec(n, 2));
    let checked = 0;
    for (let k = 0; k < 5; k++) {
      const rec = createRecording([]);
      net.runSample(trainImage(k), k % 2 === 0, rec);
      const expected: number[] = [];
      for (let a = 0; a < rec.excitatory.length; a += 2) if (rec.excitatory[a] + 1 < T) expected.push(rec.excitatory[a] + 1, rec.excitatory[a + 1]);
      expect(rec.inhibitory).toEqual(expected);
      checked += expected.length / 2;
    }
    expect(checked).toBeGreaterThan(10);
  });
});

describe('Network: the signal path (single input spike, latency code)', () => {
  it('input at t → excitatory spike at t+1 → inhibitory at t+2 → −120 on the others at t+3', () => {
    const n = 4;
    const base = presetSpec(n, 0);
    const net = new Network({ ...base, encoder: { type: 'latency', maxRateHz: 128 } });
    const pixel = 300; // some input index
    const img = new Uint8Array(INPUTS);
    img[pixel] = 128; // latency step round((1 − 128/255)·249) = 124
    const tIn = Math.round(((255 - 128) * (T - 1)) / 255);
    expect(tIn).toBe(124);
    const weights = new Float32Array(INPUTS * n);
    weights[pixel * n + 0] = 20; // −65 + 20 = −45 ≥ −52: neuron 0 fires
    weights[pixel * n + 1] = 10; // −55: below threshold
    weights[pixel * n + 2] = 4; // −61
    const theta = new Float32Array(n);
    net.setState({ weights, theta, prng: net.rng.getState(), normalizeAll: false, needClamp: false });
    const rec = createRecording([0, 1, 2, 3]);
    net.runSample(img, false, rec);
    expect(rec.input).toEqual([tIn, pixel]);
    expect(rec.excitatory).toEqual([tIn + 1, 0]);
    expect(rec.inhibitory).toEqual([tIn + 2, 0]);
    const V = (t: number, j: number) => rec.voltage[t * n + j];
    const d = decayFactor(1, 100);
    const decay = (v: number) => f(f(d * f(v + 65)) - 65);
    // Nothing moves before the input arrives (including at the input step itself).
    for (let t = 0; t <= tIn; t++) for (let j = 0; j < n; j++) expect(V(t, j)).toBe(-65);
    expect(V(tIn + 1, 0)).toBe(-60);
    expect(V(tIn + 1, 1)).toBe(-55);
    expect(V(tIn + 1, 2)).toBe(-61);
    expect(V(tIn + 1, 3)).toBe(-65);
    // t+2: only decay (the inhibitory spike happens now, its effect comes next step).
    for (const j of [1, 2]) expect(V(tIn + 2, j)).toBe(decay(V(tIn + 1, j)));
    // t+3: all-but-self inhibition −120 on neurons 1..3; neuron 0 is refractory.
    for (const j of [1, 2, 3]) expect(V(tIn + 3, j)).toBe(f(decay(V(tIn + 2, j)) + -120));
    expect(V(tIn + 3, 0)).toBe(decay(V(tIn + 2, 0)));
    // Learning off: weights and θ untouched.
    sameBits(net.denseWeights(), weights, 'weights');
    sameBits(net.theta.slice(), theta, 'theta');
  });
});

describe('Network: learning, normalization and state', () => {
  it('learning off leaves weights and θ bit-identical (while the network does spike)', () => {
    const net = new Network(presetSpec(10, 4));
    net.runSample(trainImage(0), true); // get non-trivial θ
    const w = net.denseWeights();
    const th = net.theta.slice();
    let spikes = 0;
    for (let k = 1; k < 6; k++) spikes += net.runSample(trainImage(k), false);
    expect(spikes).toBeGreaterThan(0);
    sameBits(net.denseWeights(), w, 'weights');
    sameBits(net.theta.slice(), th, 'theta');
  });

  it('θ grows with learning (≈ 0.05 per crossing) and persists across samples', () => {
    const n = 10;
    const net = new Network(presetSpec(n, 5));
    expect(Array.from(net.theta).every((x) => x === 0)).toBe(true);
    net.runSample(trainImage(0), true);
    const th1 = net.theta.slice();
    expect(th1.some((x) => x > 0)).toBe(true);
    // Each θ is (nearly) a multiple of 0.05; the decay over one sample is ≤ 250·1.2e-7 relative.
    for (const x of th1) {
      const m = Math.round(x / 0.05);
      expect(Math.abs(x - 0.05 * m)).toBeLessThan(0.05 * m * 1e-4 + 1e-6);
    }
    // The next sample starts from these θ (not reset): test run without learning keeps them.
    net.runSample(trainImage(1), false);
    sameBits(net.theta.slice(), th1, 'theta');
  });

  it('state is reset between samples (v, refractory, traces, inhibition) while θ and W persist', () => {
    const n = 10;
    const spec = presetSpec(n, 6);
    const a = new Network(spec);
    a.runSample(trainImage(0), true);
    a.runSample(trainImage(1), true);
    const mid = a.getState();
    // v is left wherever the last step put it…
    const rec1 = createRecording(Array.from({ length: n }, (_, j) => j));
    const b1 = new Network(spec);
    b1.setState(a.getState());
    b1.runSample(trainImage(1), false, rec1);
    expect(rec1.voltage.slice((T - 1) * n).some((v) => v !== -65)).toBe(true);
    const rec = createRecording(Array.from({ length: n }, (_, j) => j));
    a.runSample(trainImage(2), true, rec);
    // …but the next sample starts from rest: step 0 has no input, so v(0) = rest exactly.
    for (let j = 0; j < n; j++) expect(rec.voltage[j]).toBe(-65);
    // And the outcome equals a fresh network given only W, θ and the PRNG: nothing else carries over.
    const b = new Network(spec);
    b.setState(mid);
    const recB = createRecording([]);
    b.runSample(trainImage(2), true, recB);
    expect(recB.excitatory).toEqual(rec.excitatory);
    sameBits(b.denseWeights(), a.denseWeights(), 'weights');
    sameBits(b.theta.slice(), a.theta.slice(), 'theta');
  });

  it('normalization: after the first learning sample every column sums to 78.4; later only the touched ones change', () => {
    const n = 12;
    const net = new Network(presetSpec(n, 7));
    const w0 = net.denseWeights();
    // U(0, 0.3) initial weights: column sums ≈ 784·0.15, not normalized before the first sample.
    // (sd of a column sum: √784·0.3/√12 ≈ 2.4)
    for (let j = 0; j < n; j++) {
      expect(Math.abs(columnSum(w0, n, j) - 117.6)).toBeLessThan(5 * 2.43);
      expect(Math.abs(columnSum(w0, n, j) - 78.4)).toBeGreaterThan(20);
    }
    net.runSample(trainImage(0), true);
    const w1 = net.denseWeights();
    for (let j = 0; j < n; j++) expect(Math.abs(columnSum(w1, n, j) - 78.4)).toBeLessThan(78.4 * 2e-6);
    let sawUntouched = false;
    for (let k = 1; k < 5; k++) {
      const before = net.denseWeights();
      net.runSample(trainImage(k), true);
      const after = net.denseWeights();
      for (let j = 0; j < n; j++) {
        if (net.counts[j] > 0) {
          expect(Math.abs(columnSum(after, n, j) - 78.4)).toBeLessThan(78.4 * 2e-6);
        } else {
          sawUntouched = true;
          for (let i = 0; i < INPUTS; i++) if (u32(after)[i * n + j] !== u32(before)[i * n + j]) throw new Error(`silent column ${j} changed at row ${i}`);
        }
      }
      // Every weight within [wMin, wMax] (no normalization overshoot here).
      expect(after.every((w) => w >= 0 && w <= 1)).toBe(true);
    }
    expect(sawUntouched).toBe(true);
  });

  it('training keeps every weight within [wMin, wMax] (BindsNET clamps the whole matrix at each learning step)', () => {
    // Initial weights outside the bounds: U(0, 0.3) with bounds [0.05, 0.2], no normalization so
    // nothing else moves them. In BindsNET the clamp after the first training step already puts
    // every weight into [0.05, 0.2].
    const d = resolveDefinition({ preset: 'diehl-cook-2015', neurons: 8, seed: 4 });
    const c = d.connections[0] as DenseConnection;
    c.wMin = 0.05;
    c.wMax = 0.2;
    c.norm = null;
    const net = new Network(compileDefinition(d).spec);
    net.runSample(trainImage(0), true);
    const w = net.denseWeights();
    const below = w.filter((x) => x < f(0.05)).length;
    const above = w.filter((x) => x > f(0.2)).length;
    expect({ below, above }).toEqual({ below: 0, above: 0 });
  });

  it('weights that normalization scales below wMin are clamped back at the next training sample', () => {
    // Bounds [0.05, 1], norm 78.4, init U(0.05, 0.3) (inside the bounds). The first normalization
    // (factor ≈ 78.4/137 < 1) scales many weights below wMin. For a neuron that stays silent in
    // the next training sample STDP leaves its column alone, so BindsNET's column becomes
    // normalize(clamp(w, wMin, wMax)): clamped at the first step, renormalized at the end.
    const d = resolveDefinition({ preset: 'diehl-cook-2015', neurons: 8, seed: 4 });
    const c = d.connections[0] as DenseConnection;
    c.wMin = 0.05;
    c.init = { dist: 'uniform', low: 0.05, high: 0.3 };
    const net = new Network(compileDefinition(d).spec);
    const n = 8;
    net.runSample(trainImage(0), true);
    const w1 = net.denseWeights();
    net.runSample(trainImage(1), true);
    const w2 = net.denseWeights();
    let checked = 0;
    for (let j = 0; j < n; j++) {
      if (net.counts[j] > 0) continue; // fired: STDP changed the column
      const col = Array.from({ length: INPUTS }, (_, i) => w1[i * n + j]);
      if (!col.some((x) => x < f(0.05))) continue;
      const clamped = col.map((x) => Math.min(Math.max(x, f(0.05)), 1));
      const sum = clamped.reduce((a, b) => a + b, 0);
      for (let i = 0; i < INPUTS; i++) {
        const want = (clamped[i] * 78.4) / sum;
        expect(Math.abs(w2[i * n + j] - want), `w[${i}, ${j}]: ${w2[i * n + j]} vs ${want}`).toBeLessThan(want * 1e-6);
      }
      checked++;
    }
    expect(checked).toBeGreaterThan(0);
  });

  it('getState/setState round trip gives identical continued runs', () => {
    const n = 10;
    const a = new Network(presetSpec(n, 8));
    for (let k = 0; k < 3; k++) a.runSample(trainImage(k), true);
    const st = a.getState();
    // A network with a different seed, overwritten with the state.
    const b = new Network(presetSpec(n, 999));
    b.setState(st);
    expect(Array.from(b.rng.getState())).toEqual(Array.from(st.prng));
    for (let k = 3; k < 7; k++) {
      const learning = k !== 5;
      const ra = createRecording([0]);
      const rb = createRecording([0]);
      a.runSample(trainImage(k), learning, ra);
      b.runSample(trainImage(k), learning, rb);
      expect(rb.excitatory).toEqual(ra.excitatory);
      expect(rb.input).toEqual(ra.input);
      expect(rb.voltage).toEqual(ra.voltage);
    }
    sameBits(b.denseWeights(), a.denseWeights(), 'weights');
    sameBits(b.theta.slice(), a.theta.slice(), 'theta');
    // getState is a copy.
    const s2 = a.getState();
    s2.weights[0] = 123;
    expect(a.denseWeights()[0]).not.toBe(123);
  });

  it('setState validates sizes', () => {
    const net = new Network(presetSpec(5, 0));
    const st = net.getState();
    expect(() => net.setState({ ...st, weights: new Float32Array(10) })).toThrow(/weights/);
    expect(() => net.setState({ ...st, theta: new Float32Array(4) })).toThrow(/theta/);
  });

  it('same spec and seed ⇒ identical runs; different seed ⇒ different weights', () => {
    const run = (seed: number) => {
      const net = new Network(presetSpec(10, seed));
      for (let k = 0; k < 3; k++) net.runSample(trainImage(k), true);
      return net.denseWeights();
    };
    sameBits(run(11), run(11), 'same seed');
    const a = run(11);
    const b = run(12);
    expect(u32(a).some((x, i) => x !== u32(b)[i])).toBe(true);
  });
});
