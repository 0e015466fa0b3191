/**
 * The cost model of a definition: an upper estimate of the work and the bytes one experiment can
 * demand, computed from the definition alone (before anything runs), so the API can refuse a
 * definition that would occupy the engine for weeks and count what a tenant spends per day.
 *
 * Work is counted in neuron-steps: (input + excitatory + inhibitory neurons) × simulation steps,
 * summed over every presentation of every phase. Re-presentations (`represent`) are counted at
 * their maximum (`maxRepeats` extra presentations of every sample), because the cap is a bound,
 * not a forecast. The rest between samples counts as excitatory-neuron-steps with a state reset
 * (only θ decays, step by step) and as neuron-steps of the whole network without one (it runs).
 *
 * Bytes are what the run writes and streams: checkpoints (full engine state every
 * `checkpointEvery` training samples) and the live stream's weight snapshots, spike rasters and
 * voltage traces (estimated from the input rate bound).
 *
 * `total` is neuron-steps + bytes (one unit per byte): a 20 MB checkpoint then weighs about as
 * much as six training samples of a 6,400-neuron network, roughly what writing it costs.
 *
 * New phases or options must be added here: this is the one function of the definition that
 * says how expensive it is.
 */
import type { ExperimentDefinition } from './schema.js';

export const MNIST_TRAIN_POOL = 60_000;
/** Test images of MNIST: the bound when a definition leaves the count to its dataset. */
const MNIST_TEST = 10_000;
/** A spike in a raster is a (step, neuron) pair of u32. */
const BYTES_PER_SPIKE = 8;
/** Frame headers and JSON envelopes, per frame (generous). */
const FRAME_OVERHEAD = 256;

export interface CostBreakdown {
  /** Presentations of a sample (1 + the most re-presentations). */
  presentationsPerSample: number;
  /** Neuron-steps of one presentation (rest included). */
  neuronStepsPerSample: number;
  samples: { train: number; labelling: number; validation: number; test: number };
  neuronSteps: number;
  checkpointBytes: number;
  streamBytes: number;
  /** neuronSteps + checkpointBytes + streamBytes: what MAX_EXPERIMENT_COST bounds. */
  total: number;
}

export function experimentCost(def: ExperimentDefinition): CostBreakdown {
  const layerSize = (type: string) => def.layers.filter((l) => l.type === type).reduce((s, l) => s + l.size, 0);
  const excitatory = layerSize('lif') + layerSize('adaptive-lif');
  const neurons = def.layers.reduce((s, l) => s + l.size, 0);
  const steps = Math.max(1, Math.round(def.timePerSampleMs / def.dtMs));
  const restSteps = Math.round(def.restBetweenSamplesMs / def.dtMs);
  const inputs = layerSize('input');
  // The excitatory layer's size: the learnt matrix is inputs × that.
  const exc = def.layers.find((l) => l.type === 'adaptive-lif') ?? def.layers.find((l) => l.type === 'lif');
  const n = exc?.size ?? excitatory;

  const presentationsPerSample = 1 + (def.represent.belowSpikes > 0 ? def.represent.maxRepeats : 0);
  // With a reset only θ decays over the rest; without one the whole network runs through it.
  const neuronStepsPerSample = neurons * steps + (def.resetBetweenSamples ? n : neurons) * restSteps;

  // Counts a dataset fills in (uploads, generators) are bounded by MNIST's when not yet known.
  const train = (def.dataset.train ?? MNIST_TRAIN_POOL) * def.epochs;
  const labelling =
    def.evaluation.assignment === 'frozen-pass'
      ? Math.min(def.evaluation.labelSamples, MNIST_TRAIN_POOL - def.dataset.validation)
      : 0;
  const samples = { train, labelling, validation: def.dataset.validation, test: def.dataset.test ?? MNIST_TEST };
  const presented = train + labelling + samples.validation + samples.test;
  const neuronSteps = presented * presentationsPerSample * neuronStepsPerSample;

  // Checkpoint: weights and θ (f32), label rates, proportions and window sums (f64 per neuron
  // and class), assignments, and the epoch's permutation of the training pool (u32).
  const checkpointSize = inputs * n * 4 + n * 4 + 3 * 10 * n * 8 + n * 4 + MNIST_TRAIN_POOL * 4 + 4096;
  const checkpoints = def.checkpointEvery > 0 ? Math.floor(train / def.checkpointEvery) : 0;
  const checkpointBytes = checkpoints * checkpointSize;

  const s = def.stream;
  const weightFrames = s.weightsEvery > 0 ? Math.floor(train / s.weightsEvery) + 1 : 1;
  const weightBytes = weightFrames * (inputs * n * 4 + FRAME_OVERHEAD);
  const recorded = s.spikesEvery > 0 ? Math.ceil(train / s.spikesEvery) + Math.ceil(samples.test / s.spikesEvery) : 0;
  const maxInputRateHz = def.encoder.maxRateHz + (presentationsPerSample - 1) * def.represent.rateStepHz;
  const inputSpikes = inputs * maxInputRateHz * (def.timePerSampleMs / 1000);
  // one_spike: at most one excitatory spike per step, each answered by the inhibitory layer.
  const rasterBytes = (inputSpikes + 2 * steps) * BYTES_PER_SPIKE + 3 * FRAME_OVERHEAD;
  const voltageBytes = s.voltageNeurons.length > 0 ? s.voltageNeurons.length * steps * 2 * 4 + FRAME_OVERHEAD : 0;
  const progressFrames = Math.ceil((train + samples.test) / s.progressEvery);
  const streamBytes = weightBytes + recorded * (rasterBytes + voltageBytes) + progressFrames * FRAME_OVERHEAD;

  return {
    presentationsPerSample,
    neuronStepsPerSample,
    samples,
    neuronSteps,
    checkpointBytes,
    streamBytes,
    total: neuronSteps + checkpointBytes + streamBytes,
  };
}

/** Neuron-steps of classifying `images` images with a trained model of this definition. */
export function classifyCost(def: ExperimentDefinition, images: number): number {
  const c = experimentCost(def);
  return images * c.presentationsPerSample * c.neuronStepsPerSample;
}

/** A cost in a form people read: 1.23e12. */
export const formatCost = (x: number) => x.toExponential(2);
