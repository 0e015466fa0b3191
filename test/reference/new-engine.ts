/**
 * Comparison of the reference with the engine (`createNetwork`), shared by engine-new.test.ts
 * (hand-picked cases) and property.test.ts (fast-check).
 *
 * A comparison case is described once (`RefCase`) and turned into (a) an experiment definition, fed
 * through the public path `compileDefinition(experimentDefinitionSchema.parse(def)).spec` →
 * `createNetwork(spec)`, and (b) the reference's own parameter record — independently, field by
 * field, from docs/models.md.
 *
 * The engine API used (adjust here only):
 *   const net = await createNetwork(spec)
 *   net.setDenseWeights(w)            row-major [I, N]
 *   net.denseWeights(), net.theta, net.rngState() (4 uint32 words), net.delays() (row-major D_ij or null)
 *   net.runSample(input, learning, rec?)   input: { steps, count: Int32Array, index: Uint16Array }
 *   createRecording(voltageNeurons)        input/excitatory/inhibitory as (step, neuron) pairs
 */
import { expect } from 'vitest';
import { createNetwork as engineCreateNetwork, createRecording as engineCreateRecording } from '../../src/engine/network.js';
import { experimentDefinitionSchema } from '../../src/experiment/schema.js';
import { compileDefinition } from '../../src/experiment/topology.js';
import { expectSameBits, sortedPairs } from './helpers.js';
import { RefPrng } from './prng.js';
import { ReferenceNetwork, type RefLayer, type RefParams, type RefRule, type RefSynapse } from './simulator.js';

export const INPUTS = 784;

export interface SpikeTrainInput {
  steps: number;
  count: Int32Array;
  index: Uint16Array;
}

export interface NewRecording {
  input: number[];
  excitatory: number[];
  inhibitory: number[];
  voltage: number[];
}

export interface NewNetwork {
  setDenseWeights(w: Float32Array): void;
  denseWeights(): Float32Array;
  delays(): Uint8Array | null;
  readonly theta: Float32Array;
  rngState(): Uint32Array;
  runSample(input: Uint8Array | SpikeTrainInput, learning: boolean, rec?: NewRecording): number;
}

type CreateNetwork = (spec: unknown) => Promise<NewNetwork> | NewNetwork;
type CreateRecording = (voltageNeurons: number[]) => NewRecording;

export const createNetwork = engineCreateNetwork as unknown as CreateNetwork;
export const createRecording = engineCreateRecording as unknown as CreateRecording;

export type ModelName = 'lif' | 'adaptive-lif';
export type SynapseName = 'current' | 'conductance';
export type RuleName = RefRule['rule'];

/** One comparison, in the vocabulary of docs/models.md. */
export interface RefCase {
  seed: number;
  neurons: number;
  dtMs: number;
  timePerSampleMs: number;
  restBetweenSamplesMs: number;
  resetBetweenSamples: boolean;
  model: ModelName;
  synapse: SynapseName;
  /** adaptive-lif only (a lif layer has no one-spike option in the definition). */
  oneSpikePerStep: boolean;
  /** adaptive-lif only; 0 or absent: no lockout. */
  spikeLockoutMs?: number;
  thetaPlusMv: number;
  tauThetaMs: number;
  thetaInitMv: number;
  inhibitory: boolean;
  /** Synapse type of H (defaults to E's). */
  inhSynapse?: SynapseName;
  rule: RefRule | null;
  norm: number | null;
  delay: { minMs: number; maxMs: number } | null;
  wMin: number;
  wMax: number;
  /** Initial weights uniform in [wMin, wMin + span·(wMax − wMin)). */
  initSpan: number;
  /** Probability that an input spikes in a step of the generated trains. */
  inputRate: number;
  /** Learning flag of each sample. */
  schedule: boolean[];
}

export const CONDUCTANCE_E = { excTauMs: 1, inhTauMs: 2, excReversalMv: 0, inhReversalMv: -100 };
export const CONDUCTANCE_H = { excTauMs: 1, inhTauMs: 2, excReversalMv: 0, inhReversalMv: -85 };

