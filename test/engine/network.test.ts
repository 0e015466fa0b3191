/**
 * DiehlCookNetwork: step order, delays, winner-take-all, one_spike, learning, normalization,
 * state handling, and kernel equivalence. The strongest check is a plain dense simulator written
 * here from the reference semantics (shared/ref/README.md, "Exact per-step semantics"), fed the
 * same encoded input and the same PRNG stream, which must reproduce the engine bit for bit.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { decayFactor } from '../../src/engine/lif.js';
import { createEncoder, createSpikeTrain } from '../../src/engine/encoders.js';
import { loadExcKernelModule } from '../../src/engine/exc-kernel.js';
import { createRecording, DiehlCookNetwork, type NetworkSpec, type SampleRecording } from '../../src/engine/network.js';
import { Prng } from '../../src/engine/prng.js';
import { resolveDefinition } from '../../src/experiment/presets.js';
import { experimentDefinitionSchema, type AdaptiveLifLayer, type DenseConnection, type ExperimentDefinition, type LifLayer } from '../../src/experiment/schema.js';
import { compileDefinition } from '../../src/experiment/topology.js';
import { loadMnist, type MnistData } from '../../src/io/mnist.js';

const f = Math.fround;
const INPUTS = 784;
const T = 250;

let mod: WebAssembly.Module;
let mnist: MnistData;
beforeAll(async () => {
  mod = await loadExcKernelModule();
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

// ---------------------------------------------------------------------------------------------
// Reference: a dense, literal simulator of BindsNET's synchronous step order (README), float32,
// driven by the spec's parameters.
// ---------------------------------------------------------------------------------------------
class ReferenceNet {
  readonly n: number;
  readonly W: Float32Array; // [784, n]
  readonly theta: Float32Array;
  readonly counts: Int32Array;
  readonly rng = new Prng(0);
  private readonly spec: NetworkSpec;
  private readonly steps: number;
  private readonly encoder;
  private readonly train;
  private normalizeAllNext = true;
  excRaster: number[] = [];
  inhRaster: number[] = [];

  constructor(spec: NetworkSpec, weights: Float32Array, theta: Float32Array, prng: Uint32Array) {
    this.spec = spec;
    this.n = spec.neurons;
    this.steps = spec.steps;
    this.W = Float32Array.from(weights);
    this.theta = Float32Array.from(theta);
    this.counts = new Int32Array(this.n);
    this.rng.setState(prng);
    this.encoder = createEncoder(spec.encoder.type, spec.steps, spec.dtMs, spec.encoder.maxRateHz);
    this.train = createSpikeTrain(INPUTS, spec.steps);
  }

  runSample(image: Uint8Array, learning: boolean): void {
    const { spec, n, W, steps } = this;
    const th = this.theta;
    const dt = f(spec.dtMs);
    const E = spec.excitatory;
    const H = spec.inhibitory;
    const dE = decayFactor(spec.dtMs, E.tauMs);
    const dTrX = decayFactor(spec.dtMs, spec.inputTraceTauMs);
    const dTrE = decayFactor(spec.dtMs, E.traceTauMs);
    const dTheta = decayFactor(spec.dtMs, E.tauThetaMs);
    const dI = H ? decayFactor(spec.dtMs, H.tauMs) : 0;
    const rule = spec.dense.plasticity;
    const nuPre = rule ? f(rule.nuPre) : 0;
    const nuPost = rule ? f(rule.nuPost) : 0;
    const wMin = f(spec.dense.wMin);
    const wMax = f(spec.dense.wMax);
    const adapt = E.adaptive && learning;

    this.encoder.encode(image, this.rng, this.train);
    const tr = this.train;
    const input: number[][] = [];
    for (let t = 0; t < steps; t++) input.push(Array.from(tr.index.subarray(t * tr.stride, t * tr.stride + tr.count[t])).sort((a, b) => a - b));

    const vE = new Float32Array(n).fill(E.restMv);
    const rE = new Float32Array(n);
    const vI = new Float32Array(n).fill(H ? H.restMv : 0);
    const rI = new Float32Array(n);
    const xX = new Float32Array(INPUTS);
    const xE = new Float32Array(n);
    let sXprev: number[] = [];
    let sEprev = new Uint8Array(n);
    let sIprev = new Uint8Array(n);
    this.counts.fill(0);
    this.excRaster = [];
    this.inhRaster = [];
    const fired = new Uint8Array(n);
    const wIE = H ? H.inhToExc : 0;

    for (let t = 0; t < steps; t++) {
      // 1. inputs from step t−1 (summed in spike order, float32; all-but-self as (Σ − w·s_j) + w·#sI).
      let nI = 0;
      for (let k = 0; k < n; k++) nI += sIprev[k];
      const IE = new Float32Array(n);
      for (const i of sXprev) for (let j = 0; j < n; j++) IE[j] = f(IE[j] + W[i * n + j]);
      for (let j = 0; j < n; j++) IE[j] = f(f(IE[j] + (sIprev[j] ? -wIE : 0)) + f(wIE * nI));
      const II = new Float32Array(n);
      for (let k = 0; k < n; k++) II[k] = sEprev[k] && H ? H.excToInh : 0;

      // 2. X
      const sX = input[t];
      for (let i = 0; i < INPUTS; i++) xX[i] = f(xX[i] * dTrX);
      for (const i of sX) xX[i] = 1;

      // 3. Ae
      const crossed: number[] = [];
      for (let j = 0; j < n; j++) {
        vE[j] = f(f(dE * f(vE[j] - f(E.restMv))) + f(E.restMv));
        if (adapt) th[j] = f(th[j] * dTheta);
        if (rE[j] <= 0) vE[j] = f(vE[j] + IE[j]);
        rE[j] = f(rE[j] - dt);
        if (vE[j] >= f(f(E.thresholdMv) + th[j])) {
          crossed.push(j);
          rE[j] = f(E.refractoryMs);
          vE[j] = f(E.resetMv);
          if (adapt) th[j] = f(th[j] + f(E.thetaPlusMv));
        }
      }
      const sE = new Uint8Array(n);
      if (crossed.length > 1 && E.oneSpikePerStep) sE[crossed[this.rng.below(crossed.length)]] = 1;
      else for (const j of crossed) sE[j] = 1;
      for (let j = 0; j < n; j++) {
        xE[j] = f(xE[j] * dTrE);
        if (sE[j]) {
          xE[j] = 1;
          this.counts[j]++;
          fired[j] = 1;
          this.excRaster.push(t, j);
        }
      }

      // 4. Ai
      const sI = new Uint8Array(n);
      if (H) {
        for (let k = 0; k < n; k++) {
          vI[k] = f(f(dI * f(vI[k] - f(H.restMv))) + f(H.restMv));
          const inp = rI[k] > 0 ? 0 : II[k];
          rI[k] = f(rI[k] - dt);
          vI[k] = f(vI[k] + inp);
          if (vI[k] >= f(H.thresholdMv)) {
            sI[k] = 1;
            rI[k] = f(H.refractoryMs);
            vI[k] = f(H.resetMv);
            this.inhRaster.push(t, k);
          }
        }
      }

      // 5. STDP (this step's spikes and traces), then clamp all of W to [wMin, wMax].
      if (learning && rule) {
        for (const i of sX) for (let j = 0; j < n; j++) W[i * n + j] = f(W[i * n + j] - f(nuPre * xE[j]));
        for (let j = 0; j < n; j++) if (sE[j]) for (let i = 0; i < INPUTS; i++) W[i * n + j] = f(W[i * n + j] + f(nuPost * xX[i]));
        for (let e = 0; e < W.length; e++) W[e] = W[e] < wMin ? wMin : W[e] > wMax ? wMax : W[e];
      }
      sXprev = sX;
      sEprev = sE;
      sIprev = sI;
    }

    if (learning && spec.dense.norm !== null) {
      // w[:, j] *= fl32(fl32(1/fl32(Σ_i w[i, j]))·norm) (fp64 accumulation); every column on the
      // first sample / after a clamp event, else only the columns STDP touched (fired).
      let over = false;
      for (let j = 0; j < n; j++) {
        if (!this.normalizeAllNext && !fired[j]) continue;
        let sum = 0;
        for (let i = 0; i < INPUTS; i++) sum += W[i * n + j];
        let s = f(sum);
        if (s === 0) s = 1;
        const factor = f(f(1 / s) * spec.dense.norm);
        for (let i = 0; i < INPUTS; i++) {
          W[i * n + j] = f(W[i * n + j] * factor);
          // Out of [wMin, wMax]: the next training step's clamp changes it (BindsNET), after
          // which every column is renormalized (engine doc: "after a clamp").
          if (W[i * n + j] > spec.dense.wMax || W[i * n + j] < f(spec.dense.wMin)) over = true;
        }
      }
      this.normalizeAllNext = over;
      // A weight above wMax is clamped by the next learning step (BindsNET: at t = 0 of the next
      // training sample, where STDP itself is zero); the reference does it in its STDP clamp.
    }
    if (learning && E.adaptive) {
      // restMs: θ keeps decaying through the silent gap between samples.
      const restSteps = Math.round(spec.restMs / spec.dtMs);
      for (let j = 0; j < n; j++) for (let k = 0; k < restSteps; k++) th[j] = f(th[j] * dTheta);
    }
  }
}

function compareWithReference(spec: NetworkSpec, kernel: 'js' | 'wasm', schedule: [number, boolean][]): { spikes: number; inh: number } {
  const net = new DiehlCookNetwork(spec, kernel === 'wasm' ? mod : null);
  const s0 = net.getState();
  const ref = new ReferenceNet(spec, s0.weights, s0.theta, s0.prng);
  let spikes = 0;
  let inh = 0;
  for (const [k, learning] of schedule) {
    const rec = createRecording([]);
    net.runSample(trainImage(k), learning, rec);
    ref.runSample(trainImage(k), learning);
    expect(rec.excitatory, `exc raster, sample ${k}`).toEqual(ref.excRaster);
    expect(rec.inhibitory, `inh raster, sample ${k}`).toEqual(ref.inhRaster);
    expect(Array.from(net.counts)).toEqual(Array.from(ref.counts));
    sameBits(net.theta.slice(), ref.theta, `theta after sample ${k}`);
    sameBits(net.denseWeights(), ref.W, `weights after sample ${k}`);
    expect(Array.from(net.rng.getState())).toEqual(Array.from(ref.rng.getState()));
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

describe('DiehlCookNetwork vs a literal dense reference of the BindsNET step order', () => {
  for (const kernel of ['js', 'wasm'] as const) {
    it(`eth_mnist preset: spikes, θ and weights bit for bit over learning and test samples (${kernel} kernel)`, () => {
      const { spikes, inh } = compareWithReference(presetSpec(12, 3), kernel, SCHEDULE);
      expect(spikes).toBeGreaterThan(20);
      expect(inh).toBeGreaterThan(20);
    });
  }

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
    ['restMs > 0 and a short θ time constant', () =>
      variant((d) => {
        d.restMs = 40;
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
      const spec = make();
      const js = compareWithReference(spec, 'js', SCHEDULE);
      const wasm = compareWithReference(spec, 'wasm', SCHEDULE);
      expect(wasm).toEqual(js);
      expect(js.spikes).toBeGreaterThan(0);
    });
  }
});

describe('DiehlCookNetwork: one_spike and winner-take-all', () => {
  it('at most one excitatory spike per step; every crossing neuron is still reset, θ-bumped and refractory', () => {
    const n = 10;
    const net = new DiehlCookNetwork(presetSpec(n, 1), mod);
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
    const net = new DiehlCookNetwork({ ...presetSpec(n, 1), excitatory: { ...presetSpec(n, 1).excitatory, oneSpikePerStep: false } }, mod);
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
    const net = new DiehlCookNetwork(presetSpec(n, 2), mod);
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

describe('DiehlCookNetwork: delays (single input spike, latency code)', () => {
  it('input at t → excitatory spike at t+1 → inhibitory at t+2 → −120 on the others at t+3', () => {
    const n = 4;
    const base = presetSpec(n, 0);
    const net = new DiehlCookNetwork({ ...base, encoder: { type: 'latency', maxRateHz: 128 } }, mod);
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

describe('DiehlCookNetwork: learning, normalization and state', () => {
  it('learning off leaves weights and θ bit-identical (while the network does spike)', () => {
    const net = new DiehlCookNetwork(presetSpec(10, 4), mod);
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
    const net = new DiehlCookNetwork(presetSpec(n, 5), mod);
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
    const a = new DiehlCookNetwork(spec, mod);
    a.runSample(trainImage(0), true);
    a.runSample(trainImage(1), true);
    const mid = a.getState();
    // v is left wherever the last step put it…
    expect(Array.from(a.exc.v.subarray(0, n)).some((v) => v !== -65)).toBe(true);
    const rec = createRecording(Array.from({ length: n }, (_, j) => j));
    a.runSample(trainImage(2), true, rec);
    // …but the next sample starts from rest: step 0 has no input, so v(0) = rest exactly.
    for (let j = 0; j < n; j++) expect(rec.voltage[j]).toBe(-65);
    // And the outcome equals a fresh network given only W, θ and the PRNG: nothing else carries over.
    const b = new DiehlCookNetwork(spec, mod);
    b.setState(mid);
    const recB = createRecording([]);
    b.runSample(trainImage(2), true, recB);
    expect(recB.excitatory).toEqual(rec.excitatory);
    sameBits(b.denseWeights(), a.denseWeights(), 'weights');
    sameBits(b.theta.slice(), a.theta.slice(), 'theta');
  });

  it('normalization: after the first learning sample every column sums to 78.4; later only the touched ones change', () => {
    const n = 12;
    const net = new DiehlCookNetwork(presetSpec(n, 7), mod);
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
    const net = new DiehlCookNetwork(compileDefinition(d).spec, mod);
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
    const net = new DiehlCookNetwork(compileDefinition(d).spec, mod);
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
    const a = new DiehlCookNetwork(presetSpec(n, 8), mod);
    for (let k = 0; k < 3; k++) a.runSample(trainImage(k), true);
    const st = a.getState();
    // A network with a different seed, overwritten with the state.
    const b = new DiehlCookNetwork(presetSpec(n, 999), mod);
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
    const net = new DiehlCookNetwork(presetSpec(5, 0), null);
    const st = net.getState();
    expect(() => net.setState({ ...st, weights: new Float32Array(10) })).toThrow(/weights/);
    expect(() => net.setState({ ...st, theta: new Float32Array(4) })).toThrow(/theta/);
  });

  it('same spec and seed ⇒ identical runs; different seed ⇒ different weights', () => {
    const run = (seed: number) => {
      const net = new DiehlCookNetwork(presetSpec(10, seed), mod);
      for (let k = 0; k < 3; k++) net.runSample(trainImage(k), true);
      return net.denseWeights();
    };
    sameBits(run(11), run(11), 'same seed');
    const a = run(11);
    const b = run(12);
    expect(u32(a).some((x, i) => x !== u32(b)[i])).toBe(true);
  });
});

describe('DiehlCookNetwork: re-presentation at a raised input rate', () => {
  it('runSample(..., extraRateHz) encodes with maxRateHz + extraRateHz', () => {
    const spec = presetSpec(10, 12);
    const net = new DiehlCookNetwork(spec, mod);
    for (const extra of [0, 32, 64, 0]) {
      const rng = new Prng(0);
      rng.setState(net.rng.getState());
      const train = createSpikeTrain(INPUTS, T);
      createEncoder('bindsnet-poisson', T, 1, 128 + extra).encode(trainImage(3), rng, train);
      const want: number[] = [];
      for (let t = 0; t < T; t++) for (let r = 0; r < train.count[t]; r++) want.push(t, train.index[t * train.stride + r]);
      const rec = createRecording([]);
      net.runSample(trainImage(3), false, rec, extra);
      expect(rec.input).toEqual(want);
      expect(net.inputSpikes).toBe(train.total);
    }
  });

  it('a higher rate gives proportionally more input spikes (renewal law at 128 vs 256 Hz)', () => {
    const net = new DiehlCookNetwork(presetSpec(10, 13), mod);
    let base = 0;
    let raised = 0;
    for (let k = 0; k < 10; k++) {
      net.runSample(trainImage(k), false);
      base += net.inputSpikes;
      net.runSample(trainImage(k), false, null, 128);
      raised += net.inputSpikes;
    }
    // Bright pixels dominate: about twice the spikes (dim pixels gain relatively more).
    expect(raised / base).toBeGreaterThan(1.9);
    expect(raised / base).toBeLessThan(2.6);
  });
});

describe('DiehlCookNetwork: JS and WASM kernels', () => {
  it('give identical spikes, θ and weights after several learning samples on real MNIST images', () => {
    const n = 20; // padded to 32 lanes
    const spec = presetSpec(n, 9);
    const js = new DiehlCookNetwork(spec, null);
    const wasm = new DiehlCookNetwork(spec, mod);
    expect(js.kernel.kind).toBe('js');
    expect(wasm.kernel.kind).toBe('wasm');
    sameBits(js.denseWeights(), wasm.denseWeights(), 'initial weights');
    for (let k = 0; k < 15; k++) {
      const learning = k % 5 !== 4;
      const a = js.runSample(trainImage(100 + k), learning);
      const b = wasm.runSample(trainImage(100 + k), learning);
      expect(b).toBe(a);
      expect(Array.from(wasm.counts)).toEqual(Array.from(js.counts));
    }
    sameBits(js.denseWeights(), wasm.denseWeights(), 'weights');
    sameBits(js.theta.slice(), wasm.theta.slice(), 'theta');
    expect(Array.from(js.rng.getState())).toEqual(Array.from(wasm.rng.getState()));
  });
});
