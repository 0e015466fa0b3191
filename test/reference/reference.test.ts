/**
 * The reference simulator against analytic expectations (closed forms, STDP windows, textbook
 * algorithm outputs), independently of any engine.
 */
import { describe, expect, it } from 'vitest';
import { RefPrng } from './prng.js';
import { refDecay, ReferenceNetwork, type RefLayer, type RefParams, type RefRule } from './simulator.js';

const f = Math.fround;

function lif(over: Partial<RefLayer> = {}): RefLayer {
  return {
    model: 'lif',
    restMv: -65,
    resetMv: -65,
    thresholdMv: -52,
    refractoryMs: 5,
    tauMs: 100,
    traceTauMs: 20,
    thetaPlusMv: 0,
    tauThetaMs: 1e7,
    thetaInitMv: 0,
    oneSpikePerStep: false,
    synapse: { type: 'current' },
    ...over,
  };
}

function params(over: Partial<RefParams> & { inputs: number; neurons: number; steps: number; weights: Float32Array }): RefParams {
  return {
    dtMs: 1,
    restSteps: 0,
    resetBetweenSamples: true,
    inputTraceTauMs: 20,
    exc: lif(),
    inh: null,
    wEI: 0,
    wIE: 0,
    wMin: -100,
    wMax: 100,
    norm: null,
    delays: null,
    rule: null,
    prngState: [1, 2, 3, 4],
    ...over,
  };
}

/** Per-step input lists from a map step → inputs. */
function train(steps: number, spikes: Record<number, number[]>): number[][] {
  return Array.from({ length: steps }, (_, t) => spikes[t] ?? []);
}

function raster(pairs: number[]): [number, number][] {
  const out: [number, number][] = [];
  for (let q = 0; q < pairs.length; q += 2) out.push([pairs[q], pairs[q + 1]]);
  return out;
}

describe('reference PRNG: xoshiro128** + splitmix32', () => {
  it('xoshiro128** from the state {1, 2, 3, 4} gives the published first outputs', () => {
    // result = rotl(s1·5, 7)·9: s1 = 2 → rotl(10, 7)·9 = 11520; then s1 = 0 → 0; then s1 = 1029 → 5927040.
    const r = RefPrng.fromState([1, 2, 3, 4]);
    expect([r.nextU32(), r.nextU32(), r.nextU32()]).toEqual([11520, 0, 5927040]);
  });

  it('splitmix32 seeding: the first word is fmix32(seed + 0x9e3779b9)', () => {
    const fmix = (h: bigint) => {
      const M = 0xffffffffn;
      h ^= h >> 16n;
      h = (h * 0x85ebca6bn) & M;
      h ^= h >> 13n;
      h = (h * 0xc2b2ae35n) & M;
      return Number(h ^ (h >> 16n));
    };
    for (const seed of [0, 1, 42, 0xffffffff]) {
      const s = RefPrng.fromSeed(seed).state();
      const gamma = 0x9e3779b9n;
      expect(Array.from(s)).toEqual([1n, 2n, 3n, 4n].map((k) => fmix((BigInt(seed) + k * gamma) & 0xffffffffn)));
    }
  });

  it('below(n) is floor(u·n / 2^32) of the next word unless rejected, and uniform', () => {
    const a = RefPrng.fromSeed(9);
    const b = RefPrng.fromSeed(9);
    for (const n of [1, 2, 3, 7, 50, 1000]) {
      const u = a.nextU32();
      expect(b.below(n)).toBe(Math.floor((u * n) / 2 ** 32)); // rejection has probability < n/2^32
    }
    const r = RefPrng.fromSeed(3);
    const counts = new Array(5).fill(0);
    for (let q = 0; q < 50000; q++) counts[r.below(5)]++;
    for (const c of counts) expect(Math.abs(c - 10000)).toBeLessThan(400);
    const u = RefPrng.fromSeed(4);
    for (let q = 0; q < 1000; q++) {
      const x = u.nextFloat24();
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
      expect(x * 2 ** 24).toBe(Math.floor(x * 2 ** 24));
    }
  });
});