function synapseOf(s: SynapseName, which: 'E' | 'H'): RefSynapse {
  return s === 'current' ? { type: 'current' } : { type: 'conductance', ...(which === 'E' ? CONDUCTANCE_E : CONDUCTANCE_H) };
}

/** Layer constants: Diehl & Cook's (Brian) for conductance, BindsNET's eth_mnist for current. */
function excLayer(c: RefCase): RefLayer {
  return {
    model: c.model,
    restMv: -65,
    resetMv: c.synapse === 'conductance' ? -65 : -60,
    thresholdMv: -52,
    refractoryMs: 5,
    tauMs: 100,
    traceTauMs: 20,
    thetaPlusMv: c.model === 'adaptive-lif' ? c.thetaPlusMv : 0,
    tauThetaMs: c.tauThetaMs,
    thetaInitMv: c.model === 'adaptive-lif' ? c.thetaInitMv : 0,
    oneSpikePerStep: c.model === 'adaptive-lif' && c.oneSpikePerStep,
    spikeLockoutMs: c.model === 'adaptive-lif' ? (c.spikeLockoutMs ?? 0) : 0,
    synapse: synapseOf(c.synapse, 'E'),
  };
}

function inhLayer(c: RefCase): RefLayer {
  return {
    model: 'lif',
    restMv: -60,
    resetMv: -45,
    thresholdMv: -40,
    refractoryMs: 2,
    tauMs: 10,
    traceTauMs: 20,
    thetaPlusMv: 0,
    tauThetaMs: 1e7,
    thetaInitMv: 0,
    oneSpikePerStep: false,
    synapse: synapseOf(c.inhSynapse ?? c.synapse, 'H'),
  };
}

/** Current: eth_mnist-like but weaker inhibition (activity beyond the first winner); conductance: Diehl & Cook. */
function connectionWeights(c: RefCase): { wEI: number; wIE: number } {
  const eCurrent = c.synapse === 'current';
  const hCurrent = (c.inhSynapse ?? c.synapse) === 'current';
  return { wEI: hCurrent ? 22.5 : 10.5, wIE: eCurrent ? -6 : 4 };
}

function synapseDef(s: RefSynapse): Record<string, unknown> {
  return s.type === 'current' ? { type: 'current' } : { ...s };
}

/** The experiment definition of a case (the field names of issue 8; change here if they move). */
export function definitionOf(c: RefCase): Record<string, unknown> {
  const e = excLayer(c);
  const h = inhLayer(c);
  const { wEI, wIE } = connectionWeights(c);
  const exc: Record<string, unknown> = {
    id: 'E',
    type: c.model,
    size: c.neurons,
    restMv: e.restMv,
    resetMv: e.resetMv,
    thresholdMv: e.thresholdMv,
    refractoryMs: e.refractoryMs,
    tauMs: e.tauMs,
    traceTauMs: e.traceTauMs,
    synapse: synapseDef(e.synapse),
  };
  if (c.model === 'adaptive-lif')
    Object.assign(exc, {
      thetaPlusMv: e.thetaPlusMv,
      tauThetaMs: e.tauThetaMs,
      thetaInitMv: e.thetaInitMv,
      oneSpikePerStep: c.oneSpikePerStep,
      ...(c.spikeLockoutMs !== undefined ? { spikeLockoutMs: c.spikeLockoutMs } : {}),
    });
  const layers: Record<string, unknown>[] = [{ id: 'X', type: 'input', size: INPUTS, traceTauMs: 20 }, exc];
  const connections: Record<string, unknown>[] = [
    {
      from: 'X',
      to: 'E',
      type: 'dense',
      init: { dist: 'uniform', low: c.wMin, high: c.wMax },
      wMin: c.wMin,
      wMax: c.wMax,
      plasticity: c.rule,
      norm: c.norm,
      delay: c.delay,
    },
  ];
  if (c.inhibitory) {
    layers.push({
      id: 'H',
      type: 'lif',
      size: c.neurons,
      restMv: h.restMv,
      resetMv: h.resetMv,
      thresholdMv: h.thresholdMv,
      refractoryMs: h.refractoryMs,
      tauMs: h.tauMs,
      traceTauMs: h.traceTauMs,
      synapse: synapseDef(h.synapse),
    });
    connections.push({ from: 'E', to: 'H', type: 'one-to-one', weight: wEI }, { from: 'H', to: 'E', type: 'all-but-self', weight: wIE });
  }
  return {
    name: 'reference comparison',
    seed: c.seed,
    dtMs: c.dtMs,
    timePerSampleMs: c.timePerSampleMs,
    restBetweenSamplesMs: c.restBetweenSamplesMs,
    resetBetweenSamples: c.resetBetweenSamples,
    encoder: { type: 'latency', maxRateHz: 128 },
    layers,
    connections,
    dataset: { name: 'mnist', train: 10, test: 10, validation: 0, shuffle: false },
  };
}

