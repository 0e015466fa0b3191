/**
 * Maps a declarative definition onto the engine's network spec, checking that it has the Diehl &
 * Cook shape the engine runs. Every rejection names the field, so the API can return it as a 4xx.
 */
import { MAX_DELAY_STEPS, type NetworkSpec } from '../engine/spec.js';
import type { AdaptiveLifLayer, DatasetSpec, DenseConnection, ExperimentDefinition, LifLayer } from './schema.js';

/** MNIST's 28×28 images; other datasets size the input layer by their own height × width × channels. */
export const MNIST_INPUTS = 784;

/** The input a dataset presents and how many samples it has: what the network is sized by. */
export interface DataShape {
  kind: 'images' | 'events';
  height: number;
  width: number;
  /** 1 for images; 2 for event streams (OFF channel, then ON channel). */
  channels: number;
  classes: number;
  labelled: boolean;
  /** Samples in the training and test splits. */
  trainCount: number;
  testCount: number;
  /** Per epoch / test / held out, after defaults. */
  train: number;
  test: number;
  validation: number;
  /** Where an orientation or direction tuning curve is meaningful: the angle of each class (degrees). */
  tuning: { kind: 'orientation' | 'direction'; anglesDeg: number[] } | null;
}

/** Memory a built-in generator may fill for one run. */
export const MAX_GENERATED_BYTES = 512 * 2 ** 20;

const evenAngles = (k: number, span: number) => Array.from({ length: k }, (_, i) => (i * span) / k);

/**
 * The shape of the definition's dataset. Uploaded datasets must have been resolved by the server
 * (`dataset.resolved`, filled in at submission) so this stays a pure function.
 */
export function dataShape(ds: DatasetSpec): DataShape {
  switch (ds.name) {
    case 'mnist':
      return { kind: 'images', height: 28, width: 28, channels: 1, classes: 10, labelled: true, trainCount: 60000, testCount: 10000, train: ds.train, test: ds.test, validation: ds.validation, tuning: null };
    case 'oriented-bars':
      return {
        kind: 'images', height: ds.side, width: ds.side, channels: 1, classes: ds.orientations, labelled: true,
        trainCount: ds.train + ds.validation, testCount: ds.test, train: ds.train, test: ds.test, validation: ds.validation,
        tuning: { kind: 'orientation', anglesDeg: evenAngles(ds.orientations, 180) },
      };
    case 'moving-bars':
      return {
        kind: 'events', height: ds.side, width: ds.side, channels: 2, classes: ds.directions, labelled: true,
        trainCount: ds.train + ds.validation, testCount: ds.test, train: ds.train, test: ds.test, validation: ds.validation,
        tuning: { kind: 'direction', anglesDeg: evenAngles(ds.directions, 360) },
      };
    case 'upload': {
      const r = ds.resolved;
      if (!r) throw new DefinitionError('dataset.id', `dataset ${ds.id} has not been resolved (submit the experiment through the API)`);
      return {
        kind: r.kind, height: r.height, width: r.width, channels: r.channels, classes: r.classes, labelled: r.labelled,
        trainCount: r.trainCount, testCount: r.testCount,
        train: ds.train ?? Math.max(0, r.trainCount - ds.validation), test: ds.test ?? r.testCount, validation: ds.validation,
        tuning: null,
      };
    }
  }
}

/** Inputs the engine can index (16-bit input ids). */
export const MAX_ENGINE_INPUTS = 65536;
/** Engine memory one network may need for its weights, delays and a sample's spike train. */
export const MAX_ENGINE_BYTES = 2 * 2 ** 30;

export class DefinitionError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'DefinitionError';
  }
}

export interface CompiledExperiment {
  spec: NetworkSpec;
  steps: number;
  excitatoryId: string;
  data: DataShape;
}

