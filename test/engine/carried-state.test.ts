/**
 * Between samples (docs/models.md, "One sample"): with `resetBetweenSamples: false` potentials,
 * in-flight spikes and traces carry into the next sample and the rest period is simulated; with
 * reset only θ decays through the rest. getState/setState carry that state exactly. Recordings
 * are the kernel's own.
 */
import { describe, expect, it } from 'vitest';
import { createRecording, Network } from '../../src/engine/network.js';
import { decayFactor } from '../../src/engine/spec.js';
import { f, leak, run, sameBits, spikeTrain, tinyNet, tinySpec, trace } from './tiny.js';

const d = decayFactor(1, 100);

describe('resetBetweenSamples: false', () => {
  it('v and the spikes of the last step carry into the next sample (no rest)', () => {
    for (const reset of [true, false]) {
      const net = tinyNet({ inputs: 1, neurons: 1, steps: 10, resetBetweenSamples: reset }, [[5]]);
      const a = run(net, spikeTrain(10, [[3, 0], [9, 0]]));
      const b = run(net, spikeTrain(10, []));
      if (reset) {
        expect(b.V(0, 0)).toBe(-65);
      } else {
        // The spike of step 9 arrives at step 0 of the next sample.
        expect(b.V(0, 0)).toBe(f(leak(a.V(9, 0), d, -65) + 5));
        expect(b.V(1, 0)).toBe(leak(b.V(0, 0), d, -65));
      }
    }
  });

  it('the rest period is simulated step by step, without input, unrecorded and uncounted', () => {
    const R = 10;
    const net = tinyNet({ inputs: 1, neurons: 1, steps: 10, resetBetweenSamples: false, restBetweenSamplesMs: R }, [[5]]);
    const a = run(net, spikeTrain(10, [[3, 0], [9, 0]]));
    expect(a.voltage.length).toBe(10);
    const b = run(net, spikeTrain(10, []));
    let v = a.V(9, 0);
    for (let r = 0; r < R; r++) v = r === 0 ? f(leak(v, d, -65) + 5) : leak(v, d, -65);
    expect(b.V(0, 0)).toBe(leak(v, d, -65));
    // A spike in the rest (the step-9 input arrives there with 20 mV) is neither counted nor
    // recorded, but the neuron starts the next sample refractory from it.
    const c = tinyNet({ inputs: 1, neurons: 1, steps: 10, resetBetweenSamples: false, restBetweenSamplesMs: 3 }, [[20]]);
    const s1 = run(c, spikeTrain(10, [[9, 0]]));
    expect(s1.excitatory).toEqual([]);
    expect(c.excSpikes).toBe(0);
    expect(c.counts[0]).toBe(0);
    const s2 = run(c, spikeTrain(10, [[0, 0]]));
    // Spiked at rest step 0 (reset −60), refractory 5 steps: the input arriving at step 1 (4 steps on) is ignored.
    let w = -60;
    for (let k = 0; k < 3; k++) w = leak(w, d, -65);
    expect(s2.V(0, 0)).toBe(w);
    expect(s2.V(1, 0)).toBe(leak(w, d, -65));
    expect(s2.excitatory).toEqual([]);
  });

  it('traces carry across samples and through the rest: potentiation at a post spike in the next sample', () => {
    const R = 5;
    const results = [true, false].map((reset) => {
      const net = tinyNet(
        {
          inputs: 2,
          neurons: 1,
          steps: 10,
          resetBetweenSamples: reset,
          restBetweenSamplesMs: R,
          excitatory: { thresholdMv: -64, resetMv: -65 },
          dense: { plasticity: { rule: 'post-pre', nuPre: 1e-4, nuPost: 1e-2 } },
        },
        [[0.3], [1]],
      );
      net.runSample(spikeTrain(10, [[8, 0]]), true);
      const rec = run(net, spikeTrain(10, [[2, 1]]), true);
      expect(rec.excitatory).toEqual([3, 0]);
      return net.denseWeights()[0];
    });
    expect(results[0]).toBe(f(0.3)); // reset: the trace is gone
    expect(results[1]).toBe(f(f(0.3) + f(trace(decayFactor(1, 20), 2 + R + 3) * f(1e-2))));
  });

  it('θ decays through the rest while learning, with or without reset; not when not learning', () => {
    const T = 10;
    const R = 7;
    const dTheta = decayFactor(1, 100);
    for (const reset of [true, false]) {
      const o = { inputs: 1, neurons: 2, steps: T, resetBetweenSamples: reset, restBetweenSamplesMs: R, excitatory: { adaptive: true, tauThetaMs: 100, thetaInitMv: 1 } };
      const net = tinyNet(o);
      net.runSample(spikeTrain(T, []), true);
      expect(Array.from(net.theta)).toEqual([trace(dTheta, T + R), trace(dTheta, T + R)]);
      const frozen = Array.from(net.theta);
      net.runSample(spikeTrain(T, []), false);
      expect(Array.from(net.theta)).toEqual(frozen);
    }
  });
});

