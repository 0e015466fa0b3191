/**
 * Definitions the engine cannot hold are refused when compiled (a 400 at submission), naming the
 * field: more inputs than its 16-bit input ids, or more engine memory than one network may take.
 */
import { describe, expect, it } from 'vitest';
import { resolveDefinition } from '../../src/experiment/presets.js';
import { experimentDefinitionSchema } from '../../src/experiment/schema.js';
import { compileDefinition, DefinitionError, MAX_ENGINE_INPUTS } from '../../src/experiment/topology.js';

function onUpload(height: number, width: number, neurons: number, timePerSampleMs = 250) {
  const def = resolveDefinition({ preset: 'diehl-cook-2015', neurons, test: 0, timePerSampleMs });
  const input = def.layers.find((l) => l.type === 'input')!;
  input.size = height * width;
  return experimentDefinitionSchema.parse({
    ...def,
    dataset: {
      name: 'upload',
      id: 'd1',
      train: 10,
      test: 0,
      validation: 0,
      resolved: { sha256: 'a'.repeat(64), kind: 'images', height, width, channels: 1, classes: 10, labelled: true, trainCount: 10, testCount: 0 },
    },
  });
}

const fieldOf = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    if (e instanceof DefinitionError) return e.field;
    throw e;
  }
  return null;
};

describe('engine bounds of a definition', () => {
  it('accepts 256×256 inputs, refuses more than 65,536 (16-bit input ids)', () => {
    expect(256 * 256).toBe(MAX_ENGINE_INPUTS);
    expect(() => compileDefinition(onUpload(256, 256, 16))).not.toThrow();
    expect(fieldOf(() => compileDefinition(onUpload(257, 256, 16)))).toBe('layers.0.size');
  });

  it('refuses a network whose weights and spike train would not fit the engine memory', () => {
    // 65,536 inputs × 6,400 neurons × 4 bytes = 1.56 GiB of weights; a 5 s sample's spike train
    // (65,536 × 5,000 steps × 2 bytes) takes it past 2 GiB. The same network with 250 ms samples fits.
    expect(() => compileDefinition(onUpload(256, 256, 6400))).not.toThrow();
    expect(fieldOf(() => compileDefinition(onUpload(256, 256, 6400, 5000)))).toBe('layers.1.size');
  });
});
