/**
 * The reference (test/reference/simulator.ts, written from docs/models.md) against today's engine
 * (`DiehlCookNetwork`) on the options today's engine has: current synapses, lif and adaptive-lif,
 * post-pre, one-spike on/off, inhibitory layer on/off, learning on/off, normalisation on/off.
 *
 * The engine runs the deterministic `latency` encoder (no PRNG draws), its recording gives the
 * input spikes step by step in the encoder's order, and the reference is fed exactly those. The
 * reference starts from the engine's initial weights and PRNG state.
 *
 * Demanded: identical E and H rasters, θ bits, PRNG state, recorded voltage bits; weight bits
 * with normalisation off. With normalisation on, today's engine and docs/models.md differ in the
 * normalisation arithmetic (see the README in this folder): there the weights must agree within
 * a few ulp and the rasters exactly.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadExcKernelModule } from '../../src/engine/exc-kernel.js';
import { createRecording, DiehlCookNetwork, type NetworkSpec } from '../../src/engine/network.js';
import { loadMnist, type MnistData } from '../../src/io/mnist.js';
import { expectSameBits, maxUlp, pairsToSteps, sortedPairs } from './helpers.js';
import { ReferenceNetwork, type RefParams } from './simulator.js';

const INPUTS = 784;

let mod: WebAssembly.Module;
let mnist: MnistData;
beforeAll(async () => {
  mod = await loadExcKernelModule();
  mnist = loadMnist();
});

function image(k: number): Uint8Array {
  return mnist.train.images.subarray(k * INPUTS, (k + 1) * INPUTS);
}

interface Variant {
  neurons: number;
  dtMs?: number;
  timeMs?: number;
  restMs?: number;
  adaptive?: boolean;
  oneSpike?: boolean;
  inhibitory?: boolean;
  wIE?: number;
  wEI?: number;
  plasticity?: boolean;
  norm?: number | null;
  thetaPlusMv?: number;
  tauThetaMs?: number;
  init?: { low: number; high: number };
  nu?: { nuPre: number; nuPost: number };
  seed?: number;
}

function specOf(v: Variant): NetworkSpec {
  const dt = v.dtMs ?? 1;
  const adaptive = v.adaptive ?? true;
  return {
    inputs: INPUTS,
    neurons: v.neurons,
    steps: Math.round((v.timeMs ?? 60) / dt),
    dtMs: dt,
    restMs: v.restMs ?? 0,
    seed: v.seed ?? 7,
    encoder: { type: 'latency', maxRateHz: 128 },
    inputTraceTauMs: 20,
    excitatory: {
      restMv: -65,
      resetMv: -60,
      thresholdMv: -52,
      refractoryMs: 5,
      tauMs: 100,
      traceTauMs: 20,
      adaptive,
      thetaPlusMv: adaptive ? (v.thetaPlusMv ?? 0.05) : 0,
      tauThetaMs: adaptive ? (v.tauThetaMs ?? 1e7) : 1e7,
      oneSpikePerStep: v.oneSpike ?? adaptive,
    },
    inhibitory:
      v.inhibitory === false
        ? null
        : { restMv: -60, resetMv: -45, thresholdMv: -40, refractoryMs: 2, tauMs: 10, excToInh: v.wEI ?? 22.5, inhToExc: v.wIE ?? -120 },
    dense: {
      init: { dist: 'uniform', low: v.init?.low ?? 0, high: v.init?.high ?? 0.3 },
      wMin: 0,
      wMax: 1,
      plasticity: v.plasticity === false ? null : (v.nu ?? { nuPre: 1e-4, nuPost: 1e-2 }),
      norm: v.norm === undefined ? 78.4 : v.norm,
    },
  };
}

/** The reference's parameter record for an engine spec (what docs/models.md calls the same network). */
function refParamsOf(spec: NetworkSpec, weights: Float32Array, prng: Uint32Array): RefParams {
  const e = spec.excitatory;
  const h = spec.inhibitory;
  return {
    inputs: spec.inputs,
    neurons: spec.neurons,
    dtMs: spec.dtMs,
    steps: spec.steps,
    restSteps: Math.round(spec.restMs / spec.dtMs),
    resetBetweenSamples: true,
    inputTraceTauMs: spec.inputTraceTauMs,
    exc: {
      model: e.adaptive ? 'adaptive-lif' : 'lif',
      restMv: e.restMv,
      resetMv: e.resetMv,
      thresholdMv: e.thresholdMv,
      refractoryMs: e.refractoryMs,
      tauMs: e.tauMs,
      traceTauMs: e.traceTauMs,
      thetaPlusMv: e.thetaPlusMv,
      tauThetaMs: e.tauThetaMs,
      thetaInitMv: 0,
      oneSpikePerStep: e.oneSpikePerStep,
      synapse: { type: 'current' },
    },
    inh: h
      ? {
          model: 'lif',
          restMv: h.restMv,
          resetMv: h.resetMv,
          thresholdMv: h.thresholdMv,
          refractoryMs: h.refractoryMs,
          tauMs: h.tauMs,
          traceTauMs: 20,
          thetaPlusMv: 0,
          tauThetaMs: 1e7,
          thetaInitMv: 0,
          oneSpikePerStep: false,
          synapse: { type: 'current' },
        }
      : null,
    wEI: h?.excToInh ?? 0,
    wIE: h?.inhToExc ?? 0,
    weights,
    wMin: spec.dense.wMin,
    wMax: spec.dense.wMax,
    norm: spec.dense.norm,
    delays: null,
    rule: spec.dense.plasticity ? { rule: 'post-pre', ...spec.dense.plasticity } : null,
    prngState: prng,
  };
}

