/**
 * Checkpoint and resume on the new datasets: a run stopped mid-training and resumed from its
 * checkpoint ends with the same weights, bit for bit, as an uninterrupted run — for generated
 * images (8 classes) and for event streams (2 input channels, no rate encoding).
 */
import { describe, expect, it } from 'vitest';
import type { ExperimentEvent } from '../../src/experiment/events.js';
import { resolveDefinition } from '../../src/experiment/presets.js';
import { runExperiment } from '../../src/experiment/run.js';

for (const dataset of [{ name: 'oriented-bars', train: 300, test: 40 }, { name: 'moving-bars', train: 120, test: 16 }] as const) {
  describe(`resume on ${dataset.name}`, () => {
    it('a run resumed from its checkpoint ends bit-identical to an uninterrupted one', async () => {
      const def = resolveDefinition({ preset: 'diehl-cook-2015', neurons: 8, seed: 2, dataset, labelUpdateInterval: 40, checkpointEvery: 50, stream: { spikesEvery: 0, weightsEvery: 0 } });
      const whole = await runExperiment(def, { emit: () => {} });
      let state: Uint8Array | undefined;
      const stopAt = Math.floor(dataset.train / 2);
      const first = await runExperiment(def, {
        emit: (e: ExperimentEvent) => void (e.type === 'checkpoint' && (state = e.state)),
        shouldStop: (done) => done >= stopAt,
      });
      expect(first.cancelled).toBe(true);
      expect(state).toBeDefined();
      const resumed = await runExperiment(def, { emit: () => {}, resumeFrom: state });
      expect(resumed.cancelled).toBe(false);
      expect(resumed.weightsSha256).toBe(whole.weightsSha256);
      expect(resumed.accuracy).toEqual(whole.accuracy);
      expect(resumed.tuning?.curves).toEqual(whole.tuning?.curves);
    });
  });
}
