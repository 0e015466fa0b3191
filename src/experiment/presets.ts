/**
 * Presets: short requests that expand to a full experiment definition.
 *
 * `diehl-cook-2015` is BindsNET's `DiehlAndCook2015` as `examples/mnist/eth_mnist.py` runs it
 * (exc=22.5, inh=120, theta_plus=0.05, nu=(1e-4, 1e-2), norm=78.4, 250 ms at 128 Hz, one_spike,
 * labels accumulated over training windows).
 *
 * `diehl-cook-2015-hybrid` is BindsNET's network and learning rule with the paper's input and
 * evaluation protocol: pixels up to 63.75 Hz for 350 ms, a sample that drew fewer than 5
 * excitatory spikes presented again 32 Hz brighter, and labels assigned after training from a
 * frozen pass over 10,000 training images. Chosen on a validation split (README). It is not the
 * paper's model.
 *
 * `diehl-cook-2015-original` is the network of the paper's released Brian code (Diehl & Cook,
 * stdp-mnist): conductance synapses, their learning rule with two post traces, 0–10 ms input
 * delays, dt 0.5 ms, 350 ms presentation + 150 ms rest with the state carried over, a Poisson
 * process at pixel/4 Hz, re-presentation at +pixel/8 Hz, θ starting at 20 mV with the threshold
 * offset by −20 mV, no spike within 50 ms of the last (its `timer` gate), fixed E→I 10.4 and I→E 17
 * weights, labels from a frozen pass. The README lists
 * what still differs from that code.
 */
import { z } from 'zod';
import { dataShape } from './topology.js';
import {
  datasetSchema,
  experimentDefinitionSchema,
  encoderTypeSchema,
  streamSchema,
  type ExperimentDefinition,
  type ExperimentDefinitionInput,
} from './schema.js';

export const presetNames = ['diehl-cook-2015', 'diehl-cook-2015-hybrid', 'diehl-cook-2015-original'] as const;

export const presetRequestSchema = z
  .object({
    preset: z.enum(presetNames),
    name: z.string().max(200).optional(),
    neurons: z.number().int().positive().default(100),
    /**
     * The data (default MNIST): `{"id": "…"}` of an uploaded dataset, `{"name": "oriented-bars", …}`,
     * … as in a full definition; `train`, `test`, `validation` and `shuffle` below override its own.
     */
    dataset: datasetSchema.optional(),
    /** Training images per epoch; default: every image not held out for validation. */
    train: z.number().int().nonnegative().optional(),
    /** Test images; default: MNIST's 10,000, another dataset's own default. */
    test: z.number().int().nonnegative().optional(),
    validation: z.number().int().nonnegative().max(60000).optional(),
    epochs: z.number().int().positive().default(1),
    seed: z.number().int().nonnegative().max(2 ** 32 - 1).default(0),
    timePerSampleMs: z.number().positive().finite().optional(),
    dtMs: z.number().min(0.01).max(10).optional(),
    restBetweenSamplesMs: z.number().nonnegative().max(10000).optional(),
    encoder: encoderTypeSchema.optional(),
    maxRateHz: z.number().positive().finite().optional(),
    nuPre: z.number().nonnegative().finite().optional(),
    nuPost: z.number().nonnegative().finite().optional(),
    thetaPlusMv: z.number().nonnegative().finite().optional(),
    excToInhWeight: z.number().finite().optional(),
    inhToExcWeight: z.number().finite().optional(),
    norm: z.number().positive().finite().optional(),
    labelUpdateInterval: z.number().int().positive().optional(),
    assignment: z.enum(['training-windows', 'frozen-pass']).optional(),
    labelSamples: z.number().int().positive().max(60000).optional(),
    representBelowSpikes: z.number().int().nonnegative().optional(),
    oneSpikePerStep: z.boolean().optional(),
    spikeLockoutMs: z.number().nonnegative().max(10_000).optional(),
    shuffle: z.boolean().optional(),
    checkpointEvery: z.number().int().nonnegative().optional(),
    stream: streamSchema.partial().optional(),
  })
  .strict();

export type PresetRequest = z.input<typeof presetRequestSchema>;