interface Outcome {
  excSpikes: number;
  inhSpikes: number;
  maxWeightUlp: number;
  maxVoltageUlp: number;
  /** PRNG draws happened (one-spike selections among several crossers). */
  drew: boolean;
}

/**
 * Runs `schedule` (image index, learning) through the engine (recording path, and the production
 * kernel path without recording, which must agree) and through the reference.
 */
function compare(v: Variant, schedule: [number, boolean][], weightBits: boolean): Outcome {
  const resync = !weightBits;
  const spec = specOf(v);
  const net = new DiehlCookNetwork(spec, mod);
  const fast = new DiehlCookNetwork(spec, mod);
  // docs/models.md normalises only the columns that changed; today's engine normalises every column
  // after its first learning sample unless told the weights are already normalised.
  const s0 = net.getState();
  net.setState({ ...s0, normalizeAll: false });
  fast.setState({ ...s0, normalizeAll: false });
  let ref = new ReferenceNetwork(refParamsOf(spec, s0.weights, s0.prng));
  const voltageNeurons = [0, 1, spec.neurons - 1];
  const out: Outcome = { excSpikes: 0, inhSpikes: 0, maxWeightUlp: 0, maxVoltageUlp: 0, drew: false };
  for (const [k, learning] of schedule) {
    if (resync) {
      // Start every sample from the engine's state, so that the normalisation difference of one
      // sample does not carry into the next: each sample is then checked on its own.
      const st = net.getState();
      ref = new ReferenceNetwork(refParamsOf(spec, st.weights, st.prng));
      ref.theta.set(st.theta);
    }
    const rec = createRecording(voltageNeurons);
    net.runSample(image(k), learning, rec);
    fast.runSample(image(k), learning);
    const r = ref.runSample(pairsToSteps(rec.input, spec.steps), learning, voltageNeurons);
    const what = `sample ${k} (learning ${learning})`;
    expect(sortedPairs(rec.excitatory), `${what}: E raster`).toEqual(r.exc);
    expect(sortedPairs(rec.inhibitory), `${what}: H raster`).toEqual(r.inh);
    if (weightBits) expectSameBits(Float32Array.from(rec.voltage), Float32Array.from(r.voltage), `${what}: E voltages`);
    else out.maxVoltageUlp = Math.max(out.maxVoltageUlp, maxUlp(Float32Array.from(rec.voltage), Float32Array.from(r.voltage)));
    expectSameBits(net.theta.slice(), r.theta, `${what}: θ`);
    expect(Array.from(net.rng.getState()), `${what}: PRNG state`).toEqual(Array.from(r.prng));
    const w = net.denseWeights();
    if (weightBits) expectSameBits(w, r.weights, `${what}: weights`);
    else {
      // Everything up to the normalisation is bit-identical, and today's engine's normalisation
      // is exactly: sum in double, s = f(sum), factor = f(f(1/s)·norm) with norm unrounded.
      const n = spec.neurons;
      const mine = Float32Array.from(r.weightsBeforeNorm);
      if (learning && spec.dense.norm !== null)
        for (let j = 0; j < n; j++) {
          let changed = false;
          for (let i = 0; i < INPUTS; i++) if (mine[i * n + j] !== r.weightsAtStart[i * n + j]) changed = true;
          if (!changed) continue;
          let sum = 0;
          for (let i = 0; i < INPUTS; i++) sum += mine[i * n + j];
          const sf = Math.fround(sum) || 1;
          const factor = Math.fround(Math.fround(1 / sf) * spec.dense.norm);
          for (let i = 0; i < INPUTS; i++) mine[i * n + j] = Math.fround(mine[i * n + j] * factor);
        }
      expectSameBits(w, mine, `${what}: weights, with today's normalisation arithmetic applied to the reference's pre-normalisation weights`);
    }
    out.maxWeightUlp = Math.max(out.maxWeightUlp, maxUlp(w, r.weights));
    // The production path (whole sample in the WASM kernel, no recording) is the same network.
    expectSameBits(fast.denseWeights(), w, `${what}: kernel path weights`);
    expectSameBits(fast.theta.slice(), net.theta.slice(), `${what}: kernel path θ`);
    if (Array.from(r.prng).join() !== Array.from(s0.prng).join()) out.drew = true;
    out.excSpikes += r.exc.length / 2;
    out.inhSpikes += r.inh.length / 2;
  }
  return out;
}

