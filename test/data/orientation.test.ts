/**
 * The founding description's Figure 1 experiment: trained on oriented bars, the excitatory neurons
 * become orientation-selective.
 *
 * Measure: the orientation selectivity index OSI = |Σ_k r_k e^{2iθ_k}| / Σ_k r_k of each neuron's
 * mean test response r_k to the 8 orientations θ_k (src/data/tuning.ts; 1 − circular variance),
 * over the responsive neurons (≥ 20 spikes in the 400 test samples).
 * Threshold reached: ≥ 90 % of responsive neurons have OSI ≥ 0.8 and the median is ≥ 0.9 (measured
 * on seeds 0 and 1: every neuron ≥ 0.96, median 1.00), and the preferred orientations cover all 8.
 * Control: the same network with learning off (random weights) stays far below that (median
 * 0.58–0.70, 36–52 % of neurons ≥ 0.7), so the bound tests what STDP learned.
 */
import { describe, expect, it } from 'vitest';
import { resolveDefinition } from '../../src/experiment/presets.js';
import { runExperiment } from '../../src/experiment/run.js';

async function tuningOf(seed: number, learning: boolean) {
  const def = resolveDefinition({
    preset: 'diehl-cook-2015', neurons: 25, seed,
    dataset: { name: 'oriented-bars', train: 1000, test: 400 },
    ...(learning ? {} : { nuPre: 0, nuPost: 0 }),
    stream: { spikesEvery: 0, weightsEvery: 0 },
  });
  const result = await runExperiment(def, { emit: () => {} });
  const t = result.tuning!;
  const responsive = t.selectivity.filter((_, j) => t.spikes[j] >= 20).sort((a, b) => a - b);
  const preferred = new Set(t.preferredDeg.filter((_, j) => t.spikes[j] >= 20).map((d) => Math.round(d! / 22.5) % 8));
  return {
    result,
    responsive: responsive.length,
    selective: responsive.filter((o) => o >= 0.8).length / responsive.length,
    median: responsive[Math.floor(responsive.length / 2)]!,
    orientations: preferred.size,
  };
}

describe('orientation selectivity on oriented bars', () => {
  for (const seed of [0, 1]) {
    it(`seed ${seed}: most responsive neurons are clearly orientation-selective`, async () => {
      const m = await tuningOf(seed, true);
      console.log(`oriented bars seed ${seed}: ${m.responsive}/25 responsive, ${(m.selective * 100).toFixed(0)} % with OSI ≥ 0.8, median OSI ${m.median.toFixed(3)}, ${m.orientations}/8 orientations preferred, accuracy ${m.result.accuracy.allActivity}`);
      expect(m.responsive).toBeGreaterThanOrEqual(20);
      expect(m.selective).toBeGreaterThanOrEqual(0.9);
      expect(m.median).toBeGreaterThanOrEqual(0.9);
      expect(m.orientations).toBe(8);
      expect(m.result.tuning!.anglesDeg).toEqual([0, 22.5, 45, 67.5, 90, 112.5, 135, 157.5]);
      // 8 orientations: chance is 12.5 %.
      expect(m.result.accuracy.allActivity).toBeGreaterThan(0.8);
    });
  }

  it('control: without learning the same bound is not reached', async () => {
    const m = await tuningOf(0, false);
    expect(m.selective).toBeLessThan(0.9);
    expect(m.median).toBeLessThan(0.9);
  });
});
