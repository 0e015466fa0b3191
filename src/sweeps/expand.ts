/**
 * Expands a sweep request into its plan (points, seeds, stages) and the trial definitions, each
 * validated through the normal definition path (resolveDefinition's schema + compileDefinition,
 * plus the caller's server limits) before anything is queued. Errors name the request field:
 * `parameters.2.path`, `parameters.0.values.3`, `base.dataset.validation`, ….
 */
import { ZodError } from 'zod';
import { InvalidInput, LimitExceeded } from '../domain-errors.js';
import { experimentCost, formatCost } from '../experiment/cost.js';
import { resolveDefinition } from '../experiment/presets.js';
import { experimentDefinitionSchema, type ExperimentDefinition } from '../experiment/schema.js';
import { compileDefinition, DefinitionError } from '../experiment/topology.js';
import { getAt, PointerError, setAt } from './pointer.js';
import { Sampler } from './sampler.js';
import type { Objective, SweepParameter, SweepRequest } from './schema.js';

export class SweepValidationError extends Error {
  constructor(
    readonly field: string,
    message: string,
    readonly code: 'validation_error' | 'limit_exceeded' = 'validation_error',
  ) {
    super(message);
  }
}

export interface SweepPoint {
  index: number;
  /** pointer → value */
  parameters: Record<string, unknown>;
}

/** Everything the coordinator needs to derive any trial's definition, stored with the sweep. */
export interface SweepPlan {
  name: string;
  objective: Objective;
  base: ExperimentDefinition;
  points: SweepPoint[];
  seeds: number[];
  /** Training samples of each stage (rung); the last stage is the full run (null: the point's own dataset.train). */
  stages: (number | null)[];
  keep: number;
  /** Upper bound of the plan's cost (the server's cost model: neuron-steps + bytes). */
  costUpperBound: number;
  trialsFirstStage: number;
}

export interface PlanOptions {
  maxTrials: number;
  /** Server limits etc.; throws an InvalidInput (a LimitExceeded, say) naming the field to reject a definition. */
  check?: (definition: ExperimentDefinition) => void;
  /**
   * The base as resolveSweepBase gave it and the server completed it: an uploaded dataset looked
   * up (shape, hash, split sizes; whether the caller may use it), which a pure planner cannot do.
   * Default: resolveSweepBase(req) — enough for MNIST and the generators.
   */
  base?: ExperimentDefinition;
}

/** Parameters a sweep may not vary (the objective must compare like with like; seeds are `seeds`). */
const forbidden: Record<string, string> = {
  '/seed': 'the engine seed is set by `seeds`',
  '/dataset/validation': 'the validation split is what every trial is scored on; it must be the same for all',
  '/dataset/test': 'the test set is never part of a sweep’s choice',
  '/dataset/name': 'the dataset is fixed',
  '/dataset/id': 'the dataset is fixed',
  '/dataset/resolved': 'the server fills it in from the uploaded dataset',
};

/** The reason a path (or a path inside it) may not be swept; undefined if it may. */
const forbiddenBecause = (path: string) => Object.entries(forbidden).find(([p]) => path === p || path.startsWith(`${p}/`))?.[1];

const paramField = (i: number, key = 'path') => `parameters.${i}.${key}`;

/** The request's base as a full definition (preset expanded); errors name the field under `base`. */
export function resolveSweepBase(req: SweepRequest): ExperimentDefinition {
  try {
    return resolveDefinition(req.base);
  } catch (err) {
    if (err instanceof ZodError) {
      const issue = err.issues[0]!;
      const keys = (issue as { keys?: string[] }).keys;
      const field = ['base', ...issue.path.map(String), ...(issue.code === 'unrecognized_keys' && keys ? [keys[0]] : [])].join('.');
      throw new SweepValidationError(field, `${field}: ${issue.message}`);
    }
    throw err;
  }
}

/** Survivors of a rung of n points. */
export const survivors = (n: number, keep: number) => Math.max(1, Math.ceil(n * keep - 1e-9));

/** Cost of one run: the server's cost model (src/experiment/cost.ts: neuron-steps + bytes), as quotas count it. */
export function trialCost(def: ExperimentDefinition): number {
  return experimentCost(def).total;
}

function drawValue(p: SweepParameter, sampler: Sampler): unknown {
  switch (p.type) {
    case 'uniform': {
      const v = sampler.uniform(p.min, p.max);
      return p.integer ? Math.round(v) : v;
    }
    case 'log-uniform': {
      const v = sampler.logUniform(p.min, p.max);
      return p.integer ? Math.round(v) : v;
    }
    case 'choice':
      return sampler.choice(p.values);
    case 'grid':
      throw new Error('grid parameters are not drawn');
  }
}

