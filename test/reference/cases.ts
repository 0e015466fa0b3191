/** Random cases for the property tests (property.test.ts, threads.test.ts). */
import fc from 'fast-check';
import type { RefCase } from './new-engine.js';

const ruleArb = fc.oneof(
  fc.constant(null),
  fc.record({ rule: fc.constant('post-pre' as const), nuPre: fc.constantFrom(0, 0.0001, 0.001, 0.0078125), nuPost: fc.constantFrom(0.01, 0.03125, 0.1) }),
  fc.record({ rule: fc.constant('weight-dependent-post-pre' as const), nuPre: fc.constantFrom(0.001, 0.0078125), nuPost: fc.constantFrom(0.01, 0.05, 0.125) }),
  fc.record({
    rule: fc.constant('stdp' as const),
    aPlus: fc.constantFrom(0.005, 0.01, 0.03125),
    aMinus: fc.constantFrom(0.005, 0.0105, 0.03125),
    tauPlusMs: fc.constantFrom(10, 16.8, 20),
    tauMinusMs: fc.constantFrom(10, 20, 33.7),
    pairing: fc.constantFrom('nearest' as const, 'all-to-all' as const),
  }),
  fc.record({
    rule: fc.constant('diehl-cook' as const),
    nuPre: fc.constantFrom(0.0001, 0.001),
    nuPost: fc.constantFrom(0.01, 0.05),
    tauPreMs: fc.constantFrom(10, 20),
    tauPost1Ms: fc.constantFrom(10, 20),
    tauPost2Ms: fc.constantFrom(20, 40),
  }),
  fc.record({
    rule: fc.constant('power-law' as const),
    nu: fc.constantFrom(0.005, 0.01, 0.05),
    xTarget: fc.constantFrom(0, 0.25, 0.4),
    mu: fc.constantFrom(0.2, 0.5, 1),
    tauPreMs: fc.constantFrom(10, 20),
  }),
);

/** Random valid cases over every option of docs/models.md (neurons: 2–12 unless given). */
export function caseArbitrary(neurons = { min: 2, max: 12 }): fc.Arbitrary<RefCase> {
  return fc
  .record({
    seed: fc.integer({ min: 0, max: 1_000_000 }),
    neurons: fc.integer(neurons),
    dtMs: fc.constantFrom(1, 0.5),
    steps: fc.integer({ min: 8, max: 30 }),
    restSteps: fc.integer({ min: 0, max: 8 }),
    resetBetweenSamples: fc.boolean(),
    model: fc.constantFrom('lif' as const, 'adaptive-lif' as const),
    synapse: fc.constantFrom('current' as const, 'conductance' as const),
    inhSynapse: fc.constantFrom('current' as const, 'conductance' as const),
    oneSpikePerStep: fc.boolean(),
    thetaPlusMv: fc.constantFrom(0.05, 0.5, 2),
    tauThetaMs: fc.constantFrom(50, 1000, 1e7),
    thetaInitMv: fc.constantFrom(0, 1, 2.5),
    inhibitory: fc.boolean(),
    rule: ruleArb,
    norm: fc.constantFrom(null, null, 20, 78.4),
    delay: fc.option(fc.record({ minSteps: fc.integer({ min: 0, max: 3 }), extraSteps: fc.integer({ min: 0, max: 6 }) }), { nil: null }),
    bounds: fc.constantFrom([0, 1] as const, [0, 0.5] as const, [0.01, 1] as const),
    initSpan: fc.constantFrom(0.25, 0.5),
    inputRate: fc.constantFrom(0.02, 0.04, 0.08),
    schedule: fc.array(fc.boolean(), { minLength: 1, maxLength: 3 }),
  })
  .map((g) => ({
    seed: g.seed,
    neurons: g.neurons,
    dtMs: g.dtMs,
    timePerSampleMs: g.steps * g.dtMs,
    restBetweenSamplesMs: g.restSteps * g.dtMs,
    resetBetweenSamples: g.resetBetweenSamples,
    model: g.model,
    synapse: g.synapse,
    inhSynapse: g.inhSynapse,
    oneSpikePerStep: g.oneSpikePerStep,
    thetaPlusMv: g.thetaPlusMv,
    tauThetaMs: g.tauThetaMs,
    thetaInitMv: g.thetaInitMv,
    inhibitory: g.inhibitory,
    rule: g.rule,
    norm: g.norm,
    delay: g.delay ? { minMs: g.delay.minSteps * g.dtMs, maxMs: (g.delay.minSteps + g.delay.extraSteps) * g.dtMs } : null,
    wMin: g.bounds[0],
    wMax: g.bounds[1],
    initSpan: g.initSpan,
    inputRate: g.inputRate,
    schedule: g.schedule,
  }));
}