describe('reference neurons', () => {
  it('current LIF under a constant input: v(t) = rest + w·(1 − dᵗ)/(1 − d), dt 1 and 0.5', () => {
    for (const dt of [1, 0.5]) {
      const T = 200;
      const w = 0.05;
      const net = new ReferenceNetwork(params({ inputs: 1, neurons: 1, steps: T, dtMs: dt, weights: Float32Array.of(w), exc: lif({ thresholdMv: 1000 }) }));
      const r = net.runSample(train(T, Object.fromEntries(Array.from({ length: T }, (_, t) => [t, [0]]))), false, [0]);
      const d = Math.exp(-dt / 100);
      for (let t = 0; t < T; t++) {
        const want = -65 + (w * (1 - d ** t)) / (1 - d); // the spike of step t−1 arrives at t
        expect(Math.abs(r.voltage[t] - want), `dt ${dt}, t ${t}`).toBeLessThan(2e-4);
      }
    }
  });

  it('a spiking current LIF is reset and ignores input for tRef: interspike interval tRef/dt + 1', () => {
    const T = 30;
    const net = new ReferenceNetwork(params({ inputs: 1, neurons: 1, steps: T, weights: Float32Array.of(30), exc: lif({ resetMv: -70 }) }));
    const r = net.runSample(train(T, Object.fromEntries(Array.from({ length: T }, (_, t) => [t, [0]]))), false, [0]);
    expect(raster(r.exc).map(([t]) => t)).toEqual([1, 7, 13, 19, 25]);
    // Refractory steps: pure decay from reset toward rest.
    expect(r.voltage[1]).toBe(f(-70));
    expect(r.voltage[2]).toBe(f(f(refDecay(1, 100) * f(-70 + 65)) - 65));
  });

  it('adaptive-lif: θ jumps by θ+ at each spike and decays with τθ while learning; frozen when not', () => {
    const T = 50;
    const exc = lif({ model: 'adaptive-lif', thetaPlusMv: 2, tauThetaMs: 40, refractoryMs: 0 });
    const every = Object.fromEntries(Array.from({ length: T }, (_, t) => [t, [0]]));
    const net = new ReferenceNetwork(params({ inputs: 1, neurons: 1, steps: T, weights: Float32Array.of(30), exc }));
    const r = net.runSample(train(T, every), true);
    const spikes = raster(r.exc).map(([t]) => t);
    expect(spikes.length).toBeGreaterThan(3);
    const want = spikes.reduce((s, t) => s + 2 * Math.exp(-(T - 1 - t) / 40), 0);
    expect(Math.abs(r.theta[0] - want)).toBeLessThan(1e-4);
    const frozen = net.runSample(train(T, {}), false);
    expect(frozen.theta[0]).toBe(r.theta[0]);
  });

  it('conductance LIF relaxes from reset toward rest as (reset − rest)(1 − k)ⁿ, and never passes Ee', () => {
    const T = 60;
    const syn = { type: 'conductance' as const, excTauMs: 1e-3, inhTauMs: 2, excReversalMv: 0, inhReversalMv: -100 };
    const exc = lif({ resetMv: -60, refractoryMs: 3, synapse: syn });
    const net = new ReferenceNetwork(params({ inputs: 1, neurons: 1, steps: T, weights: Float32Array.of(30), exc }));
    const r = net.runSample(train(T, { 0: [0] }), false, [0]);
    expect(raster(r.exc)).toEqual([[1, 0]]);
    const k = 1 / 100;
    for (let t = 1; t <= 4; t++) expect(r.voltage[t]).toBe(-60); // clamped at reset while refractory
    for (let t = 5; t < T; t++) expect(Math.abs(r.voltage[t] - (-65 + 5 * (1 - k) ** (t - 4)))).toBeLessThan(1e-4);
  });

  it('conductance LIF under constant excitation converges to (rest + g·Ee)/(1 + g), g = w/(1 − dₑ)', () => {
    const T = 3000;
    const syn = { type: 'conductance' as const, excTauMs: 5, inhTauMs: 10, excReversalMv: 0, inhReversalMv: -100 };
    const exc = lif({ thresholdMv: 50, synapse: syn, tauMs: 20 });
    const w = 0.3;
    const net = new ReferenceNetwork(params({ inputs: 1, neurons: 1, steps: T, dtMs: 0.5, weights: Float32Array.of(w), exc }));
    const r = net.runSample(train(T, Object.fromEntries(Array.from({ length: T }, (_, t) => [t, [0]]))), false, [0]);
    const g = w / (1 - Math.exp(-0.5 / 5));
    const vStar = (-65 + g * 0) / (1 + g);
    for (const v of r.voltage) expect(v).toBeLessThanOrEqual(0);
    expect(Math.abs(r.voltage[T - 1] - vStar)).toBeLessThan(1e-3);
  });

  it('conductance inhibition from H pulls the other E neurons below rest but not below Ei', () => {
    const T = 40;
    const syn = { type: 'conductance' as const, excTauMs: 1, inhTauMs: 10, excReversalMv: 0, inhReversalMv: -80 };
    const exc = lif({ synapse: syn });
    const inh = lif({ restMv: -60, resetMv: -45, thresholdMv: -40, refractoryMs: 2, tauMs: 10, synapse: syn });
    // Input 0 drives E0 only; H0 answers and inhibits E1 (all-but-self) with a strong conductance.
    const net = new ReferenceNetwork(params({ inputs: 1, neurons: 2, steps: T, weights: Float32Array.of(60, 0), exc, inh, wEI: 50, wIE: 30 }));
    const r = net.runSample(train(T, { 0: [0] }), false, [0, 1]);
    expect(raster(r.exc)).toEqual([[1, 0]]);
    expect(raster(r.inh)[0]).toEqual([2, 0]); // E0's spike of step 1 reaches H0 at step 2
    const v1 = r.voltage.filter((_, q) => q % 2 === 1);
    expect(v1[2]).toBe(-65); // H0's spike of step 2 reaches E1 at step 3
    expect(v1[3]).toBeLessThan(-65);
    expect(Math.min(...v1)).toBeGreaterThanOrEqual(-80);
    // Self-inhibition is excluded: E0 (refractory, at reset) is not driven below reset.
    expect(r.voltage[2 * 3]).toBe(-65);
  });

  it('one spike per step: of the neurons crossing together, crossed[below(k)] spikes; all are reset and θ-bumped', () => {
    const T = 4;
    const exc = lif({ model: 'adaptive-lif', thetaPlusMv: 0.5, tauThetaMs: Infinity, oneSpikePerStep: true, resetMv: -61 });
    const W = Float32Array.of(30, 0, 30, 30, 0); // neurons 0, 2, 3 cross at step 1
    const state = [0x12345678, 0x9abcdef0, 0x0fedcba9, 0x87654321];
    const net = new ReferenceNetwork(params({ inputs: 1, neurons: 5, steps: T, weights: W, exc, prngState: state }));
    const r = net.runSample(train(T, { 0: [0] }), true, [0, 1, 2, 3, 4]);
    const winner = [0, 2, 3][RefPrng.fromState(state).below(3)];
    expect(raster(r.exc)).toEqual([[1, winner]]);
    expect(Array.from(r.theta)).toEqual([0.5, 0, 0.5, 0.5, 0].map(f));
    expect(r.voltage.slice(5, 10)).toEqual([-61, -65, -61, -61, -65]);
    const after = RefPrng.fromState(state);
    after.below(3);
    expect(Array.from(r.prng)).toEqual(Array.from(after.state()));
  });
});

