/**
 * The experiment definition: SpikeLab's public contract.
 *
 * A definition is declarative data only (numbers, enums, names); nothing in it is ever executed.
 * Units are in the field names' doc comments: mV for potentials, ms for times, Hz for rates.
 * The network family is the Diehl & Cook one: an input layer, an excitatory layer (LIF or
 * adaptive-threshold LIF) and an optional inhibitory LIF layer, wired by a dense learnable
 * input connection (with a choice of learning rules and optional delays), a one-to-one
 * excitatory→inhibitory connection and an all-but-self inhibitory→excitatory connection; each
 * LIF layer takes current-jump or conductance synapses. docs/models.md states every equation. `compileDefinition` (topology.ts) checks that shape and names
 * the offending field when a definition does not fit it.
 */
import { z } from 'zod';
import { plasticitySchema, tau } from '../engine/rules.js';

/** Upper bound of every time constant (ms): ~31 years, far beyond any model, still a finite number. */
export const MAX_TIME_CONSTANT_MS = 1e12;
const ms = (d: number) => z.number().positive().max(MAX_TIME_CONSTANT_MS).default(d);

/**
 * How a spike of the layer's inputs acts: `current` adds the weight to the membrane potential (mV,
 * BindsNET); `conductance` adds it to an excitatory or inhibitory conductance that decays with
 * its time constant and drives v toward its reversal potential (Diehl & Cook's Brian model).
 */
export const synapseSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('current') }).strict().describe('A spike adds its weight to the membrane potential (mV jump), as BindsNET.'),
  z
    .object({
      type: z.literal('conductance'),
      excTauMs: tau(1).describe('Decay time constant of the excitatory conductance ge (ms).'),
      inhTauMs: tau(2).describe('Decay time constant of the inhibitory conductance gi (ms).'),
      excReversalMv: z.number().finite().default(0).describe('Reversal potential of ge (mV).'),
      inhReversalMv: z.number().finite().default(-100).describe('Reversal potential of gi (mV); Diehl & Cook: −100 excitatory layer, −85 inhibitory.'),
    })
    .strict()
    .describe('A spike adds its weight to ge (from input/excitatory) or gi (from inhibitory); v follows dv/dt = ((rest − v) + ge·(Ee − v) + gi·(Ei − v))/τ (Euler), as Diehl & Cook\'s Brian code.'),
]);
const synapse = synapseSchema.default({ type: 'current' });
const mV = (d: number) => z.number().finite().default(d);

export const inputLayerSchema = z
  .object({
    id: z.string().min(1).max(32),
    type: z.literal('input'),
    /** Number of input neurons: the dataset's height × width × channels (784 for 28×28 MNIST). */
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
    synapse,
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
    /** Initial θ (mV); Diehl & Cook start at 20 mV with the threshold 20 mV lower. */
    thetaInitMv: z.number().finite().default(0).describe('Initial adaptive threshold θ (mV).'),
    /** At most one spike of this layer propagates per step (BindsNET's `one_spike`). */
    oneSpikePerStep: z.boolean().default(true),
    /**
     * After a spike the neuron cannot spike again for this long (ms), whatever v does; v is still held
     * only for refractoryMs. 0: no gate, the spike test looks at v alone (BindsNET). The released
     * Diehl & Cook code gates its spike test with `timer > refrac_e`, its timer running at 0.1 ms
     * per ms: 50 ms.
     */
    spikeLockoutMs: z
      .number()
      .nonnegative()
      .max(10_000)
      .default(0)
      .describe('No spike until more than this many ms after the previous one (v is held only for refractoryMs). 0: no gate (BindsNET). The released Diehl & Cook code: 50.'),
    synapse,
  })
  .strict();

export const layerSchema = z.discriminatedUnion('type', [inputLayerSchema, lifLayerSchema, adaptiveLifLayerSchema]);

