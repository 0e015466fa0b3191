/**
 * The experiment definition: SpikeLab's public contract.
 *
 * A definition is declarative data only (numbers, enums, names); nothing in it is ever executed.
 * Units are in the field names' doc comments: mV for potentials, ms for times, Hz for rates.
 * The network family is the Diehl & Cook one: an input layer, an excitatory layer (LIF or
 * adaptive-threshold LIF) and an optional inhibitory LIF layer, wired by a dense learnable
 * input connection, a one-to-one excitatory→inhibitory connection and an all-but-self
 * inhibitory→excitatory connection. `compileDefinition` (topology.ts) checks that shape and names
 * the offending field when a definition does not fit it.
 */
import { z } from 'zod';

/** Upper bound of every time constant (ms): ~31 years, far beyond any model, still a finite number. */
export const MAX_TIME_CONSTANT_MS = 1e12;
const ms = (d: number) => z.number().positive().max(MAX_TIME_CONSTANT_MS).default(d);
const mV = (d: number) => z.number().finite().default(d);

export const inputLayerSchema = z
  .object({
    id: z.string().min(1).max(32),
    type: z.literal('input'),
    /** Number of input neurons; 784 for 28×28 MNIST images. */
    size: z.number().int().positive(),
    /** Time constant of the presynaptic trace used by STDP (ms). */
    traceTauMs: ms(20),
  })
  .strict();

export const lifLayerSchema = z
  .object({
    id: z.string().min(1).max(32),
    type: z.literal('lif'),
    size: z.number().int().positive(),
    restMv: mV(-60),
    resetMv: mV(-45),
    thresholdMv: mV(-40),
    /** Absolute refractory period (ms) during which input is ignored. */
    refractoryMs: z.number().nonnegative().max(10_000).default(2),
    /** Membrane time constant (ms). */
    tauMs: ms(10),
    traceTauMs: ms(20),
  })
  .strict();

export const adaptiveLifLayerSchema = z
  .object({
    id: z.string().min(1).max(32),
    type: z.literal('adaptive-lif'),
    size: z.number().int().positive(),
    restMv: mV(-65),
    resetMv: mV(-60),
    thresholdMv: mV(-52),
    refractoryMs: z.number().nonnegative().max(10_000).default(5),
    tauMs: ms(100),
    traceTauMs: ms(20),
    /** Threshold increment on each spike (mV). */
    thetaPlusMv: z.number().nonnegative().finite().default(0.05),
    /** Time constant of the threshold's decay (ms). */
    tauThetaMs: ms(1e7),
    /** At most one spike of this layer propagates per step (BindsNET's `one_spike`). */
    oneSpikePerStep: z.boolean().default(true),
  })
  .strict();

export const layerSchema = z.discriminatedUnion('type', [inputLayerSchema, lifLayerSchema, adaptiveLifLayerSchema]);

export const weightInitSchema = z.discriminatedUnion('dist', [
  z.object({ dist: z.literal('uniform'), low: z.number().finite().default(0), high: z.number().finite().default(0.3) }).strict(),
  z.object({ dist: z.literal('constant'), value: z.number().finite() }).strict(),
]);

export const postPreRuleSchema = z
  .object({
    rule: z.literal('post-pre'),
    /** Depression rate on a presynaptic spike: w -= nuPre · postTrace. */
    nuPre: z.number().nonnegative().finite().default(1e-4),
    /** Potentiation rate on a postsynaptic spike: w += nuPost · preTrace. */
    nuPost: z.number().nonnegative().finite().default(1e-2),
  })
  .strict();

export const denseConnectionSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    type: z.literal('dense'),
    init: weightInitSchema.default({ dist: 'uniform', low: 0, high: 0.3 }),
    wMin: z.number().finite().default(0),
    wMax: z.number().finite().default(1),
    plasticity: postPreRuleSchema.nullable().default({ rule: 'post-pre', nuPre: 1e-4, nuPost: 1e-2 }),
    /** Sum every postsynaptic neuron's incoming weights are scaled to after each sample; null = off. */
    norm: z.number().positive().finite().nullable().default(78.4),
  })
  .strict();

export const oneToOneConnectionSchema = z
  .object({ from: z.string(), to: z.string(), type: z.literal('one-to-one'), weight: z.number().finite() })
  .strict();

export const allButSelfConnectionSchema = z
  .object({ from: z.string(), to: z.string(), type: z.literal('all-but-self'), weight: z.number().finite() })
  .strict();

export const connectionSchema = z.discriminatedUnion('type', [
  denseConnectionSchema,
  oneToOneConnectionSchema,
  allButSelfConnectionSchema,
]);