describe('reference delays and sample boundaries', () => {
  it('a spike of input i at step s reaches E neuron j exactly at s + 1 + D_ij', () => {
    const T = 20;
    const D = [0, 1, 3, 7, 12];
    const net = new ReferenceNetwork(params({ inputs: 1, neurons: 5, steps: T, weights: new Float32Array(5).fill(30), delays: D }));
    const r = net.runSample(train(T, { 2: [0] }), false);
    expect(raster(r.exc)).toEqual(D.map((d, j) => [2 + 1 + d, j]).sort((a, b) => a[0] - b[0]));
  });

  it('a delayed spike carries the weight of its emission step, not the weight at arrival', () => {
    const T = 8;
    // Input 0 (delay 3) is the probe; input 1 (no delay) makes the neuron spike at step 1, which
    // potentiates the probe's weight before the probe's spike arrives at step 4.
    const exc = lif({ refractoryMs: 0 });
    const w0 = 0.5;
    const rule: RefRule = { rule: 'post-pre', nuPre: 0, nuPost: 0.25 };
    const net = new ReferenceNetwork(params({ inputs: 2, neurons: 1, steps: T, weights: Float32Array.of(w0, 30), exc, delays: [3, 0], rule }));
    const r = net.runSample(train(T, { 0: [0, 1] }), true, [0]);
    expect(raster(r.exc)).toEqual([[1, 0]]);
    expect(r.weights[0]).toBe(f(w0 + f(refDecay(1, 20) * 0.25)));
    expect(r.voltage[3]).toBe(-65);
    expect(r.voltage[4]).toBe(f(f(f(refDecay(1, 100) * 0) - 65) + w0));
  });

  it('without reset, a spike still in a delay line arrives in the next sample (after the rest steps); with reset it is dropped', () => {
    const T = 5;
    for (const [reset, R, want] of [
      [false, 0, [[2, 0]]],
      [false, 1, [[1, 0]]],
      [false, 3, []], // arrives in the rest (step T + 2 of the first sample)
      [true, 0, []],
    ] as const) {
      const net = new ReferenceNetwork(params({ inputs: 1, neurons: 1, steps: T, restSteps: R, resetBetweenSamples: reset, weights: Float32Array.of(30), delays: [2] }));
      const first = net.runSample(train(T, { 4: [0] }), false);
      const second = net.runSample(train(T, {}), false);
      expect(raster(second.exc), `reset ${reset}, R ${R}`).toEqual(want);
      if (!reset && R === 3) expect(raster(first.exc)).toEqual([[T + 2, 0]]); // 4 + 1 + 2 = T + 2
    }
  });

  it('without reset the membrane carries over; with reset it starts at rest; θ decays R times between learning samples', () => {
    const exc = lif({ model: 'adaptive-lif', thetaPlusMv: 1, tauThetaMs: 10, thresholdMv: -52 });
    const mk = (reset: boolean) => new ReferenceNetwork(params({ inputs: 1, neurons: 1, steps: 3, restSteps: 4, resetBetweenSamples: reset, weights: Float32Array.of(5), exc }));
    const keep = mk(false);
    keep.runSample(train(3, { 1: [0] }), false, [0]);
    const second = keep.runSample(train(3, {}), false, [0]);
    expect(second.voltage[0]).toBeGreaterThan(-65);
    const fresh = mk(true);
    fresh.runSample(train(3, { 1: [0] }), false, [0]);
    expect(fresh.runSample(train(3, {}), false, [0]).voltage[0]).toBe(-65);
    // θ: one spike at step 1 (weight 20), then 1 sample step and R = 4 rest decays.
    const th = new ReferenceNetwork(params({ inputs: 1, neurons: 1, steps: 3, restSteps: 4, weights: Float32Array.of(20), exc }));
    const r = th.runSample(train(3, { 0: [0] }), true);
    expect(raster(r.exc)).toEqual([[1, 0]]);
    const d = refDecay(1, 10);
    let want = f(1);
    for (let k = 0; k < 1 + 4; k++) want = f(want * d);
    expect(r.theta[0]).toBe(want);
  });
});