describe('getState / setState with carried state', () => {
  // Brian-like: no reset, simulated rest, conductance synapses, delays, diehl-cook learning.
  const specOf = (seed: number, restBetweenSamplesMs = 20) =>
    tinySpec({
      inputs: 40,
      neurons: 10,
      steps: 100,
      dtMs: 0.5,
      seed,
      resetBetweenSamples: false,
      restBetweenSamplesMs,
      encoder: { type: 'poisson', maxRateHz: 200 },
      excitatory: {
        adaptive: true,
        thetaPlusMv: 0.5,
        oneSpikePerStep: true,
        resetMv: -65,
        synapse: { type: 'conductance', excTauMs: 1, inhTauMs: 2, excReversalMv: 0, inhReversalMv: -100 },
      },
      inhibitory: { excToInh: 10.4, inhToExc: 17, synapse: { type: 'conductance', excTauMs: 1, inhTauMs: 2, excReversalMv: 0, inhReversalMv: -85 } },
      dense: {
        init: { dist: 'uniform', low: 0, high: 1 },
        plasticity: { rule: 'diehl-cook', nuPre: 1e-3, nuPost: 1e-2, tauPreMs: 20, tauPost1Ms: 20, tauPost2Ms: 40 },
        norm: 12,
        delay: { minMs: 0, maxMs: 5 },
      },
    });
  const image = (k: number) => Uint8Array.from({ length: 40 }, (_, i) => ((i * 37 + k * 101) % 7 === 0 ? 0 : (i * 53 + k * 29) % 256));

  // Without rest the conductances and delay lines are far from empty at the sample boundary.
  for (const rest of [20, 0]) {
    it(`a network restored from getState continues exactly like the original (rest ${rest} ms)`, () => {
      const spec = (seed: number) => specOf(seed, rest);
      const a = new Network(spec(8));
      for (let k = 0; k < 3; k++) a.runSample(image(k), true);
      const st = a.getState();
      expect(st.carried).toBeInstanceOf(Uint8Array);
      // Same seed, as a resumed run: the delays are drawn at construction and are not part of the
      // state (a network built with another seed keeps its own delays).
      const b = new Network(spec(8));
      b.runSample(image(0), true); // move it away from a itself: setState must overwrite everything
      b.setState(st);
      const c = new Network(spec(8)); // the same state without what carries over
      c.runSample(image(0), true);
      c.setState({ ...st, carried: undefined });
      let spikes = 0;
      let differs = false;
      for (let k = 3; k < 7; k++) {
        const learning = k !== 5;
        const [ra, rb, rc] = [0, 1, 2].map(() => createRecording([0, 3]));
        a.runSample(image(k), learning, ra);
        b.runSample(image(k), learning, rb);
        c.runSample(image(k), learning, rc);
        expect(rb.input).toEqual(ra.input);
        expect(rb.excitatory).toEqual(ra.excitatory);
        expect(rb.inhibitory).toEqual(ra.inhibitory);
        expect(rb.voltage).toEqual(ra.voltage);
        if (JSON.stringify(rc.voltage) !== JSON.stringify(ra.voltage)) differs = true;
        spikes += ra.excitatory.length / 2;
      }
      expect(spikes).toBeGreaterThan(5);
      expect(differs).toBe(true);
      sameBits(b.denseWeights(), a.denseWeights(), 'weights');
      sameBits(b.theta.slice(), a.theta.slice(), 'theta');
      expect(Array.from(b.rng.getState())).toEqual(Array.from(a.rng.getState()));
      // getState is a copy.
      const s2 = a.getState();
      s2.carried![0] ^= 0xff;
      s2.weights[0] = 123;
      expect(a.denseWeights()[0]).not.toBe(123);
    });
  }

  it('with reset there is nothing to carry, and a wrong-sized carried state is refused', () => {
    expect(new Network(tinySpec({})).getState().carried).toBeUndefined();
    const a = new Network(specOf(1));
    const st = a.getState();
    expect(() => a.setState({ ...st, carried: st.carried!.subarray(1) })).toThrow(/carried/);
  });
});

describe('recordings', () => {
  it('are the kernel’s: the input given, the spikes counted, v and thresholdMv + θ of the chosen neurons per input step', () => {
    const net = tinyNet(
      { inputs: 3, neurons: 20, steps: 15, excitatory: { adaptive: true, thetaInitMv: 0.25, refractoryMs: 2 } },
      [Array.from({ length: 20 }, (_, j) => (j % 3 === 0 ? 14 : 1)), Array(20).fill(13.5), Array(20).fill(0.5)],
    );
    const events: [number, number][] = [[0, 2], [1, 0], [1, 2], [4, 1], [5, 0], [9, 1], [9, 0], [14, 0]];
    const voltageNeurons = Array.from({ length: 18 }, (_, j) => 19 - j); // more than 16: the first 16 are recorded
    const rec = createRecording(voltageNeurons);
    const total = net.runSample(spikeTrain(15, events), true, rec);
    expect(rec.input).toEqual(events.flat());
    expect(net.inputSpikes).toBe(events.length);
    expect(rec.excitatory.length / 2).toBe(total);
    expect(net.excSpikes).toBe(total);
    const counts = new Array(20).fill(0);
    for (let a = 1; a < rec.excitatory.length; a += 2) counts[rec.excitatory[a]]++;
    expect(Array.from(net.counts)).toEqual(counts);
    expect(total).toBeGreaterThan(5);
    expect(rec.voltage.length).toBe(15 * 16);
    expect(rec.threshold.length).toBe(15 * 16);
    for (let q = 0; q < 16; q++) {
      const j = voltageNeurons[q];
      // The last step's threshold is thresholdMv + θ as the network holds it after the sample.
      expect(rec.threshold[14 * 16 + q]).toBe(f(-52 + net.theta[j]));
      // A recorded spike shows as v = reset at that step.
      for (let a = 0; a < rec.excitatory.length; a += 2) if (rec.excitatory[a + 1] === j) expect(rec.voltage[rec.excitatory[a] * 16 + q]).toBe(-60);
    }
  });
});
