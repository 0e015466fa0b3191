/**
 * Experiment definitions: the diehl-cook-2015 preset expands to BindsNET's eth_mnist defaults,
 * unknown fields are rejected, and compileDefinition names the offending field.
 */
import { describe, expect, it } from 'vitest';
import { listPresets, resolveDefinition } from '../../src/experiment/presets.js';
import { experimentDefinitionSchema, type ExperimentDefinition } from '../../src/experiment/schema.js';
import { compileDefinition, DefinitionError, MNIST_INPUTS } from '../../src/experiment/topology.js';

function preset(extra: Record<string, unknown> = {}): ExperimentDefinition {
  return resolveDefinition({ preset: 'diehl-cook-2015', ...extra });
}

/** The field a compileDefinition error names (fails the test if it is not a DefinitionError). */
function fieldOf(def: ExperimentDefinition): string {
  try {
    compileDefinition(def);
  } catch (e) {
    expect(e).toBeInstanceOf(DefinitionError);
    const err = e as DefinitionError;
    expect(err.message.startsWith(`${err.field}: `)).toBe(true);
    return err.field;
  }
  throw new Error('compileDefinition accepted an invalid definition');
}

function clone(def: ExperimentDefinition): ExperimentDefinition {
  return structuredClone(def);
}

describe('diehl-cook-2015 preset', () => {
  it('expands to BindsNET eth_mnist defaults', () => {
    const d = preset();
    expect(d.seed).toBe(0);
    expect(d.dtMs).toBe(1);
    expect(d.timePerSampleMs).toBe(250);
    expect(d.restBetweenSamplesMs).toBe(0);
    expect(d.resetBetweenSamples).toBe(true);
    expect(d.epochs).toBe(1);
    expect(d.dataset).toEqual({ name: 'mnist', train: 60000, test: 10000, validation: 0, shuffle: true });
    expect(d.encoder).toEqual({ type: 'bindsnet-poisson', maxRateHz: 128 });
    expect(d.evaluation.labelUpdateInterval).toBe(250);
    // eth_mnist labels from the training windows and never re-presents a sample.
    expect(d.evaluation.assignment).toBe('training-windows');
    expect(d.represent.belowSpikes).toBe(0);
    const [x, ae, ai] = d.layers;
    expect(x).toMatchObject({ id: 'X', type: 'input', size: 784, traceTauMs: 20 });
    expect(ae).toEqual({
      id: 'Ae',
      type: 'adaptive-lif',
      size: 100,
      restMv: -65,
      resetMv: -60,
      thresholdMv: -52,
      refractoryMs: 5,
      tauMs: 100,
      traceTauMs: 20,
      thetaPlusMv: 0.05,
      tauThetaMs: 1e7,
      thetaInitMv: 0,
      oneSpikePerStep: true,
      // BindsNET's spike test looks at v alone.
      spikeLockoutMs: 0,
      synapse: { type: 'current' },
    });
    expect(ai).toEqual({ id: 'Ai', type: 'lif', size: 100, restMv: -60, resetMv: -45, thresholdMv: -40, refractoryMs: 2, tauMs: 10, traceTauMs: 20, synapse: { type: 'current' } });
    const [dense, e2i, i2e] = d.connections;
    expect(dense).toEqual({
      from: 'X',
      to: 'Ae',
      type: 'dense',
      init: { dist: 'uniform', low: 0, high: 0.3 },
      wMin: 0,
      wMax: 1,
      plasticity: { rule: 'post-pre', nuPre: 1e-4, nuPost: 1e-2 },
      norm: 78.4,
      delay: null,
    });
    expect(e2i).toEqual({ from: 'Ae', to: 'Ai', type: 'one-to-one', weight: 22.5 });
    expect(i2e).toEqual({ from: 'Ai', to: 'Ae', type: 'all-but-self', weight: -120 });
    // It is a valid full definition in its own right.
    expect(experimentDefinitionSchema.parse(d)).toEqual(d);
  });

  it('compiles to the engine spec with the same numbers', () => {
    const { spec, steps, excitatoryId } = compileDefinition(preset({ neurons: 10, seed: 7 }));
    expect(steps).toBe(250);
    expect(excitatoryId).toBe('Ae');
    expect(spec).toMatchObject({
      inputs: MNIST_INPUTS,
      neurons: 10,
      steps: 250,
      dtMs: 1,
      restBetweenSamplesMs: 0,
      resetBetweenSamples: true,
      seed: 7,
      encoder: { type: 'bindsnet-poisson', maxRateHz: 128 },
      inputTraceTauMs: 20,
      excitatory: {
        restMv: -65,
        resetMv: -60,
        thresholdMv: -52,
        refractoryMs: 5,
        tauMs: 100,
        traceTauMs: 20,
        thetaPlusMv: 0.05,
        tauThetaMs: 1e7,
        oneSpikePerStep: true,
        adaptive: true,
      },
      inhibitory: { restMv: -60, resetMv: -45, thresholdMv: -40, refractoryMs: 2, tauMs: 10, excToInh: 22.5, inhToExc: -120 },
      dense: { init: { dist: 'uniform', low: 0, high: 0.3 }, wMin: 0, wMax: 1, plasticity: { nuPre: 1e-4, nuPost: 1e-2 }, norm: 78.4 },
    });
  });

  it('applies overrides', () => {
    const d = preset({ neurons: 30, train: 1500, test: 500, seed: 3, nuPre: 2e-4, inhToExcWeight: -17.5, oneSpikePerStep: false, stream: { spikesEvery: 0 } });
    expect(d.layers[1].size).toBe(30);
    expect(d.layers[2].size).toBe(30);
    expect(d.dataset.train).toBe(1500);
    expect(d.dataset.test).toBe(500);
    expect(d.seed).toBe(3);
    expect(d.connections[0]).toMatchObject({ plasticity: { nuPre: 2e-4, nuPost: 1e-2 } });
    expect(d.connections[2]).toMatchObject({ weight: -17.5 });
    expect(d.layers[1]).toMatchObject({ oneSpikePerStep: false });
    // A partial stream override keeps the other stream defaults.
    expect(d.stream).toEqual({ progressEvery: 50, spikesEvery: 0, weightsEvery: 500, voltageNeurons: [0] });
    expect(d.checkpointEvery).toBe(1000);
  });

  it('trains on every image not held out for validation unless told otherwise', () => {
    expect(resolveDefinition({ preset: 'diehl-cook-2015', validation: 10000 }).dataset).toMatchObject({ train: 50000, validation: 10000 });
    expect(resolveDefinition({ preset: 'diehl-cook-2015', validation: 10000, train: 2000 }).dataset.train).toBe(2000);
    expect(() => resolveDefinition({ preset: 'diehl-cook-2015', validation: 60001 })).toThrow(/validation/);
  });

  it('is listed by listPresets', () => {
    const [p] = listPresets();
    expect(p.name).toBe('diehl-cook-2015');
    expect(p.definition).toEqual(preset());
  });
});