/**
 * Harness for one isolated pre/post pair on synapse (probe → E0): a strong "driver" input (index 1)
 * makes E0 spike at chosen steps; the probe (index 0) spikes at chosen steps with a sub-threshold weight.
 */
function pair(rule: RefRule, preSteps: number[], postSteps: number[], dt = 1, w0 = 0.5, wMin = -10, wMax = 10): number {
  const T = 80;
  const DRIVERS = 10;
  const spikes: Record<number, number[]> = {};
  for (const s of preSteps) (spikes[s] ??= []).push(0);
  for (const s of postSteps) (spikes[s - 1] ??= []).push(...Array.from({ length: DRIVERS }, (_, k) => 1 + k));
  // Ten drivers of weight 1 together cross a threshold 5 mV above rest; the probe alone cannot.
  // Refractory dt: the neuron can spike every other step at most.
  const exc = lif({ thresholdMv: -60, refractoryMs: dt });
  const W = new Float32Array(1 + DRIVERS).fill(1);
  W[0] = w0;
  const net = new ReferenceNetwork(params({ inputs: 1 + DRIVERS, neurons: 1, steps: T, dtMs: dt, weights: W, exc, rule, wMin, wMax }));
  const r = net.runSample(train(T, spikes), true);
  expect(raster(r.exc).map(([t]) => t)).toEqual(postSteps);
  return r.weights[0] - w0;
}