export const weightInitSchema = z.discriminatedUnion('dist', [
  z.object({ dist: z.literal('uniform'), low: z.number().finite().default(0), high: z.number().finite().default(0.3) }).strict(),
  z.object({ dist: z.literal('constant'), value: z.number().finite() }).strict(),
]);

export { plasticitySchema, postPreRuleSchema } from '../engine/rules.js';

export const denseConnectionSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    type: z.literal('dense'),
    init: weightInitSchema.default({ dist: 'uniform', low: 0, high: 0.3 }),
    wMin: z.number().finite().default(0),
    wMax: z.number().finite().default(1),
    plasticity: plasticitySchema.nullable().default({ rule: 'post-pre', nuPre: 1e-4, nuPost: 1e-2 }),
    /**
     * Per-synapse transmission delay on top of the one-step delay every connection has: uniform in
     * [minMs, maxMs], drawn once; null = none. Learning sees the presynaptic spike when it is emitted.
     */
    delay: z
      .object({ minMs: z.number().nonnegative().max(250).default(0), maxMs: z.number().nonnegative().max(250).default(10) })
      .strict()
      .nullable()
      .default(null)
      .describe('Per-synapse transmission delay (ms) on top of the one-step delay of every connection, uniform in [minMs, maxMs] and drawn once; at most 250 steps of dtMs. null: none. Learning sees a presynaptic spike when it is emitted.'),
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

export const encoderTypeSchema = z.enum(['bindsnet-poisson', 'poisson', 'bernoulli', 'latency']);

export const encoderSchema = z
  .object({
    /**
     * bindsnet-poisson: BindsNET's interval encoder (Poisson-distributed inter-spike intervals, a
     * renewal process); poisson (= bernoulli): a Poisson process, independent per-step spikes
     * with p = rate·dt (the paper's input); latency: one spike per non-zero pixel, brighter earlier.
     */
    type: encoderTypeSchema.default('bindsnet-poisson'),
    /** Rate of a 255 pixel (Hz); rate = pixel/255 · maxRateHz. */
    maxRateHz: z.number().positive().finite().default(128),
  })
  .strict();

const splitFields = {
  /** Images held out of the END of the training set for validation (never trained on). */
  validation: z.number().int().nonnegative().default(0),
  shuffle: z.boolean().default(true),
};

export const mnistDatasetSchema = z
  .object({
    name: z.literal('mnist'),
    /** Training images used per epoch (taken from the 60,000 after the validation split). */
    train: z.number().int().nonnegative().default(60000),
    /** Test images (the first M of the 10,000 test set). */
    test: z.number().int().nonnegative().default(10000),
    ...splitFields,
  })
  .strict();

/**
 * What the server learned about an uploaded dataset when the experiment was submitted. Filled in
 * by the server (anything a client sends here is replaced), so the stored definition says exactly
 * which bytes it trained on and the engine needs no database to size its input layer.
 */
export const resolvedDatasetSchema = z
  .object({
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    kind: z.enum(['images', 'events']),
    height: z.number().int().positive().max(1024),
    width: z.number().int().positive().max(1024),
    /** Input channels per pixel: 1 for images, 2 (ON, OFF) for event streams. */
    channels: z.number().int().min(1).max(2),
    classes: z.number().int().min(1).max(256),
    labelled: z.boolean(),
    trainCount: z.number().int().nonnegative(),
    testCount: z.number().int().nonnegative(),
  })
  .strict();

/** An uploaded dataset (`POST /v1/datasets`), named by its id. */
export const uploadedDatasetSchema = z
  .object({
    name: z.literal('upload'),
    id: z.string().min(1).max(128),
    /** Training samples per epoch; default (and at most): every training sample not held out for validation. */
    train: z.number().int().nonnegative().optional(),
    /** Test samples; default: all. */
    test: z.number().int().nonnegative().optional(),
    ...splitFields,
    resolved: resolvedDatasetSchema.optional(),
  })
  .strict();

