/**
 * The one place the experiment loop reaches into the engine: which network class it builds, which
 * of its members it uses, and how its persistent state goes into a checkpoint. Renaming or
 * replacing the engine's network class is one edit here.
 */
import { createRecording, engineThreadsFor, Network, type SampleRecording } from '../../engine/network.js';
import type { NetworkSpec, NetworkState, SpikeTrainInput } from '../../engine/network.js';
import type { StatePart } from './state-part.js';

export { createRecording, type SampleRecording };

/** What the experiment loop needs of a network (a subset of the engine class). */
export interface ExperimentNetwork {
  /** Presents one image (or an event stream's precomputed spike train); returns the excitatory spikes it drew. */
  runSample(input: Uint8Array | SpikeTrainInput, learning: boolean, rec?: SampleRecording | null, extraRateHz?: number): number;
  /** Spikes of each excitatory neuron in the last sample. */
  readonly counts: Int32Array;
  /** Input and excitatory spikes of the last sample. */
  readonly inputSpikes: number;
  readonly excSpikes: number;
  /** Adaptive thresholds (mV) of the excitatory layer. */
  readonly theta: Float32Array;
  /** The network's PRNG: the epoch permutations draw from it. */
  readonly rng: { below(k: number): number; getState(): Uint32Array };
  /** [inputs, neurons] learned weights, unpadded. */
  denseWeights(): Float32Array;
  getState(): NetworkState;
  setState(state: NetworkState): void;
  /** Ends the network's helper threads (several threads); idempotent. */
  close(): void;
}

/**
 * Builds the network of a compiled definition on `threads` threads (same results for any count);
 * `{ budget }` lets the size decide (engineThreadsFor).
 */
export function createNetwork(spec: NetworkSpec, threads: number | { budget: number } = 1): ExperimentNetwork {
  const n = typeof threads === 'number' ? threads : engineThreadsFor(spec.neurons, threads.budget);
  return new Network(spec, undefined, n);
}

/** Puts trained weights and θ into a fresh network (for classification); its PRNG stays seeded. */
export function loadTrainedState(net: ExperimentNetwork, weights: Float32Array, theta: Float32Array): void {
  net.setState({ weights, theta, prng: net.rng.getState(), normalizeAll: false, needClamp: false });
}

/**
 * State codec of the network: weights, θ, PRNG, the pending normalization flags and, for networks
 * that carry their state from sample to sample, that state (potentials, traces, delay lines).
 */
export const networkState = {
  encode(net: ExperimentNetwork): StatePart {
    const s = net.getState();
    const arrays: StatePart['arrays'] = { weights: s.weights, theta: s.theta, prng: s.prng };
    if (s.carried) arrays.carried = s.carried;
    return { meta: { normalizeAll: s.normalizeAll, needClamp: s.needClamp }, arrays };
  },
  decode(net: ExperimentNetwork, part: StatePart): void {
    const { meta, arrays } = part;
    net.setState({
      weights: arrays.weights as Float32Array,
      theta: arrays.theta as Float32Array,
      prng: arrays.prng as Uint32Array,
      normalizeAll: meta.normalizeAll as boolean,
      needClamp: meta.needClamp as boolean,
      carried: arrays.carried as Uint8Array | undefined,
    });
  },
};