describe('reference learning rules: the window of one isolated pair', () => {
  const close = (a: number, b: number, what: string) => expect(Math.abs(a - b), `${what}: ${a} vs ${b}`).toBeLessThanOrEqual(2e-6 * Math.max(1, Math.abs(b)));

  it('stdp: Δw = A+·e^(−Δt/τ+) for Δt > 0 and −A−·e^(Δt/τ−) for Δt < 0, dt 1 and 0.5', () => {
    for (const dt of [1, 0.5]) {
      for (const pairing of ['nearest', 'all-to-all'] as const) {
        const rule: RefRule = { rule: 'stdp', aPlus: 0.01, aMinus: 0.012, tauPlusMs: 17, tauMinusMs: 34, pairing };
        for (const k of [1, 2, 5, 10, 25]) {
          const dtMs = k * dt;
          close(pair(rule, [40 - k], [40], dt), 0.01 * Math.exp(-dtMs / 17), `pre ${k} steps before post (dt ${dt}, ${pairing})`);
          close(pair(rule, [40 + k], [40], dt), -0.012 * Math.exp(-dtMs / 34), `post ${k} steps before pre (dt ${dt}, ${pairing})`);
        }
        // Simultaneous: depression by A− (y = 1) then potentiation by A+ (x = 1).
        close(pair(rule, [40], [40], dt), 0.01 - 0.012, `Δt = 0 (${pairing})`);
      }
    }
  });

  it('stdp pairing: nearest keeps the latest pre spike, all-to-all sums every earlier one', () => {
    const base = { rule: 'stdp' as const, aPlus: 0.01, aMinus: 0.012, tauPlusMs: 17, tauMinusMs: 34 };
    close(pair({ ...base, pairing: 'nearest' }, [30, 36], [40]), 0.01 * Math.exp(-4 / 17), 'nearest, pre-pre-post');
    close(pair({ ...base, pairing: 'all-to-all' }, [30, 36], [40]), 0.01 * (Math.exp(-4 / 17) + Math.exp(-10 / 17)), 'all-to-all, pre-pre-post');
    close(pair({ ...base, pairing: 'nearest' }, [50], [40, 44]), -0.012 * Math.exp(-6 / 34), 'nearest, post-post-pre');
    close(pair({ ...base, pairing: 'all-to-all' }, [50], [40, 44]), -0.012 * (Math.exp(-6 / 34) + Math.exp(-10 / 34)), 'all-to-all, post-post-pre');
  });

  it('post-pre: +nuPost·e^(−Δt/τx) for Δt > 0, −nuPre·e^(Δt/τy) for Δt < 0 (input and E trace τ)', () => {
    const rule: RefRule = { rule: 'post-pre', nuPre: 1e-3, nuPost: 0.02 };
    for (const k of [1, 3, 8, 20]) {
      close(pair(rule, [40 - k], [40]), 0.02 * Math.exp(-k / 20), `pre-post ${k}`);
      close(pair(rule, [40 + k], [40]), -1e-3 * Math.exp(-k / 20), `post-pre ${k}`);
    }
  });

  it('weight-dependent post-pre: potentiation scales with (wMax − w), depression with (w − wMin)', () => {
    const rule: RefRule = { rule: 'weight-dependent-post-pre', nuPre: 0.01, nuPost: 0.05 };
    for (const w0 of [0.1, 0.5, 0.9]) {
      close(pair(rule, [35], [40], 1, w0, 0, 1), 0.05 * Math.exp(-5 / 20) * (1 - w0), `pre-post, w ${w0}`);
      close(pair(rule, [45], [40], 1, w0, 0, 1), -0.01 * Math.exp(-5 / 20) * w0, `post-pre, w ${w0}`);
    }
  });

  it('diehl-cook: potentiation multiplies by y2 after its decay and before the spike resets it', () => {
    const rule: RefRule = { rule: 'diehl-cook', nuPre: 1e-3, nuPost: 0.05, tauPreMs: 20, tauPost1Ms: 20, tauPost2Ms: 40 };
    // First post spike ever: y2 was 0, so no potentiation at all.
    close(pair(rule, [35], [40]), 0, 'first post spike');
    // Post at 30, pre at 36, post at 40: depression at 36 by nuPre·y1, potentiation at 40 by nuPost·x·y2(before).
    const want = -1e-3 * Math.exp(-6 / 20) + 0.05 * Math.exp(-4 / 20) * Math.exp(-10 / 40);
    close(pair(rule, [36], [30, 40]), want, 'post-pre-post');
  });

  it('power-law: Δw = nu·(x − xTarget)·(wMax − w)^mu at every post spike, negative without a pre spike', () => {
    const rule: RefRule = { rule: 'power-law', nu: 0.05, xTarget: 0.4, mu: 0.5, tauPreMs: 20 };
    const w0 = 0.36;
    close(pair(rule, [], [40], 1, w0, 0, 1), 0.05 * (0 - 0.4) * Math.sqrt(1 - w0), 'no pre spike');
    close(pair(rule, [35], [40], 1, w0, 0, 1), 0.05 * (Math.exp(-5 / 20) - 0.4) * Math.sqrt(1 - w0), 'one pre spike');
    // All-to-all pre trace: two pre spikes add.
    close(pair(rule, [30, 35], [40], 1, w0, 0, 1), 0.05 * (Math.exp(-5 / 20) + Math.exp(-10 / 20) - 0.4) * Math.sqrt(1 - w0), 'two pre spikes');
  });

  it('clamps to [wMin, wMax] after every learning step', () => {
    const rule: RefRule = { rule: 'post-pre', nuPre: 0.5, nuPost: 0.5 };
    expect(pair(rule, [39], [40], 1, 0.9, 0, 1)).toBeCloseTo(0.1, 6);
    expect(pair(rule, [41], [40], 1, 0.2, 0, 1)).toBeCloseTo(-0.2, 6);
  });
});