/** Expands a preset request into the input form of a full definition (defaults not yet applied). */
export function expandPreset(req: z.output<typeof presetRequestSchema>): ExperimentDefinitionInput {
  if (req.preset === 'diehl-cook-2015-original') return expandOriginal(req);
  const n = req.neurons;
  const paper = req.preset === 'diehl-cook-2015-hybrid';
  return {
    name: req.name ?? `${req.preset} (${n} neurons)`,
    seed: req.seed,
    dtMs: req.dtMs ?? 1,
    timePerSampleMs: req.timePerSampleMs ?? (paper ? 350 : 250),
    restBetweenSamplesMs: req.restBetweenSamplesMs ?? 0,
    epochs: req.epochs,
    dataset: expandDataset(req),
    encoder: { type: req.encoder ?? 'bindsnet-poisson', maxRateHz: req.maxRateHz ?? (paper ? 63.75 : 128) },
    layers: [
      { id: 'X', type: 'input', size: inputSize(expandDataset(req)), traceTauMs: 20 },
      {
        id: 'Ae',
        type: 'adaptive-lif',
        size: n,
        restMv: -65,
        resetMv: -60,
        thresholdMv: -52,
        refractoryMs: 5,
        tauMs: 100,
        traceTauMs: 20,
        thetaPlusMv: req.thetaPlusMv ?? 0.05,
        tauThetaMs: 1e7,
        oneSpikePerStep: req.oneSpikePerStep ?? true,
        spikeLockoutMs: req.spikeLockoutMs ?? 0,
      },
      { id: 'Ai', type: 'lif', size: n, restMv: -60, resetMv: -45, thresholdMv: -40, refractoryMs: 2, tauMs: 10, traceTauMs: 20 },
    ],
    connections: [
      {
        from: 'X',
        to: 'Ae',
        type: 'dense',
        init: { dist: 'uniform', low: 0, high: 0.3 },
        wMin: 0,
        wMax: 1,
        plasticity: { rule: 'post-pre', nuPre: req.nuPre ?? 1e-4, nuPost: req.nuPost ?? 1e-2 },
        norm: req.norm ?? 78.4,
      },
      { from: 'Ae', to: 'Ai', type: 'one-to-one', weight: req.excToInhWeight ?? 22.5 },
      { from: 'Ai', to: 'Ae', type: 'all-but-self', weight: req.inhToExcWeight ?? -120 },
    ],
    evaluation: {
      labelUpdateInterval: req.labelUpdateInterval ?? 250,
      assignment: req.assignment ?? (paper ? 'frozen-pass' : 'training-windows'),
      labelSamples: req.labelSamples ?? 10000,
    },
    represent: { belowSpikes: req.representBelowSpikes ?? (paper ? 5 : 0), rateStepHz: 32, maxRepeats: 5 },
    stream: req.stream,
    checkpointEvery: req.checkpointEvery,
  };
}

/** The network of Diehl & Cook's released Brian code (see the header). */
function expandOriginal(req: z.output<typeof presetRequestSchema>): ExperimentDefinitionInput {
  const n = req.neurons;
  const conductance = (inhReversalMv: number) => ({ type: 'conductance' as const, excTauMs: 1, inhTauMs: 2, excReversalMv: 0, inhReversalMv });
  return {
    name: req.name ?? `${req.preset} (${n} neurons)`,
    seed: req.seed,
    dtMs: req.dtMs ?? 0.5,
    timePerSampleMs: req.timePerSampleMs ?? 350,
    restBetweenSamplesMs: req.restBetweenSamplesMs ?? 150,
    resetBetweenSamples: false,
    epochs: req.epochs,
    dataset: expandDataset(req),
    // input_intensity 2: rate = pixel/8·2 Hz, a Poisson process (Brian's PoissonGroup).
    encoder: { type: req.encoder ?? 'poisson', maxRateHz: req.maxRateHz ?? 63.75 },
    layers: [
      { id: 'X', type: 'input', size: inputSize(expandDataset(req)), traceTauMs: 20 },
      {
        id: 'Ae',
        type: 'adaptive-lif',
        size: n,
        restMv: -65,
        resetMv: -65,
        // v_thresh_e − offset: θ starts at 20 mV, so the first threshold is −52 mV.
        thresholdMv: -72,
        thetaInitMv: 20,
        refractoryMs: 5,
        tauMs: 100,
        traceTauMs: 20,
        thetaPlusMv: req.thetaPlusMv ?? 0.05,
        tauThetaMs: 1e7,
        oneSpikePerStep: req.oneSpikePerStep ?? false,
        // `timer > refrac_e` with `dtimer/dt = 100.0 : ms`, read as 0.1 ms per ms (docs/models.md).
        spikeLockoutMs: req.spikeLockoutMs ?? 50,
        synapse: conductance(-100),
      },
      { id: 'Ai', type: 'lif', size: n, restMv: -60, resetMv: -45, thresholdMv: -40, refractoryMs: 2, tauMs: 10, traceTauMs: 20, synapse: conductance(-85) },
    ],
    connections: [
      {
        from: 'X',
        to: 'Ae',
        type: 'dense',
        // (rand + 0.01)·0.3
        init: { dist: 'uniform', low: 0.003, high: 0.303 },
        wMin: 0,
        wMax: 1,
        plasticity: { rule: 'diehl-cook', nuPre: req.nuPre ?? 1e-4, nuPost: req.nuPost ?? 1e-2, tauPreMs: 20, tauPost1Ms: 20, tauPost2Ms: 40 },
        norm: req.norm ?? 78,
        delay: { minMs: 0, maxMs: 10 },
      },
      { from: 'Ae', to: 'Ai', type: 'one-to-one', weight: req.excToInhWeight ?? 10.4 },
      { from: 'Ai', to: 'Ae', type: 'all-but-self', weight: req.inhToExcWeight ?? 17 },
    ],
    evaluation: {
      labelUpdateInterval: req.labelUpdateInterval ?? 10000,
      assignment: req.assignment ?? 'frozen-pass',
      labelSamples: req.labelSamples ?? 10000,
    },
    // input_intensity += 1 per repeat: +pixel/8 Hz, +31.875 Hz at 255.
    represent: { belowSpikes: req.representBelowSpikes ?? 5, rateStepHz: 31.875, maxRepeats: 20 },
    stream: req.stream,
    checkpointEvery: req.checkpointEvery,
  };
}