describe('unknown fields are rejected', () => {
  it('in a preset request', () => {
    expect(() => resolveDefinition({ preset: 'diehl-cook-2015', neuron: 10 })).toThrow();
    expect(() => resolveDefinition({ preset: 'diehl-cook-2015', stream: { spikesEvery: 1, bogus: 1 } })).toThrow();
    expect(() => resolveDefinition({ preset: 'no-such-preset' })).toThrow();
  });

  it('in a full definition, at every level', () => {
    const base = preset({ neurons: 10 });
    expect(() => resolveDefinition({ ...base, extra: true })).toThrow();
    const layer = clone(base);
    (layer.layers[1] as Record<string, unknown>).thetaMinus = 1;
    expect(() => resolveDefinition(layer)).toThrow();
    const conn = clone(base);
    (conn.connections[0] as Record<string, unknown>).delay = 2;
    expect(() => resolveDefinition(conn)).toThrow();
    const enc = clone(base);
    (enc.encoder as Record<string, unknown>).jitter = 0;
    expect(() => resolveDefinition(enc)).toThrow();
    const init = clone(base);
    (init.connections[0] as { init: Record<string, unknown> }).init.sigma = 1;
    expect(() => resolveDefinition(init)).toThrow();
  });

  it('invalid values are rejected by the schema', () => {
    expect(() => preset({ neurons: 0 })).toThrow();
    expect(() => preset({ dtMs: -1 })).toThrow();
    expect(() => preset({ seed: 2 ** 32 })).toThrow();
    expect(() => preset({ encoder: 'gaussian' })).toThrow();
    expect(() => preset({ spikeLockoutMs: -1 })).toThrow(/spikeLockoutMs/);
    const full = resolveDefinition({ preset: 'diehl-cook-2015-original' });
    expect(full.layers[1]).toMatchObject({ spikeLockoutMs: 50 });
    expect(() => resolveDefinition({ ...full, layers: [full.layers[0], { ...full.layers[1], spikeLockoutMs: 20_000 }, full.layers[2]] })).toThrow(
      /"layers",\s*1,\s*"spikeLockoutMs"/,
    );
  });

  it('a full definition gets the layer defaults of its type', () => {
    const d = resolveDefinition({
      layers: [
        { id: 'in', type: 'input', size: 784 },
        { id: 'e', type: 'adaptive-lif', size: 5 },
        { id: 'i', type: 'lif', size: 5 },
      ],
      connections: [
        { from: 'in', to: 'e', type: 'dense' },
        { from: 'e', to: 'i', type: 'one-to-one', weight: 22.5 },
        { from: 'i', to: 'e', type: 'all-but-self', weight: -120 },
      ],
    });
    expect(d.layers[1]).toMatchObject({ restMv: -65, resetMv: -60, thresholdMv: -52, refractoryMs: 5, tauMs: 100, thetaPlusMv: 0.05, tauThetaMs: 1e7, oneSpikePerStep: true });
    expect(d.layers[2]).toMatchObject({ restMv: -60, resetMv: -45, thresholdMv: -40, refractoryMs: 2, tauMs: 10 });
    expect(d.connections[0]).toMatchObject({ wMin: 0, wMax: 1, norm: 78.4, init: { dist: 'uniform', low: 0, high: 0.3 } });
    expect(compileDefinition(d).spec.neurons).toBe(5);
  });
});