/** The definition of one trial: the base with the point's values, the seed, and the stage's training size. */
export function trialDefinition(plan: SweepPlan, pointIndex: number, seedIndex: number, stage: number): ExperimentDefinition {
  const point = plan.points[pointIndex]!;
  let def: unknown = plan.base;
  for (const [path, value] of Object.entries(point.parameters)) def = setAt(def, path, value);
  const d = def as ExperimentDefinition;
  const train = plan.stages[stage];
  const label = `${plan.name || 'sweep'} · point ${pointIndex} · seed ${plan.seeds[seedIndex]}${plan.stages.length > 1 ? ` · rung ${stage}` : ''}`;
  return experimentDefinitionSchema.parse({
    ...d,
    name: label.slice(0, 200),
    seed: plan.seeds[seedIndex]!,
    dataset: { ...d.dataset, ...(train !== null && train !== undefined ? { train } : {}) },
  });
}

export function planSweep(req: SweepRequest, opts: PlanOptions): SweepPlan {
  const base = opts.base ?? resolveSweepBase(req);
  if (base.dataset.validation <= 0) {
    const field = 'preset' in req.base ? 'base.validation' : 'base.dataset.validation';
    throw new SweepValidationError(
      field,
      `${field} must be > 0: a sweep scores every trial on the validation split (held out of the end of the training set), never on the test set`,
    );
  }
  const seen = new Set<string>();
  req.parameters.forEach((p, i) => {
    let current: unknown;
    try {
      current = getAt(base, p.path);
    } catch (err) {
      if (err instanceof PointerError) throw new SweepValidationError(paramField(i), `parameters.${i}.path "${p.path}": ${err.message}`);
      throw err;
    }
    const because = forbiddenBecause(p.path);
    if (because) throw new SweepValidationError(paramField(i), `parameters.${i}.path "${p.path}" cannot be swept: ${because}`);
    if (req.successiveHalving && (p.path === '/dataset/train' || p.path === '/epochs')) {
      throw new SweepValidationError(paramField(i), `parameters.${i}.path "${p.path}" cannot be swept with successiveHalving, whose rungs set the training size`);
    }
    for (const s of seen) {
      if (p.path === s || p.path.startsWith(`${s}/`) || s.startsWith(`${p.path}/`)) {
        throw new SweepValidationError(paramField(i), `parameters.${i}.path "${p.path}" overlaps another parameter's path "${s}"`);
      }
    }
    seen.add(p.path);
    if ((p.type === 'uniform' || p.type === 'log-uniform') && !(p.min <= p.max)) {
      throw new SweepValidationError(paramField(i, 'max'), `parameters.${i}: max must be ≥ min`);
    }
    if ((p.type === 'uniform' || p.type === 'log-uniform') && typeof current !== 'number') {
      throw new SweepValidationError(paramField(i), `parameters.${i}.path "${p.path}" holds a ${typeof current}, not a number`);
    }
  });

  const grid = req.parameters.map((p, i) => ({ p, i })).filter((x) => x.p.type === 'grid');
  const random = req.parameters.map((p, i) => ({ p, i })).filter((x) => x.p.type !== 'grid');
  if (random.length > 0 && req.samples === undefined) {
    throw new SweepValidationError('samples', 'samples is required when a parameter is uniform, log-uniform or choice');
  }
  if (random.length === 0 && req.samples !== undefined) {
    throw new SweepValidationError('samples', 'samples only applies to uniform, log-uniform and choice parameters');
  }
  const gridSize = grid.reduce((n, x) => n * (x.p.type === 'grid' ? x.p.values.length : 1), 1);
  const samples = random.length > 0 ? req.samples! : 1;
  const seeds = Array.isArray(req.seeds)
    ? req.seeds
    : Array.from({ length: req.seeds }, (_, k) => (base.seed + k) % 2 ** 32);
  if (new Set(seeds).size !== seeds.length) throw new SweepValidationError('seeds', 'seeds must be distinct');
  const trials = gridSize * samples * seeds.length;
  const maxTrials = Math.min(opts.maxTrials, req.budget.maxTrials ?? Infinity);
  if (trials > maxTrials) {
    const byBudget = req.budget.maxTrials !== undefined && req.budget.maxTrials < opts.maxTrials;
    throw new SweepValidationError(
      byBudget ? 'budget.maxTrials' : 'parameters',
      `the sweep expands to ${trials} trials (points × seeds), over ${byBudget ? `budget.maxTrials = ${maxTrials}` : `the limit MAX_SWEEP_TRIALS = ${maxTrials}`}`,
      'limit_exceeded',
    );
  }

  // Points: the grid (first parameter varies slowest) crossed with the random samples.
  const sampler = new Sampler(req.seed);
  const draws = Array.from({ length: samples }, () => Object.fromEntries(random.map(({ p }) => [p.path, drawValue(p, sampler)])));
  const points: SweepPoint[] = [];
  for (let g = 0; g < gridSize; g++) {
    const gridValues: Record<string, unknown> = {};
    let rest = g;
    for (let k = grid.length - 1; k >= 0; k--) {
      const p = grid[k]!.p as Extract<SweepParameter, { type: 'grid' }>;
      gridValues[p.path] = p.values[rest % p.values.length];
      rest = Math.floor(rest / p.values.length);
    }
    for (const draw of draws) {
      const parameters: Record<string, unknown> = {};
      for (const p of req.parameters) parameters[p.path] = p.path in gridValues ? gridValues[p.path] : draw[p.path];
      points.push({ index: points.length, parameters });
    }
  }

  const halving = req.successiveHalving;
  const stages: (number | null)[] = halving ? [...halving.rungs, null] : [null];
  if (halving) {
    for (let k = 0; k < halving.rungs.length; k++) {
      const r = halving.rungs[k]!;
      if (k > 0 && r <= halving.rungs[k - 1]!) throw new SweepValidationError(`successiveHalving.rungs.${k}`, 'rungs must increase');
      if (base.dataset.train !== undefined && r >= base.dataset.train) {
        throw new SweepValidationError(
          `successiveHalving.rungs.${k}`,
          `rung ${r} must be below the base's training size ${base.dataset.train} (the last stage runs the full size)`,
        );
      }
    }
  }
  const plan: SweepPlan = {
    name: req.name,
    objective: req.objective,
    base,
    points,
    seeds,
    stages,
    keep: halving?.keep ?? 1,
    costUpperBound: 0,
    trialsFirstStage: trials,
  };

  // Validate every trial of every stage through the normal definition path, naming the parameter.
  const maxCostAtStage = stages.map(() => 0);
  for (const point of points) {
    for (let stage = 0; stage < stages.length; stage++) {
      let def: ExperimentDefinition;
      try {
        def = trialDefinition(plan, point.index, 0, stage);
        opts.check?.(def);
        compileDefinition(def);
      } catch (err) {
        throw blame(err, req, point, stage);
      }
      maxCostAtStage[stage] = Math.max(maxCostAtStage[stage]!, trialCost(def));
    }
  }
  let n = points.length;
  for (let stage = 0; stage < stages.length; stage++) {
    plan.costUpperBound += n * seeds.length * maxCostAtStage[stage]!;
    n = survivors(n, plan.keep);
  }
  if (req.budget.maxTotalCost !== undefined && plan.costUpperBound > req.budget.maxTotalCost) {
    throw new SweepValidationError(
      'budget.maxTotalCost',
      `the sweep could cost up to ${formatCost(plan.costUpperBound)} (cost units: neuron-steps + bytes), over budget.maxTotalCost = ${formatCost(req.budget.maxTotalCost)}`,
      'limit_exceeded',
    );
  }
  return plan;
}

