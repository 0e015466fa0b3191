/**
 * A network split over threads equals the reference bit for bit, over every documented option:
 * the property test of property.test.ts with networks wide enough (17–70 neurons, 2–5 SIMD
 * blocks) that 2 and 3 threads each own a part of the excitatory layer, some of them an empty one.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Network } from '../../src/engine/network.js';
import { experimentDefinitionSchema } from '../../src/experiment/schema.js';
import { compileDefinition } from '../../src/experiment/topology.js';
import { caseArbitrary } from './cases.js';
import { compareWithNewEngine, definitionOf, type NewNetwork, type RefCase } from './new-engine.js';

const RUNS = Number(process.env.FC_THREAD_RUNS ?? 40);
const SEED = process.env.FC_SEED === 'random' ? Date.now() | 0 : Number(process.env.FC_SEED ?? 20261129);

function threaded(c: RefCase, threads: number, opened: Network[]): NewNetwork {
  const spec = compileDefinition(experimentDefinitionSchema.parse(definitionOf(c))).spec;
  const net = new Network(spec, undefined, { threads });
  opened.push(net);
  return net as unknown as NewNetwork;
}

describe('threads: a network split over threads equals the reference', () => {
  it(`${RUNS} random networks of 17–70 neurons on 2 or 3 threads: identical spikes, voltages, θ, PRNG state and weight bits`, async () => {
    const opened: Network[] = [];
    let split = 0;
    try {
      await fc.assert(
        fc.asyncProperty(caseArbitrary({ min: 17, max: 70 }), fc.constantFrom(2, 3), async (c, threads) => {
          const before = opened.length;
          await compareWithNewEngine(c, (cc) => threaded(cc, threads, opened));
          if (opened[before].threads > 1) split++;
          opened[before].close();
        }),
        { numRuns: RUNS, seed: SEED },
      );
    } finally {
      for (const net of opened) net.close();
    }
    expect(split).toBe(RUNS);
  }, 600_000);

  it('never more threads than 16-neuron blocks: 20 neurons (2 blocks) asked for 8 threads use 2', () => {
    const spec = compileDefinition(experimentDefinitionSchema.parse(definitionOf(sampleCase()))).spec;
    expect(spec.neurons).toBe(20);
    const net = new Network(spec, undefined, { threads: 8 });
    try {
      expect(net.threads).toBe(2);
    } finally {
      net.close();
    }
  });
});

function sampleCase(): RefCase {
  return fc.sample(caseArbitrary({ min: 20, max: 20 }), { numRuns: 1, seed: 1 })[0];
}