describe('compileDefinition errors name the field', () => {
  const base = preset({ neurons: 10, train: 100, test: 10 });

  it('accepts the preset', () => {
    expect(() => compileDefinition(base)).not.toThrow();
  });

  it('a dense connection from a non-input layer → connections.0.from', () => {
    const d = clone(base);
    d.connections[0].from = 'Ai';
    expect(fieldOf(d)).toBe('connections.0.from');
  });

  it('a dense connection from an unknown layer → connections.0.from', () => {
    const d = clone(base);
    d.connections[0].from = 'nope';
    expect(fieldOf(d)).toBe('connections.0.from');
  });

  it('a dense connection into the input layer → connections.0.to', () => {
    const d = clone(base);
    d.connections[0].to = 'X';
    expect(fieldOf(d)).toBe('connections.0.to');
  });

  it('voltageNeurons out of range → stream.voltageNeurons.k', () => {
    const d = clone(base);
    d.stream.voltageNeurons = [0, 9, 10];
    expect(fieldOf(d)).toBe('stream.voltageNeurons.2');
  });

  it('time per sample not a multiple of dt → timePerSampleMs', () => {
    const d = clone(base);
    d.dtMs = 0.3;
    expect(fieldOf(d)).toBe('timePerSampleMs');
    const ok = clone(base);
    ok.dtMs = 0.5;
    expect(compileDefinition(ok).steps).toBe(500);
    const tooMany = clone(base);
    tooMany.dtMs = 0.01;
    expect(fieldOf(tooMany)).toBe('timePerSampleMs');
  });

  it('duplicate ids, input size, sizes, bounds and dataset limits', () => {
    const dup = clone(base);
    dup.layers[2].id = 'Ae';
    expect(fieldOf(dup)).toBe('layers.2.id');
    const input = clone(base);
    input.layers[0].size = 100;
    expect(fieldOf(input)).toBe('layers.0.size');
    const size = clone(base);
    size.layers[2].size = 11;
    expect(fieldOf(size)).toBe('layers.2.size');
    const bounds = clone(base);
    const dense = bounds.connections[0] as { wMin: number; wMax: number };
    dense.wMin = 2;
    expect(fieldOf(bounds)).toBe('connections.0.wMin');
    const train = clone(base);
    train.dataset.train = 59000;
    train.dataset.validation = 2000;
    expect(fieldOf(train)).toBe('dataset.train');
    const test = clone(base);
    test.dataset.test = 10001;
    expect(fieldOf(test)).toBe('dataset.test');
  });

  it('missing or miswired structural connections → connections', () => {
    const noE2I = clone(base);
    noE2I.connections = [noE2I.connections[0], noE2I.connections[2]];
    expect(fieldOf(noE2I)).toBe('connections');
    const wrong = clone(base);
    wrong.connections[2].from = 'Ae';
    wrong.connections[2].to = 'Ai';
    expect(fieldOf(wrong)).toBe('connections');
    const twoDense = clone(base);
    twoDense.connections = [twoDense.connections[0], twoDense.connections[0]];
    expect(fieldOf(twoDense)).toBe('connections');
  });

  it('a two-layer network (no inhibition) compiles with inhibitory = null', () => {
    const d = clone(base);
    d.layers = [d.layers[0], d.layers[1]];
    d.connections = [d.connections[0]];
    const { spec } = compileDefinition(d);
    expect(spec.inhibitory).toBeNull();
  });
});