/** The reference's parameter record of a case, written from docs/models.md (not from the engine's spec). */
export function refParamsOf(c: RefCase, weights: Float32Array, delays: ArrayLike<number> | null, prng: ArrayLike<number>): RefParams {
  const { wEI, wIE } = connectionWeights(c);
  return {
    inputs: INPUTS,
    neurons: c.neurons,
    dtMs: c.dtMs,
    steps: Math.round(c.timePerSampleMs / c.dtMs),
    restSteps: Math.round(c.restBetweenSamplesMs / c.dtMs),
    resetBetweenSamples: c.resetBetweenSamples,
    inputTraceTauMs: 20,
    exc: excLayer(c),
    inh: c.inhibitory ? inhLayer(c) : null,
    wEI,
    wIE,
    weights,
    wMin: c.wMin,
    wMax: c.wMax,
    norm: c.norm,
    delays,
    rule: c.rule,
    prngState: prng,
  };
}

/** Initial weights of a case (the test sets them, so the engine's initialiser is out of the comparison). */
export function initialWeights(c: RefCase): Float32Array {
  const r = RefPrng.fromSeed(c.seed ^ 0x5eed);
  const span = Math.fround((c.wMax - c.wMin) * c.initSpan);
  return new Float32Array(INPUTS * c.neurons).map(() => Math.fround(Math.fround(span * r.nextFloat24()) + Math.fround(c.wMin)));
}

/** A random spike train: each input spikes with probability `rate` per step; a step's spikes in shuffled order. */
export function randomTrain(seed: number, steps: number, rate: number): { lists: number[][]; train: SpikeTrainInput } {
  const r = RefPrng.fromSeed(seed);
  const lists: number[][] = [];
  for (let t = 0; t < steps; t++) {
    const l: number[] = [];
    for (let i = 0; i < INPUTS; i++) if (r.nextFloat24() < rate) l.push(i);
    for (let q = l.length - 1; q > 0; q--) {
      const k = r.below(q + 1);
      [l[q], l[k]] = [l[k], l[q]];
    }
    lists.push(l);
  }
  const count = Int32Array.from(lists, (l) => l.length);
  const index = Uint16Array.from(lists.flat());
  return { lists, train: { steps, count, index } };
}

export interface CompareStats {
  excSpikes: number;
  inhSpikes: number;
  weightChanges: number;
}

/** The new engine for a case, through the public definition path. */
export async function buildNewEngine(c: RefCase): Promise<NewNetwork> {
  const def = experimentDefinitionSchema.parse(definitionOf(c));
  return await createNetwork(compileDefinition(def).spec);
}

/**
 * Runs a case through the new engine (or `make`'s network: the harness's self-test) and the
 * reference; throws (expect) at the first difference.
 */