type PresetOutput = z.output<typeof presetRequestSchema>;

function expandDataset(req: PresetOutput): z.output<typeof datasetSchema> {
  const validation = req.validation ?? req.dataset?.validation ?? 0;
  const ds = req.dataset ?? { name: 'mnist' as const, train: 60000 - validation, test: 10000, validation, shuffle: true };
  const train = req.train ?? (ds.name === 'mnist' ? 60000 - validation : ds.train);
  return {
    ...ds,
    validation,
    shuffle: req.shuffle ?? ds.shuffle,
    ...(train !== undefined ? { train } : {}),
    ...(req.test !== undefined ? { test: req.test } : {}),
  } as z.output<typeof datasetSchema>;
}

/**
 * Input neurons of the preset's network: the dataset's height·width·channels. An uploaded dataset's
 * shape is only known once the server has looked it up: until then 784, and the server replaces it
 * (ExperimentService.submit).
 */
function inputSize(ds: z.output<typeof datasetSchema>): number {
  if (ds.name === 'upload' && !ds.resolved) return 784;
  const s = dataShape(ds);
  return s.height * s.width * s.channels;
}

/** A request body is either a full definition or `{preset, ...overrides}`. */
export const experimentRequestSchema = z.union([presetRequestSchema, experimentDefinitionSchema]);

/**
 * Parses a request (preset or full definition) into a complete definition.
 * Throws the zod error of the branch the request was meant for, so field paths are meaningful.
 */
export function resolveDefinition(body: unknown): ExperimentDefinition {
  if (body !== null && typeof body === 'object' && 'preset' in body) {
    const req = presetRequestSchema.parse(body);
    return experimentDefinitionSchema.parse(expandPreset(req));
  }
  return experimentDefinitionSchema.parse(body);
}

export function listPresets(): { name: string; description: string; definition: ExperimentDefinition }[] {
  return [
    {
      name: 'diehl-cook-2015',
      description:
        'Diehl & Cook (2015) as BindsNET eth_mnist runs it: Poisson-interval input at 128 Hz for 250 ms, adaptive-threshold excitatory layer with post-pre STDP and weight normalization, winner-take-all inhibition, labels from the training windows.',
      definition: resolveDefinition({ preset: 'diehl-cook-2015' }),
    },
    {
      name: 'diehl-cook-2015-hybrid',
      description:
        "BindsNET's network and rule with the paper's protocol (not the paper's model): input up to 63.75 Hz for 350 ms, quiet samples re-presented 32 Hz brighter, labels from a frozen pass over 10,000 training images.",
      definition: resolveDefinition({ preset: 'diehl-cook-2015-hybrid' }),
    },
    {
      name: 'diehl-cook-2015-original',
      description:
        "The paper's own network as its released code runs it: conductance synapses, Diehl & Cook's two-trace STDP rule, 0–10 ms input delays, dt 0.5 ms, 350 ms + 150 ms rest, Poisson input at pixel/4 Hz, labels from a frozen pass.",
      definition: resolveDefinition({ preset: 'diehl-cook-2015-original' }),
    },
  ];
}
