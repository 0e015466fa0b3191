/**
 * Server limits on a resolved definition. Fields are named the way the client wrote them: a
 * preset request says `neurons`, a full definition `layers.1.size`.
 */
import type { Limits } from '../config.js';
import { limitEnvNames } from '../config.js';
import { experimentCost, formatCost, type CostBreakdown } from '../experiment/cost.js';
import type { ExperimentDefinition } from '../experiment/schema.js';
import { LimitExceeded } from '../domain-errors.js';

interface Check {
  field: string;
  presetField: string;
  value: number;
  limit: keyof Limits;
}

/** The per-field limits, then the cost cap; returns the cost estimate of an accepted definition. */
export function checkLimits(def: ExperimentDefinition, limits: Limits, fromPreset: boolean): CostBreakdown {
  const checks: Check[] = [
    ...def.layers.flatMap((layer, i) =>
      layer.type === 'input' ? [] : [{ field: `layers.${i}.size`, presetField: 'neurons', value: layer.size, limit: 'maxNeurons' as const }],
    ),
    { field: 'dataset.train', presetField: 'train', value: def.dataset.train ?? 0, limit: 'maxTrainSamples' },
    { field: 'dataset.validation', presetField: 'validation', value: def.dataset.validation, limit: 'maxTrainSamples' },
    { field: 'dataset.test', presetField: 'test', value: def.dataset.test ?? 0, limit: 'maxTestSamples' },
    { field: 'epochs', presetField: 'epochs', value: def.epochs, limit: 'maxEpochs' },
    { field: 'timePerSampleMs', presetField: 'timePerSampleMs', value: def.timePerSampleMs, limit: 'maxTimePerSampleMs' },
  ];
  for (const c of checks) {
    const max = limits[c.limit];
    if (c.value > max) {
      const field = fromPreset ? c.presetField : c.field;
      throw new LimitExceeded(`${field} = ${c.value} is over the limit ${limitEnvNames[c.limit]} = ${max}`, field);
    }
  }
  const cost = experimentCost(def);
  if (cost.total > limits.maxExperimentCost) {
    throw new LimitExceeded(
      `the estimated cost ${formatCost(cost.total)} (${formatCost(cost.neuronSteps)} neuron-steps + ${formatCost(cost.checkpointBytes)} checkpoint bytes + ${formatCost(cost.streamBytes)} stream bytes) is over the limit MAX_EXPERIMENT_COST = ${formatCost(limits.maxExperimentCost)}`,
    );
  }
  return cost;
}