/** Turns a definition error of one trial into a 400 naming the parameter that produced it. */
function blame(err: unknown, req: SweepRequest, point: SweepPoint, stage: number): SweepValidationError {
  let field: string | undefined;
  let message: string;
  let code: 'validation_error' | 'limit_exceeded' = 'validation_error';
  if (err instanceof ZodError) {
    const issue = err.issues[0]!;
    field = issue.path.map(String).join('.');
    message = `${field}: ${issue.message}`;
  } else if (err instanceof DefinitionError) {
    field = err.field;
    message = err.message;
  } else if (err instanceof PointerError) {
    message = err.message;
  } else if (err instanceof InvalidInput) {
    field = err.field;
    message = err.message;
    code = err instanceof LimitExceeded ? 'limit_exceeded' : 'validation_error';
  } else {
    throw err;
  }
  // The parameter whose pointer covers the offending field (dotted path vs pointer).
  const pointerOfField = field ? `/${field.split('.').join('/')}` : '';
  let i = req.parameters.findIndex((p) => pointerOfField === p.path || pointerOfField.startsWith(`${p.path}/`) || p.path.startsWith(`${pointerOfField}/`));
  if (i < 0) i = req.parameters.findIndex((p) => p.path in point.parameters);
  const p = req.parameters[i];
  const value = p ? JSON.stringify(point.parameters[p.path]) : '';
  const where = p ? `parameters.${i}` : 'base';
  const rung = stage < (req.successiveHalving?.rungs.length ?? 0) ? ` (rung ${stage})` : '';
  return new SweepValidationError(
    p ? `parameters.${i}` : `base${field ? `.${field}` : ''}`,
    `${where}${p ? ` (path "${p.path}" = ${value})` : ''} gives an invalid definition${rung}: ${message}`,
    code,
  );
}