/**
 * Oriented bars or sinusoidal gratings at `orientations` angles evenly spaced over 180°, generated
 * from `dataSeed` (no download). The label is the orientation index, so accuracy measures how well
 * the neurons' votes tell orientations apart; the result adds each neuron's orientation tuning.
 */
export const orientedBarsDatasetSchema = z
  .object({
    name: z.literal('oriented-bars'),
    /** Images are side×side pixels. */
    side: z.number().int().min(4).max(64).default(16),
    orientations: z.number().int().min(2).max(36).default(8),
    pattern: z.enum(['bar', 'grating']).default('bar'),
    /** Bar width (pixels) or grating period (pixels). */
    barWidth: z.number().positive().max(32).default(2),
    /** Uniform random offset of the bar/grating phase, in pixels, ±jitter. */
    jitter: z.number().nonnegative().max(32).default(2),
    /** Standard deviation of Gaussian pixel noise as a fraction of full intensity. */
    noise: z.number().nonnegative().max(1).default(0.1),
    train: z.number().int().nonnegative().max(100000).default(2000),
    test: z.number().int().nonnegative().max(100000).default(400),
    dataSeed: z.number().int().nonnegative().max(2 ** 32 - 1).default(0),
    ...splitFields,
  })
  .strict();

/**
 * Bars moving across the field in `directions` directions evenly spaced over 360°, as ON/OFF
 * address-events (DVS-like): an ON event where a pixel brightens, OFF where it darkens.
 */
export const movingBarsDatasetSchema = z
  .object({
    name: z.literal('moving-bars'),
    side: z.number().int().min(4).max(64).default(16),
    directions: z.number().int().min(2).max(36).default(8),
    barWidth: z.number().positive().max(32).default(2),
    /** Speed of the bar (pixels per ms). */
    speed: z.number().positive().max(10).default(0.1),
    /** Probability that a pixel change emits its event (1 = noiseless). */
    eventProbability: z.number().positive().max(1).default(0.9),
    /** Spurious events per pixel per second. */
    noiseHz: z.number().nonnegative().max(1000).default(1),
    train: z.number().int().nonnegative().max(100000).default(2000),
    test: z.number().int().nonnegative().max(100000).default(400),
    dataSeed: z.number().int().nonnegative().max(2 ** 32 - 1).default(0),
    ...splitFields,
  })
  .strict();

/**
 * Which data the experiment learns. `{"id": "…"}` is short for an uploaded dataset
 * (`{"name": "upload", "id": "…"}`); an object without name and id is MNIST (the default).
 */
export const datasetSchema = z.preprocess(
  (v) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v) || 'name' in v) return v;
    return 'id' in v ? { name: 'upload', ...v } : { name: 'mnist', ...v };
  },
  z.discriminatedUnion('name', [mnistDatasetSchema, uploadedDatasetSchema, orientedBarsDatasetSchema, movingBarsDatasetSchema]),
);

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
    dtMs: z.number().min(0.01).max(10).default(1),
    /** Presentation time of each sample (ms); MAX_TIME_PER_SAMPLE_MS may lower the bound. */
    timePerSampleMs: z.number().positive().max(10_000).default(250),
    /**
     * Time between two samples (ms). With `resetBetweenSamples` (BindsNET) the state is reset at
     * each sample and only θ decays over this time; without it the network runs this long with no
     * input (Diehl & Cook: 150 ms) and carries its state into the next sample.
     */
    restBetweenSamplesMs: z
      .number()
      .nonnegative()
      .max(10000)
      .default(0)
      .describe('Time between two samples (ms): with resetBetweenSamples only θ decays over it; without, the network runs this long with no input (Diehl & Cook: 150 ms).'),
    resetBetweenSamples: z
      .boolean()
      .default(true)
      .describe('Reset potentials, conductances, traces and delay lines at every sample (BindsNET); false carries them across samples (Brian).'),
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
export type DatasetSpec = z.output<typeof datasetSchema>;
export type ResolvedDataset = z.output<typeof resolvedDatasetSchema>;