const LEARN: [number, boolean][] = [
  [0, true],
  [1, true],
  [2, true],
  [3, false],
  [4, true],
];

describe('reference vs today\'s engine (DiehlCookNetwork, latency input)', () => {
  const active = { wIE: -4, init: { low: 0.05, high: 0.3 } };
  const cases: [string, Variant][] = [
    ['adaptive-lif, one-spike, inhibition, post-pre, no norm', { neurons: 24, ...active, norm: null }],
    ['adaptive-lif, one-spike, eth_mnist inhibition (−120), no norm', { neurons: 30, norm: null }],
    ['adaptive-lif, one-spike off, inhibition, strong θ, rest 30 ms, no norm', { neurons: 20, ...active, oneSpike: false, thetaPlusMv: 2, tauThetaMs: 80, restMs: 30, norm: null }],
    ['lif, no inhibitory layer, all spikes propagate, no norm', { neurons: 20, adaptive: false, inhibitory: false, init: { low: 0, high: 0.25 }, norm: null }],
    ['lif, one-spike on, inhibition, strong rates, no norm', { neurons: 22, adaptive: false, oneSpike: true, ...active, nu: { nuPre: 0.004, nuPost: 0.05 }, norm: null }],
    ['learning off everywhere (no plasticity)', { neurons: 25, ...active, plasticity: false, norm: null }],
    ['dt = 0.5 ms, adaptive-lif, inhibition, no norm', { neurons: 20, ...active, dtMs: 0.5, timeMs: 40, norm: null }],
  ];
  for (const [name, v] of cases) {
    it(`${name}: identical spikes, voltages, θ and weight bits`, () => {
      const o = compare(v, LEARN, true);
      expect(o.excSpikes).toBeGreaterThan(0);
      // With one-spike on, some steps had several crossers: the PRNG selection was exercised.
      expect(o.drew).toBe(v.oneSpike ?? v.adaptive ?? true);
      if (v.inhibitory !== false) expect(o.inhSpikes).toBeGreaterThan(0);
    });
  }

  const normCases: [string, Variant][] = [
    ['adaptive-lif, one-spike, inhibition, norm 78.4', { neurons: 24, ...active }],

    ['lif, no inhibitory layer, norm 20', { neurons: 20, adaptive: false, inhibitory: false, init: { low: 0, high: 0.25 }, norm: 20 }],
  ];
  for (const [name, v] of normCases) {
    it(`${name}: identical spikes and θ; weights identical up to the normalisation arithmetic (see README), within 64 ulp of the documented one`, () => {
      const o = compare(v, LEARN, false);
      expect(o.excSpikes).toBeGreaterThan(0);
      // A float32 sum of 784 terms (docs/models.md) vs a double sum rounded once (today's engine).
      expect(o.maxWeightUlp).toBeLessThanOrEqual(64);
    });
  }
});
