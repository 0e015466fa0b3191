/**
 * Tiny networks for analytic tests of the kernel: a few inputs and neurons, inputs given as
 * spike trains, no inhibitory layer and no plasticity unless a test sets them. Everything is
 * driven through the public `Network` host.
 */
import { createRecording, Network, type NetworkSpec, type SampleRecording, type SpikeTrainInput } from '../../src/engine/network.js';

export const f = Math.fround;

export type Excitatory = NetworkSpec['excitatory'];
export type Inhibitory = NonNullable<NetworkSpec['inhibitory']>;

/** BindsNET's excitatory LIF parameters (plain LIF: not adaptive, no one-spike selection). */
export const EXC = { restMv: -65, resetMv: -60, thresholdMv: -52, refractoryMs: 5, tauMs: 100 };
/** BindsNET's inhibitory LIF parameters. */
export const INH = { restMv: -60, resetMv: -45, thresholdMv: -40, refractoryMs: 2, tauMs: 10 };

export interface TinyOptions {
  inputs?: number;
  neurons?: number;
  steps?: number;
  dtMs?: number;
  seed?: number;
  restBetweenSamplesMs?: number;
  resetBetweenSamples?: boolean;
  encoder?: NetworkSpec['encoder'];
  inputTraceTauMs?: number;
  excitatory?: Partial<Excitatory>;
  inhibitory?: Partial<Inhibitory> | null;
  dense?: Partial<NetworkSpec['dense']>;
}

export function tinySpec(o: TinyOptions = {}): NetworkSpec {
  return {
    inputs: o.inputs ?? 2,
    neurons: o.neurons ?? 1,
    steps: o.steps ?? 20,
    dtMs: o.dtMs ?? 1,
    restBetweenSamplesMs: o.restBetweenSamplesMs ?? 0,
    resetBetweenSamples: o.resetBetweenSamples ?? true,
    seed: o.seed ?? 0,
    encoder: o.encoder ?? { type: 'bindsnet-poisson', maxRateHz: 128 },
    inputTraceTauMs: o.inputTraceTauMs ?? 20,
    excitatory: {
      ...EXC,
      synapse: { type: 'current' },
      thetaPlusMv: 0.05,
      tauThetaMs: 1e7,
      thetaInitMv: 0,
      traceTauMs: 20,
      oneSpikePerStep: false,
      adaptive: false,
      spikeLockoutMs: 0,
      ...o.excitatory,
    },
    inhibitory: o.inhibitory ? { ...INH, synapse: { type: 'current' }, excToInh: 22.5, inhToExc: -120, ...o.inhibitory } : null,
    dense: {
      init: { dist: 'constant', value: 0 },
      wMin: 0,
      wMax: 1,
      plasticity: null,
      norm: null,
      delay: null,
      ...o.dense,
    },
  };
}

/** A network with the given weights (rows = inputs) in place of the initial ones. */
export function tinyNet(o: TinyOptions, weights?: number[][]): Network {
  const net = new Network(tinySpec(o));
  if (weights) net.setDenseWeights(Float32Array.from(weights.flat()));
  return net;
}

/** A spike train of `steps` steps from (step, input) events, listed per step in the given order. */
export function spikeTrain(steps: number, events: [number, number][]): SpikeTrainInput {
  const count = new Int32Array(steps);
  const sorted = events.map((e, k) => [...e, k]).sort((a, b) => a[0] - b[0] || a[2] - b[2]);
  for (const [t] of sorted) count[t]++;
  return { steps, count, index: Uint16Array.from(sorted.map((e) => e[1])) };
}

/** Runs one sample recording spikes and the voltage of `voltageNeurons` (default: all). */
export function run(net: Network, input: SpikeTrainInput | Uint8Array, learning = false, voltageNeurons?: number[]): SampleRecording & { V: (t: number, j: number) => number; TH: (t: number, j: number) => number } {
  const vn = voltageNeurons ?? Array.from({ length: Math.min(net.neurons, 16) }, (_, j) => j);
  const rec = createRecording(vn);
  net.runSample(input, learning, rec);
  const m = vn.length;
  return Object.assign(rec, {
    V: (t: number, j: number) => rec.voltage[t * m + vn.indexOf(j)],
    TH: (t: number, j: number) => rec.threshold[t * m + vn.indexOf(j)],
  });
}

/** Raster pairs (step, neuron) → per-step lists. */
export function byStep(pairs: number[], steps: number): number[][] {
  const out: number[][] = Array.from({ length: steps }, () => []);
  for (let a = 0; a < pairs.length; a += 2) out[pairs[a]].push(pairs[a + 1]);
  return out;
}

/** One current-synapse leak step: v ← f(f(d·f(v − rest)) + rest). */
export function leak(v: number, d: number, rest: number): number {
  return f(f(d * f(v - rest)) + rest);
}

/** x after k float32 multiplications by d, starting from 1 (a nearest-spike trace k steps on). */
export function trace(d: number, k: number): number {
  let x = 1;
  for (let s = 0; s < k; s++) x = f(x * d);
  return x;
}

export function bits(a: Float32Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length);
}

export function sameBits(a: Float32Array, b: Float32Array, what: string): void {
  if (a.length !== b.length) throw new Error(`${what}: length ${a.length} vs ${b.length}`);
  const x = bits(a);
  const y = bits(b);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) throw new Error(`${what}: differs at ${i} (${a[i]} vs ${b[i]})`);
}