describe('reference normalisation', () => {
  it('scales every column at the first learning sample, then only the columns of neurons that spiked or were depressed', () => {
    const I = 30;
    const N = 4;
    const T = 30;
    const rng = RefPrng.fromSeed(5);
    const W = new Float32Array(I * N).map(() => f(0.2 * rng.nextFloat24()));
    W[0 * N + 1] = 30; // input 0 drives neuron 1 only
    const rule: RefRule = { rule: 'post-pre', nuPre: 1e-3, nuPost: 0.01 };
    const net = new ReferenceNetwork(params({ inputs: I, neurons: N, steps: T, weights: W, rule, wMin: 0, wMax: 40, norm: 40 }));
    const spikes: Record<number, number[]> = { 3: [4, 5, 6], 5: [0], 8: [7] };
    const sum = (w: Float32Array, j: number) => {
      let s = 0;
      for (let i = 0; i < I; i++) s += w[i * N + j];
      return s;
    };
    const first = net.runSample(train(T, spikes), true);
    expect(raster(first.exc)).toEqual([[6, 1]]);
    for (let j = 0; j < N; j++) expect(Math.abs(sum(first.weights, j) - 40)).toBeLessThan(1e-4);
    // Second learning sample: neuron 1 spikes again; the other columns keep their bits.
    const second = net.runSample(train(T, spikes), true);
    expect(raster(second.exc)).toEqual([[6, 1]]);
    expect(Math.abs(sum(second.weights, 1) - 40)).toBeLessThan(1e-4);
    for (const j of [0, 2, 3]) for (let i = 0; i < I; i++) expect(second.weights[i * N + j]).toBe(second.weightsBeforeNorm[i * N + j]);
    // Learning off: no normalisation.
    const frozen = net.runSample(train(T, spikes), false);
    expect(Array.from(frozen.weights)).toEqual(Array.from(second.weights));
  });
});