export async function compareWithNewEngine(c: RefCase, make: (c: RefCase) => Promise<NewNetwork> | NewNetwork = buildNewEngine): Promise<CompareStats> {
  const net = await make(c);
  const W0 = initialWeights(c);
  net.setDenseWeights(W0);
  expectSameBits(net.denseWeights(), W0, 'weights after setDenseWeights');

  const N = c.neurons;
  const T = Math.round(c.timePerSampleMs / c.dtMs);
  const R = Math.round(c.restBetweenSamplesMs / c.dtMs);
  const D = net.delays();
  if (c.delay === null) expect(D, 'delays() without a delay').toBeNull();
  else {
    expect(D, 'delays() with a delay').not.toBeNull();
    expect(D!.length).toBe(INPUTS * N);
    // D_ij = round(u·(max − min)/dt + min/dt), u ∈ [0, 1).
    const lo = Math.round(c.delay.minMs / c.dtMs);
    const hi = Math.round(c.delay.maxMs / c.dtMs);
    for (const d of D!) {
      expect(d).toBeGreaterThanOrEqual(lo);
      expect(d).toBeLessThanOrEqual(hi);
    }
  }
  const thetaInit = Math.fround(c.model === 'adaptive-lif' ? c.thetaInitMv : 0);
  expectSameBits(Float32Array.from(net.theta), new Float32Array(N).fill(thetaInit), 'initial θ');

  const ref = new ReferenceNetwork(refParamsOf(c, W0, D ? Array.from(D) : null, net.rngState()));
  const voltageNeurons = [0, N - 1];
  const stats: CompareStats = { excSpikes: 0, inhSpikes: 0, weightChanges: 0 };
  let prevW = W0;
  for (let k = 0; k < c.schedule.length; k++) {
    const learning = c.schedule[k];
    const { lists, train } = randomTrain(c.seed * 31 + k, T, c.inputRate);
    const rec = createRecording(voltageNeurons);
    net.runSample(train, learning, rec);
    const r = ref.runSample(lists, learning, voltageNeurons);
    const what = `sample ${k} (learning ${learning})`;

    // Input as the engine saw it: the given train, in the given order.
    expect(rec.input, `${what}: recorded input`).toEqual(lists.flatMap((l, t) => l.flatMap((i) => [t, i])));
    // Rasters: the engine may or may not record the rest steps (t ≥ T, only simulated without reset).
    const engineExc = sortedPairs(rec.excitatory);
    const engineInh = sortedPairs(rec.inhibitory);
    const recordsRest = [...engineExc, ...engineInh].some((_, q, a) => q % 2 === 0 && a[q] >= T);
    const clip = (pairs: number[]) => (recordsRest ? pairs : pairs.filter((_, q, a) => a[q - (q % 2)] < T));
    expect(engineExc, `${what}: E raster`).toEqual(clip(r.exc));
    expect(engineInh, `${what}: H raster`).toEqual(clip(r.inh));
    const vCount = rec.voltage.length;
    if (vCount === T * voltageNeurons.length || vCount === (T + R) * voltageNeurons.length)
      expectSameBits(Float32Array.from(rec.voltage), Float32Array.from(r.voltage.slice(0, vCount)), `${what}: E voltages`);
    expectSameBits(Float32Array.from(net.theta), r.theta, `${what}: θ`);
    const w = net.denseWeights();
    expectSameBits(w, r.weights, `${what}: weights`);
    expect(Array.from(net.rngState()), `${what}: PRNG state`).toEqual(Array.from(r.prng));
    stats.excSpikes += r.exc.length / 2;
    stats.inhSpikes += r.inh.length / 2;
    for (let q = 0; q < w.length; q++) if (w[q] !== prevW[q]) stats.weightChanges++;
    prevW = w;
  }
  return stats;
}

/** Rule parameters used by the hand-picked cases (float32-exact where it costs nothing). */
export function ruleOf(name: RuleName | null, pairing: 'nearest' | 'all-to-all' = 'nearest'): RefRule | null {
  switch (name) {
    case null:
      return null;
    case 'post-pre':
      return { rule: 'post-pre', nuPre: 1e-4, nuPost: 1e-2 };
    case 'weight-dependent-post-pre':
      return { rule: 'weight-dependent-post-pre', nuPre: 0.001, nuPost: 0.05 };
    case 'stdp':
      return { rule: 'stdp', aPlus: 0.01, aMinus: 0.0105, tauPlusMs: 16.8, tauMinusMs: 33.7, pairing };
    case 'diehl-cook':
      return { rule: 'diehl-cook', nuPre: 1e-4, nuPost: 0.01, tauPreMs: 20, tauPost1Ms: 20, tauPost2Ms: 40 };
    case 'power-law':
      return { rule: 'power-law', nu: 0.01, xTarget: 0.4, mu: 0.2, tauPreMs: 20 };
  }
}

