/**
 * The sweep request (POST /v1/sweeps): a base experiment (preset request or full definition),
 * parameters addressed by JSON Pointer into the *resolved* base definition, seeds per point, the
 * objective, optional successive halving and a budget. Every list and string is bounded here;
 * the number of trials is bounded by MAX_SWEEP_TRIALS (src/config.ts) when the sweep is expanded.
 */
import { z } from 'zod';
import { MAX_POINTER_LENGTH } from './pointer.js';

export const MAX_SWEEP_PARAMETERS = 8;
export const MAX_VALUES_PER_PARAMETER = 64;
export const MAX_SEEDS_PER_POINT = 32;
export const MAX_RUNGS = 8;
/** Serialized size of one grid/choice value (values may be objects, e.g. a whole encoder). */
export const MAX_VALUE_BYTES = 4096;

const pointer = z
  .string()
  .min(1)
  .max(MAX_POINTER_LENGTH)
  .describe('JSON Pointer (RFC 6901) into the resolved definition, e.g. "/encoder/maxRateHz" or "/layers/1/thetaPlusMv".');

const jsonValue = z.unknown().refine(
  (v) => {
    if (v === undefined) return false;
    try {
      return JSON.stringify(v).length <= MAX_VALUE_BYTES;
    } catch {
      return false;
    }
  },
  { message: `must be a JSON value of at most ${MAX_VALUE_BYTES} bytes` },
);
const values = z.array(jsonValue).min(1).max(MAX_VALUES_PER_PARAMETER);
const finite = z.number().finite();

export const sweepParameterSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('grid'), path: pointer, values }).strict().describe('Every value, crossed with the other grid parameters.'),
  z
    .object({ type: z.literal('uniform'), path: pointer, min: finite, max: finite, integer: z.boolean().default(false) })
    .strict()
    .describe('Uniform in [min, max] (rounded when integer), drawn once per random sample.'),
  z
    .object({
      type: z.literal('log-uniform'),
      path: pointer,
      min: z.number().positive().finite(),
      max: z.number().positive().finite(),
      integer: z.boolean().default(false),
    })
    .strict()
    .describe('Log-uniform in [min, max], drawn once per random sample.'),
  z.object({ type: z.literal('choice'), path: pointer, values }).strict().describe('One of the values, drawn once per random sample.'),
]);
export type SweepParameter = z.output<typeof sweepParameterSchema>;

export const objectives = ['validation-all-activity', 'validation-proportion'] as const;
export type Objective = (typeof objectives)[number];

export const sweepRequestSchema = z
  .object({
    name: z.string().max(200).default(''),
    /** A preset request (`{"preset": …}`) or a full definition, exactly as POST /v1/experiments takes it. */
    base: z.record(z.string(), z.unknown()),
    parameters: z.array(sweepParameterSchema).min(1).max(MAX_SWEEP_PARAMETERS),
    /** Random points drawn (each draws every random parameter); required when a parameter is random. */
    samples: z.number().int().positive().optional(),
    /** Seed of the sampler of random parameters. */
    seed: z.number().int().nonnegative().max(2 ** 32 - 1).default(0),
    /** Runs per point: a count n (the base seed, +1, …, +n−1) or the list of engine seeds. */
    seeds: z
      .union([
        z.number().int().min(1).max(MAX_SEEDS_PER_POINT),
        z.array(z.number().int().nonnegative().max(2 ** 32 - 1)).min(1).max(MAX_SEEDS_PER_POINT),
      ])
      .default(1),
    /** What is maximized: validation accuracy by all-activity or proportion-weighted votes (never test accuracy). */
    objective: z.enum(objectives).default('validation-all-activity'),
    /**
     * Successive halving: every point first trains on `rungs[0]` samples, the best `keep` fraction
     * (by mean objective over its seeds) is rerun from scratch on `rungs[1]`, …, and the survivors
     * of the last rung run the base definition's full training size.
     */
    successiveHalving: z
      .object({
        rungs: z.array(z.number().int().positive()).min(1).max(MAX_RUNGS),
        keep: z.number().gt(0).lt(1).default(0.5),
      })
      .strict()
      .optional(),
    budget: z
      .object({
        /** At most this many trials (points × seeds) in the first rung. */
        maxTrials: z.number().int().positive().optional(),
        /** Upper bound of the total cost (the server's cost model, src/experiment/cost.ts): rejected if the plan could exceed it. */
        maxTotalCost: z.number().positive().finite().optional(),
      })
      .strict()
      .default({}),
  })
  .strict();
export type SweepRequest = z.output<typeof sweepRequestSchema>;