export const encoderSchema = z
  .object({
    /**
     * bindsnet-poisson: BindsNET's interval encoder (Poisson-distributed inter-spike intervals);
     * bernoulli: independent per-step spikes with p = rate·dt; latency: one spike per non-zero
     * pixel, brighter pixels earlier.
     */
    type: z.enum(['bindsnet-poisson', 'bernoulli', 'latency']).default('bindsnet-poisson'),
    /** Rate of a 255 pixel (Hz); rate = pixel/255 · maxRateHz. */
    maxRateHz: z.number().positive().finite().default(128),
  })
  .strict();

export const datasetSchema = z
  .object({
    name: z.literal('mnist').default('mnist'),
    /** Training images used per epoch (taken from the 60,000 after the validation split). */
    train: z.number().int().nonnegative().default(60000),
    /** Test images (the first M of the 10,000 test set). */
    test: z.number().int().nonnegative().default(10000),
    /** Images held out of the END of the training set for validation (never trained on). */
    validation: z.number().int().nonnegative().default(0),
    shuffle: z.boolean().default(true),
  })
  .strict();

export const evaluationSchema = z
  .object({
    /** Labels are (re)assigned every this many training samples (eth_mnist's update_interval). */
    labelUpdateInterval: z.number().int().positive().default(250),
    /**
     * Which labels the test uses. `training-windows` (eth_mnist): the labels accumulated over the
     * training windows. `frozen-pass` (Diehl & Cook 2015): after training, learning is switched off
     * and labels are assigned from one pass over `labelSamples` training images.
     */
    assignment: z.enum(['training-windows', 'frozen-pass']).default('training-windows'),
    /** Training images (from the start of the training pool) used by the frozen labelling pass. */
    labelSamples: z.number().int().positive().max(60000).default(10000),
  })
  .strict();

export const streamSchema = z
  .object({
    /** Emit a progress event every this many samples. */
    progressEvery: z.number().int().positive().default(50),
    /** Record the spike raster of every k-th sample (0 = never). */
    spikesEvery: z.number().int().nonnegative().default(50),
    /** Emit a weight snapshot every k samples (0 = never). */
    weightsEvery: z.number().int().nonnegative().default(500),
    /** Neurons of the excitatory layer whose membrane voltage is recorded with the spike raster. */
    voltageNeurons: z.array(z.number().int().nonnegative()).max(16).default([0]),
  })
  .strict();

export const experimentDefinitionSchema = z
  .object({
    name: z.string().max(200).default(''),
    seed: z.number().int().nonnegative().max(2 ** 32 - 1).default(0),
    /** Integration step (ms). */
    dtMs: z.number().min(0.001).max(1000).default(1),
    /** Presentation time of each sample (ms); MAX_TIME_PER_SAMPLE_MS may lower the bound. */
    timePerSampleMs: z.number().positive().max(10_000).default(250),
    /** Silent simulation between samples (ms); state is reset anyway, so 0 is the BindsNET default. */
    restMs: z.number().nonnegative().max(60_000).default(0),
    epochs: z.number().int().positive().default(1),
    dataset: datasetSchema.default({ name: 'mnist', train: 60000, test: 10000, validation: 0, shuffle: true }),
    encoder: encoderSchema.default({ type: 'bindsnet-poisson', maxRateHz: 128 }),
    layers: z.array(layerSchema).min(2).max(3),
    connections: z.array(connectionSchema).min(1).max(3),
    evaluation: evaluationSchema.default({ labelUpdateInterval: 250, assignment: 'training-windows', labelSamples: 10000 }),
    stream: streamSchema.default({ progressEvery: 50, spikesEvery: 50, weightsEvery: 500, voltageNeurons: [0] }),
    /**
     * Diehl & Cook's re-presentation: a sample that drew fewer than `belowSpikes` excitatory spikes
     * is presented again with the input rate raised by `rateStepHz`, up to `maxRepeats` times
     * (training and evaluation alike). belowSpikes = 0 turns it off (BindsNET's default).
     */
    represent: z
      .object({
        belowSpikes: z.number().int().nonnegative().default(0),
        rateStepHz: z.number().positive().finite().default(32),
        maxRepeats: z.number().int().nonnegative().max(20).default(5),
      })
      .strict()
      .default({ belowSpikes: 0, rateStepHz: 32, maxRepeats: 5 }),
    /** Save the full engine state every k training samples (0 = never). */
    checkpointEvery: z.number().int().nonnegative().default(1000),
  })
  .strict();

export type ExperimentDefinition = z.output<typeof experimentDefinitionSchema>;
export type ExperimentDefinitionInput = z.input<typeof experimentDefinitionSchema>;
export type InputLayer = z.output<typeof inputLayerSchema>;
export type LifLayer = z.output<typeof lifLayerSchema>;
export type AdaptiveLifLayer = z.output<typeof adaptiveLifLayerSchema>;
export type DenseConnection = z.output<typeof denseConnectionSchema>;
export type EncoderSpec = z.output<typeof encoderSchema>;