/**
 * The reference alone on a case (delays drawn here by the documented formula with the reference
 * PRNG): used to check that a case exercises what it is meant to (spikes, learning) before an
 * engine exists to compare with.
 */
export function runReferenceOnly(c: RefCase): CompareStats & { finite: boolean } {
  const N = c.neurons;
  const T = Math.round(c.timePerSampleMs / c.dtMs);
  let delays: number[] | null = null;
  if (c.delay) {
    const r = RefPrng.fromSeed(c.seed);
    const { minMs, maxMs } = c.delay;
    delays = Array.from({ length: INPUTS * N }, () => Math.round((r.nextFloat24() * (maxMs - minMs)) / c.dtMs + minMs / c.dtMs));
  }
  const W0 = initialWeights(c);
  const ref = new ReferenceNetwork(refParamsOf(c, W0, delays, RefPrng.fromSeed(c.seed).state()));
  const stats = { excSpikes: 0, inhSpikes: 0, weightChanges: 0, finite: true };
  let prev = W0;
  for (let k = 0; k < c.schedule.length; k++) {
    const { lists } = randomTrain(c.seed * 31 + k, T, c.inputRate);
    const r = ref.runSample(lists, c.schedule[k], [0]);
    stats.excSpikes += r.exc.length / 2;
    stats.inhSpikes += r.inh.length / 2;
    for (let q = 0; q < r.weights.length; q++) {
      if (r.weights[q] !== prev[q]) stats.weightChanges++;
      if (!Number.isFinite(r.weights[q])) stats.finite = false;
    }
    for (const v of r.voltage) if (!Number.isFinite(v)) stats.finite = false;
    prev = r.weights;
  }
  return stats;
}

/**
 * A stand-in with the new engine's API, backed by the reference itself: checks the comparison
 * plumbing (recording, delays, rest steps, PRNG and θ reads) so that the skipped comparison does not
 * fail for a harness bug the day the engine lands. Trivially equal by construction otherwise.
 */
export function referenceBacked(c: RefCase, recordRest: boolean): NewNetwork {
  const N = c.neurons;
  const T = Math.round(c.timePerSampleMs / c.dtMs);
  const rng = RefPrng.fromSeed(c.seed);
  const D = c.delay
    ? Uint8Array.from({ length: INPUTS * N }, () => Math.round((rng.nextFloat24() * (c.delay!.maxMs - c.delay!.minMs)) / c.dtMs + c.delay!.minMs / c.dtMs))
    : null;
  let ref = new ReferenceNetwork(refParamsOf(c, new Float32Array(INPUTS * N), D, rng.state()));
  return {
    setDenseWeights(w) {
      ref = new ReferenceNetwork(refParamsOf(c, w, D, ref.rng.state()));
    },
    denseWeights: () => Float32Array.from(ref.W),
    delays: () => D,
    get theta() {
      return ref.theta;
    },
    rngState: () => ref.rng.state(),
    runSample(input: Uint8Array | SpikeTrainInput, learning: boolean, rec?: NewRecording) {
      if (input instanceof Uint8Array) throw new Error('images are not supported here');
      const lists: number[][] = [];
      for (let t = 0, q = 0; t < input.steps; t++) lists.push(Array.from(input.index.subarray(q, (q += input.count[t]))));
      const vn = (rec as { voltageNeurons?: number[] } | undefined)?.voltageNeurons ?? [];
      const r = ref.runSample(lists, learning, vn);
      if (rec) {
        lists.forEach((l, t) => l.forEach((i) => rec.input.push(t, i)));
        const keep = (p: number[]) => (recordRest ? p : p.filter((_, q, a) => a[q - (q % 2)] < T));
        rec.excitatory.push(...keep(r.exc));
        rec.inhibitory.push(...keep(r.inh));
        rec.voltage.push(...r.voltage.slice(0, (recordRest ? r.voltage.length : T * vn.length)));
      }
      return r.exc.length / 2;
    },
  };
}
