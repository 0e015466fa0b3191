/**
 * What the engine simulates: the network a definition compiles to (src/experiment/topology.ts).
 * Units: mV, ms, Hz. The step-by-step semantics are in docs/models.md.
 */

/** How a spike acts on its target: a voltage jump, or a conductance with its reversal potential. */
export type SynapseSpec =
  | { type: 'current' }
  | { type: 'conductance'; excTauMs: number; inhTauMs: number; excReversalMv: number; inhReversalMv: number };

export interface LifSpec {
  restMv: number;
  resetMv: number;
  thresholdMv: number;
  refractoryMs: number;
  tauMs: number;
  synapse: SynapseSpec;
}

/** Learning rules of the dense input connection (rules.ts; docs/models.md has each window). */
export type { PlasticitySpec } from './rules.js';
import type { PlasticitySpec } from './rules.js';

export type EncoderType = 'bindsnet-poisson' | 'poisson' | 'bernoulli' | 'latency';

export interface WeightInit {
  dist: 'uniform' | 'constant';
  low?: number;
  high?: number;
  value?: number;
}

export interface NetworkSpec {
  inputs: number;
  neurons: number;
  /** Simulation steps per sample presentation. */
  steps: number;
  dtMs: number;
  /** Time between samples (ms): simulated without input, or (with reset) only θ decays. */
  restBetweenSamplesMs: number;
  /** Reset potentials, conductances, traces and delay lines at the start of every sample. */
  resetBetweenSamples: boolean;
  seed: number;
  encoder: { type: EncoderType; maxRateHz: number };
  inputTraceTauMs: number;
  excitatory: LifSpec & {
    thetaPlusMv: number;
    tauThetaMs: number;
    thetaInitMv: number;
    traceTauMs: number;
    oneSpikePerStep: boolean;
    adaptive: boolean;
    /** No spike until more than this after the previous one (ms); 0: no such gate (docs/models.md). */
    spikeLockoutMs: number;
  };
  /** Null: no inhibitory layer (no winner-take-all). */
  inhibitory: (LifSpec & { excToInh: number; inhToExc: number }) | null;
  dense: {
    init: WeightInit;
    wMin: number;
    wMax: number;
    plasticity: PlasticitySpec | null;
    norm: number | null;
    /** Extra per-synapse delay, uniform in [minMs, maxMs]; null: none (one step, as BindsNET). */
    delay: { minMs: number; maxMs: number } | null;
  };
}

/** The longest extra delay in steps the engine supports (delays are stored as bytes). */
export const MAX_DELAY_STEPS = 250;

export function decayFactor(dtMs: number, tauMs: number): number {
  return Math.fround(Math.exp(Math.fround(-dtMs / tauMs)));
}