export function compileDefinition(def: ExperimentDefinition): CompiledExperiment {
  const ids = new Map<string, number>();
  def.layers.forEach((l, k) => {
    if (ids.has(l.id)) throw new DefinitionError(`layers.${k}.id`, `duplicate layer id "${l.id}"`);
    ids.set(l.id, k);
  });
  const inputs = def.layers.filter((l) => l.type === 'input');
  if (inputs.length !== 1) throw new DefinitionError('layers', 'exactly one layer of type "input" is required');
  const input = inputs[0];
  const data = dataShape(def.dataset);
  const inputSize = data.height * data.width * data.channels;
  if (input.size !== inputSize) {
    const what = data.channels === 1 ? `${data.height}×${data.width}` : `${data.channels}×${data.height}×${data.width}`;
    throw new DefinitionError(`layers.${ids.get(input.id)}.size`, `the input layer must have ${inputSize} neurons, one per input of the dataset's ${what} samples`);
  }

  const layerOf = (id: string, field: string) => {
    const k = ids.get(id);
    if (k === undefined) throw new DefinitionError(field, `unknown layer "${id}"`);
    return def.layers[k];
  };
  const byType = (type: string) => def.connections.map((c, k) => ({ c, k })).filter(({ c }) => c.type === type);

  const dense = byType('dense');
  if (dense.length !== 1) throw new DefinitionError('connections', 'exactly one dense (learnable) connection is required');
  const d = dense[0].c as DenseConnection;
  const dk = dense[0].k;
  if (layerOf(d.from, `connections.${dk}.from`).type !== 'input')
    throw new DefinitionError(`connections.${dk}.from`, 'the dense connection must start at the input layer');
  const excLayer = layerOf(d.to, `connections.${dk}.to`);
  if (excLayer.type === 'input') throw new DefinitionError(`connections.${dk}.to`, 'the dense connection must end at a LIF layer');
  const exc = excLayer as LifLayer | AdaptiveLifLayer;
  if (d.wMin > d.wMax) throw new DefinitionError(`connections.${dk}.wMin`, 'must not exceed wMax');

  const others = def.layers.filter((l) => l.type !== 'input' && l.id !== exc.id);
  if (others.length > 1) throw new DefinitionError('layers', 'at most one inhibitory layer is supported');
  let inhibitory: NetworkSpec['inhibitory'] = null;
  if (others.length === 1) {
    const inh = others[0];
    const ik = ids.get(inh.id)!;
    if (inh.type !== 'lif') throw new DefinitionError(`layers.${ik}.type`, 'the inhibitory layer must be "lif"');
    if (inh.size !== exc.size) throw new DefinitionError(`layers.${ik}.size`, `must equal the excitatory layer size (${exc.size})`);
    const e2i = byType('one-to-one');
    const i2e = byType('all-but-self');
    if (e2i.length !== 1 || e2i[0].c.from !== exc.id || e2i[0].c.to !== inh.id)
      throw new DefinitionError('connections', `a one-to-one connection from "${exc.id}" to "${inh.id}" is required`);
    if (i2e.length !== 1 || i2e[0].c.from !== inh.id || i2e[0].c.to !== exc.id)
      throw new DefinitionError('connections', `an all-but-self connection from "${inh.id}" to "${exc.id}" is required`);
    const excToInh = (e2i[0].c as { weight: number }).weight;
    const inhToExc = (i2e[0].c as { weight: number }).weight;
    // A conductance only adds: the sign of a conductance synapse is its reversal potential's.
    if (inh.synapse.type === 'conductance' && excToInh < 0)
      throw new DefinitionError(`connections.${e2i[0].k}.weight`, 'must be ≥ 0 onto a layer with conductance synapses');
    if (exc.synapse.type === 'conductance' && inhToExc < 0)
      throw new DefinitionError(`connections.${i2e[0].k}.weight`, 'must be ≥ 0 onto a layer with conductance synapses');
    const { id: _id, type: _type, size: _size, traceTauMs: _trace, ...lif } = inh;
    inhibitory = { ...lif, excToInh, inhToExc };
  } else if (def.connections.length !== 1) {
    throw new DefinitionError('connections', 'without an inhibitory layer only the dense connection is allowed');
  }

  const steps = Math.round(def.timePerSampleMs / def.dtMs);
  if (steps < 1 || Math.abs(steps * def.dtMs - def.timePerSampleMs) > 1e-9 * def.timePerSampleMs)
    throw new DefinitionError('timePerSampleMs', `must be a whole number of dt steps (dtMs = ${def.dtMs})`);
  if (steps > 10000) throw new DefinitionError('timePerSampleMs', 'at most 10,000 steps per sample');
  def.stream.voltageNeurons.forEach((j, k) => {
    if (j >= exc.size) throw new DefinitionError(`stream.voltageNeurons.${k}`, `neuron ${j} does not exist (layer has ${exc.size})`);
  });
  const what = def.dataset.name === 'mnist' ? 'MNIST' : 'the dataset';
  if (data.validation + data.train > data.trainCount)
    throw new DefinitionError('dataset.train', `train + validation must not exceed the ${data.trainCount.toLocaleString('en-US')} ${what} training samples`);
  if (data.test > data.testCount) throw new DefinitionError('dataset.test', `${what} has ${data.testCount.toLocaleString('en-US')} test samples`);
  // Generated datasets live in memory while the run lasts: bound them (images: 1 byte per pixel;
  // events: about 2 per pixel per sample, 9 bytes each as typed arrays).
  if (def.dataset.name === 'oriented-bars' || def.dataset.name === 'moving-bars') {
    const samples = data.trainCount + data.testCount;
    const bytes = samples * data.height * data.width * (def.dataset.name === 'moving-bars' ? 18 : 1);
    if (bytes > MAX_GENERATED_BYTES)
      throw new DefinitionError('dataset.train', `${samples.toLocaleString('en-US')} generated ${data.height}×${data.width} samples would take about ${Math.round(bytes / 2 ** 20)} MiB; at most ${MAX_GENERATED_BYTES / 2 ** 20} MiB`);
  }
  if (!data.labelled && (data.test > 0 || data.validation > 0 || def.evaluation.assignment === 'frozen-pass'))
    throw new DefinitionError(data.test > 0 ? 'dataset.test' : 'dataset.validation', 'the dataset has no labels: it can train (receptive fields) but not be tested; set test and validation to 0');

  if (exc.synapse.type === 'conductance' && d.wMin < 0)
    throw new DefinitionError(`connections.${dk}.wMin`, 'must be ≥ 0 onto a layer with conductance synapses');
  if (d.delay) {
    if (d.delay.minMs > d.delay.maxMs) throw new DefinitionError(`connections.${dk}.delay.minMs`, 'must not exceed maxMs');
    if (Math.round(d.delay.maxMs / def.dtMs) > MAX_DELAY_STEPS)
      throw new DefinitionError(`connections.${dk}.delay.maxMs`, `at most ${MAX_DELAY_STEPS} steps of dtMs`);
  }
  // The engine indexes inputs in 16 bits and keeps W, delays and a sample's spike train in one
  // WebAssembly memory (at most 4 GiB): refuse what it cannot hold rather than fail mid-run.
  const inputK = ids.get(input.id)!;
  if (inputSize > MAX_ENGINE_INPUTS)
    throw new DefinitionError(`layers.${inputK}.size`, `at most ${MAX_ENGINE_INPUTS} inputs (the data's H·W·channels is ${inputSize})`);
  const padded = Math.ceil(exc.size / 16) * 16;
  const engineBytes = inputSize * padded * (4 + (d.delay ? 1 : 0)) + inputSize * steps * 2;
  if (engineBytes > MAX_ENGINE_BYTES)
    throw new DefinitionError(
      `layers.${ids.get(exc.id)}.size`,
      `the network needs ${(engineBytes / 2 ** 30).toFixed(1)} GiB of engine memory (inputs × neurons weights, spike train); at most ${MAX_ENGINE_BYTES / 2 ** 30} GiB`,
    );
  const adaptive = exc.type === 'adaptive-lif';
  const spec: NetworkSpec = {
    inputs: inputSize,
    neurons: exc.size,
    steps,
    dtMs: def.dtMs,
    restBetweenSamplesMs: def.restBetweenSamplesMs,
    resetBetweenSamples: def.resetBetweenSamples,
    seed: def.seed,
    encoder: def.encoder,
    inputTraceTauMs: input.traceTauMs,
    excitatory: {
      restMv: exc.restMv,
      resetMv: exc.resetMv,
      thresholdMv: exc.thresholdMv,
      refractoryMs: exc.refractoryMs,
      tauMs: exc.tauMs,
      traceTauMs: exc.traceTauMs,
      adaptive,
      thetaPlusMv: adaptive ? (exc as AdaptiveLifLayer).thetaPlusMv : 0,
      tauThetaMs: adaptive ? (exc as AdaptiveLifLayer).tauThetaMs : 1e7,
      thetaInitMv: adaptive ? (exc as AdaptiveLifLayer).thetaInitMv : 0,
      oneSpikePerStep: adaptive ? (exc as AdaptiveLifLayer).oneSpikePerStep : false,
      spikeLockoutMs: adaptive ? (exc as AdaptiveLifLayer).spikeLockoutMs : 0,
      synapse: exc.synapse,
    },
    inhibitory,
    dense: {
      init: d.init,
      wMin: d.wMin,
      wMax: d.wMax,
      plasticity: d.plasticity,
      norm: d.norm,
      delay: d.delay,
    },
  };
  return { spec, steps, excitatoryId: exc.id, data };
}
