/** The pure part of sweeps: pointers, the seeded sampler, expansion into trial definitions, halving counts. */
import { describe, expect, it } from 'vitest';
import { experimentCost } from '../../src/experiment/cost.js';
import { planSweep, survivors, SweepValidationError, trialDefinition } from '../../src/sweeps/expand.js';
import { getAt, setAt } from '../../src/sweeps/pointer.js';
import { sweepRequestSchema } from '../../src/sweeps/schema.js';

const base = { preset: 'diehl-cook-2015', neurons: 20, train: 300, validation: 100, test: 100 };
const plan = (req: object, maxTrials = 100) => planSweep(sweepRequestSchema.parse(req), { maxTrials });

describe('sweep expansion', () => {
  it('reads and writes JSON Pointers (with ~0/~1 escapes) without touching the original', () => {
    const doc = { a: { 'b/c': [1, { 'd~e': 2 }] } };
    expect(getAt(doc, '/a/b~1c/1/d~0e')).toBe(2);
    const copy = setAt(doc, '/a/b~1c/0', 5);
    expect(copy.a['b/c'][0]).toBe(5);
    expect(doc.a['b/c'][0]).toBe(1);
    expect(() => getAt(doc, '/a/x')).toThrow(/\/a\/x does not exist/);
    expect(() => getAt(doc, '/a/b~1c/2')).toThrow(/array of 2/);
  });

  it('crosses grid parameters (first slowest) with seeds and sets seed and name per trial', () => {
    const p = plan({
      base,
      parameters: [
        { type: 'grid', path: '/encoder/maxRateHz', values: [64, 128] },
        { type: 'grid', path: '/layers/1/thetaPlusMv', values: [0.01, 0.05, 0.1] },
      ],
      seeds: [5, 9],
    });
    expect(p.points.map((x) => Object.values(x.parameters))).toEqual([
      [64, 0.01], [64, 0.05], [64, 0.1], [128, 0.01], [128, 0.05], [128, 0.1],
    ]);
    expect(p.trialsFirstStage).toBe(12);
    const def = trialDefinition(p, 4, 1, 0);
    expect(def.seed).toBe(9);
    expect(def.encoder.maxRateHz).toBe(128);
    expect((def.layers[1] as { thetaPlusMv: number }).thetaPlusMv).toBe(0.05);
    expect(def.dataset).toMatchObject({ train: 300, validation: 100, test: 100 });
  });

  it('draws random parameters deterministically from the sweep seed, within their ranges', () => {
    const req = {
      base,
      parameters: [
        { type: 'uniform', path: '/encoder/maxRateHz', min: 40, max: 100 },
        { type: 'log-uniform', path: '/connections/0/plasticity/nuPost', min: 0.001, max: 0.1 },
        { type: 'choice', path: '/evaluation/assignment', values: ['training-windows', 'frozen-pass'] },
        { type: 'uniform', path: '/evaluation/labelUpdateInterval', min: 50, max: 150, integer: true },
      ],
      samples: 20,
      seed: 42,
    };
    const a = plan(req);
    expect(plan(req).points).toEqual(a.points);
    expect(plan({ ...req, seed: 43 }).points).not.toEqual(a.points);
    for (const { parameters: v } of a.points) {
      expect(v['/encoder/maxRateHz']).toBeGreaterThanOrEqual(40);
      expect(v['/encoder/maxRateHz']).toBeLessThan(100);
      expect(v['/connections/0/plasticity/nuPost']).toBeGreaterThanOrEqual(0.001);
      expect(v['/connections/0/plasticity/nuPost']).toBeLessThan(0.1);
      expect(Number.isInteger(v['/evaluation/labelUpdateInterval'])).toBe(true);
    }
    expect(new Set(a.points.map((x) => x.parameters['/evaluation/assignment'])).size).toBe(2);
  });

  it('successive halving: rung sizes per stage, survivors, and the cost upper bound', () => {
    expect([survivors(8, 0.5), survivors(5, 0.5), survivors(1, 0.5), survivors(3, 0.34)]).toEqual([4, 3, 1, 2]);
    const p = plan({
      base: { ...base, train: 1000 },
      parameters: [{ type: 'grid', path: '/encoder/maxRateHz', values: [32, 48, 64, 96] }],
      successiveHalving: { rungs: [100, 400], keep: 0.5 },
    });
    expect(p.stages).toEqual([100, 400, null]);
    expect(trialDefinition(p, 0, 0, 0).dataset.train).toBe(100);
    expect(trialDefinition(p, 0, 0, 2).dataset.train).toBe(1000);
    // The server's cost model per trial, counted for every point of a rung and the survivors of the next.
    // (the most expensive point of each rung: the cost model counts stream bytes, which grow with the rate)
    const cost = (stage: number) => Math.max(...p.points.map((x) => experimentCost(trialDefinition(p, x.index, 0, stage)).total));
    expect(p.costUpperBound).toBe(4 * cost(0) + 2 * cost(1) + 1 * cost(2));
  });

  it('names the parameter that makes a definition invalid', () => {
    const err = (() => {
      try {
        plan({ base, parameters: [{ type: 'grid', path: '/timePerSampleMs', values: [100, 'x'] }] });
      } catch (e) {
        return e as SweepValidationError;
      }
    })();
    expect(err).toBeInstanceOf(SweepValidationError);
    expect(err!.field).toBe('parameters.0');
    expect(err!.message).toMatch(/"\/timePerSampleMs" = "x"/);
  });
});
