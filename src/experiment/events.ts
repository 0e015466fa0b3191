import type { TuningResult } from '../data/tuning.js';

/**
 * Events a running experiment emits through its single callback. Bulk payloads are typed arrays
 * so a worker thread can transfer (not copy) their buffers to the main thread.
 */

export type Phase = 'train' | 'test';

export interface ProgressEvent {
  type: 'progress';
  phase: Phase;
  epoch: number;
  /** Samples done in this phase (train: across all epochs). */
  done: number;
  /** Samples this phase will run in total. */
  total: number;
  samplesPerSec: number;
  etaSec: number;
}

/** One labelling window of training (every `labelUpdateInterval` samples), as eth_mnist prints it. */
export interface WindowMetricsEvent {
  type: 'metrics';
  phase: 'train';
  epoch: number;
  /** Training samples seen so far (all epochs). */
  samplesSeen: number;
  /** Accuracy of the window's samples under the labels assigned before it (null before any assignment). */
  accuracy: { allActivity: number | null; proportionWeighting: number | null };
  /** Mean spikes per sample in the window. */
  spikesPerSample: { input: number; excitatory: number };
  samplesPerSec: number;
  /** Mean adaptive threshold θ (mV) of the excitatory layer. */
  thetaMean: number;
}

export interface SpikesEvent {
  type: 'spikes';
  phase: Phase;
  /** Index of the sample within the run (train: across epochs). */
  sampleIndex: number;
  label: number;
  layer: 'input' | 'excitatory' | 'inhibitory';
  steps: number;
  neurons: number;
  /** Pairs (step, neuron), sorted by step: data[2k] = step, data[2k+1] = neuron. */
  data: Uint32Array;
}

export interface VoltageEvent {
  type: 'voltage';
  phase: Phase;
  sampleIndex: number;
  steps: number;
  /** Excitatory neuron indices recorded. */
  neurons: number[];
  /** steps × neurons membrane voltage (mV), row-major by step. */
  voltage: Float32Array;
  /** steps × neurons effective threshold (threshold + θ, mV). */
  threshold: Float32Array;
}

export interface WeightsEvent {
  type: 'weights';
  sampleIndex: number;
  /** [inputs, neurons]; row-major, row = input neuron (like BindsNET's w and the .npy). */
  shape: [number, number];
  data: Float32Array;
}

export interface CheckpointEvent {
  type: 'checkpoint';
  /** Training samples completed when the snapshot was taken. */
  samplesDone: number;
  state: Uint8Array;
}

export interface ExperimentResult {
  /** Test accuracy (fractions); null when the run was cancelled before testing. */
  accuracy: { allActivity: number | null; proportionWeighting: number | null };
  /** confusion[true][predicted], all-activity predictions. */
  confusion: number[][];
  confusionProportion: number[][];
  assignments: number[];
  /** neurons × 10 proportions, row-major. */
  proportions: number[];
  train: { samples: number; samplesPerSec: number; seconds: number };
  test: { samples: number; samplesPerSec: number; seconds: number };
  validation: { samples: number; accuracy: { allActivity: number; proportionWeighting: number } | null };
  spikesPerTestSample: number;
  thetaMean: number;
  weightsSha256: string;
  neurons: number;
  wallSeconds: number;
  /** True if the run was cancelled before finishing (results are partial). */
  cancelled: boolean;
  /** Shape of one input sample (weights are [height·width·channels, neurons]); absent in results before datasets existed (28×28×1). */
  input?: { height: number; width: number; channels: number };
  /** Classes of the dataset (rows of the confusion matrix); absent: 10. */
  classes?: number;
  /** Orientation/direction tuning on the test set (built-in bar datasets only). */
  tuning?: TuningResult | null;
}

export interface DoneEvent {
  type: 'done';
  result: ExperimentResult;
  /** Final learned weights [inputs, N] and the state needed to classify new images. */
  weights: Float32Array;
  theta: Float32Array;
}

export type ExperimentEvent =
  | ProgressEvent
  | WindowMetricsEvent
  | SpikesEvent
  | VoltageEvent
  | WeightsEvent
  | CheckpointEvent
  | DoneEvent;

export type EmitFn = (event: ExperimentEvent) => void;
