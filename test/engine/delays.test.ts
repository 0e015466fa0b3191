/**
 * Per-synapse delays (docs/models.md step 1): D_ij = round(u_ij·(max − min)/dt + min/dt) drawn
 * row-major from the network's PRNG after the weights; a spike of input i at step s reaches
 * neuron j at s + 1 + D_ij carrying the weight of step s; learning uses emission times; a zero
 * delay is the same network as none.
 */
import { describe, expect, it } from 'vitest';
import { Prng } from '../../src/engine/prng.js';
import { decayFactor } from '../../src/engine/spec.js';
import { f, leak, run, sameBits, spikeTrain, tinyNet, tinySpec, trace, type TinyOptions } from './tiny.js';
import { createRecording, Network } from '../../src/engine/network.js';

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

describe('delays', () => {
  it('are drawn row-major from the PRNG after the weights: D = round(u·(max − min)/dt + min/dt)', () => {
    for (const [init, dt, minMs, maxMs] of [
      [{ dist: 'constant', value: 0.1 }, 1, 0, 8],
      [{ dist: 'uniform', low: 0, high: 0.3 }, 0.5, 1, 10],
    ] as const) {
      const inputs = 5;
      const neurons = 7;
      const net = tinyNet({ inputs, neurons, seed: 9, dtMs: dt, dense: { init, delay: { minMs, maxMs } } });
      const D = net.delays()!;
      expect(D.length).toBe(inputs * neurons);
      const rng = new Prng(9);
      if (init.dist === 'uniform') for (let e = 0; e < inputs * neurons; e++) rng.nextFloat24();
      for (let e = 0; e < inputs * neurons; e++) expect(D[e]).toBe(Math.round(rng.nextFloat24() * ((maxMs - minMs) / dt) + minMs / dt));
      expect(Math.min(...D)).toBeGreaterThanOrEqual(minMs / dt);
      expect(Math.max(...D)).toBeLessThanOrEqual(maxMs / dt);
      expect(new Set(D).size).toBeGreaterThan(3);
    }
    expect(tinyNet({}).delays()).toBeNull();
  });

  it('a spike of input i at step s changes neuron j’s voltage exactly at s + 1 + D_ij (arrivals summed in emission order)', () => {
    const inputs = 3;
    const neurons = 4;
    const steps = 30;
    const o: TinyOptions = { inputs, neurons, steps, seed: 3, dense: { delay: { minMs: 0, maxMs: 8 } } };
    const W = Array.from({ length: inputs }, (_, i) => Array.from({ length: neurons }, (_, j) => f(0.5 + 0.1 * i + 0.01 * j)));
    const net = tinyNet(o, W);
    const D = net.delays()!;
    const spikes: [number, number][] = [[2, 0], [2, 1], [5, 1], [9, 2], [12, 0]];
    const rec = run(net, spikeTrain(steps, spikes));
    expect(rec.excitatory).toEqual([]);
    const d = decayFactor(1, 100);
    for (let j = 0; j < neurons; j++) {
      const arrivals = new Map<number, number>();
      for (const [s, i] of spikes) {
        const t = s + 1 + D[i * neurons + j];
        arrivals.set(t, f((arrivals.get(t) ?? 0) + W[i][j]));
      }
      let v = -65;
      for (let t = 0; t < steps; t++) {
        const lv = leak(v, d, -65);
        v = arrivals.has(t) ? f(lv + arrivals.get(t)!) : lv;
        expect(rec.V(t, j), `neuron ${j}, step ${t}`).toBe(v);
        // The voltage jumps exactly at the arrival steps.
        expect(rec.V(t, j) !== (t === 0 ? -65 : leak(rec.V(t - 1, j), d, -65)), `neuron ${j}, step ${t}`).toBe(arrivals.has(t));
      }
    }
  });

  it('an arrival carries the weight of its emission step; learning uses the emission time', () => {
    // D = 4 everywhere. Input 0 (w = 0.3) spikes at 2 and arrives at 7; the driver (input 1)
    // spikes at 0, arrives at 5 and makes neuron 0 spike there, which potentiates w[0][0] by
    // nuPost·x(5 − 2) before input 0's spike arrives.
    const o: TinyOptions = {
      inputs: 2,
      neurons: 1,
      steps: 9,
      excitatory: { thresholdMv: -64, resetMv: -65, refractoryMs: 0 },
      dense: { delay: { minMs: 4, maxMs: 4 }, plasticity: { rule: 'post-pre', nuPre: 1e-4, nuPost: 0.05 } },
    };
    const net = tinyNet(o, [[0.3], [1]]);
    expect(Array.from(net.delays()!)).toEqual([4, 4]);
    const rec = run(net, spikeTrain(9, [[0, 1], [2, 0]]), true);
    expect(rec.excitatory).toEqual([5, 0]);
    const wNew = net.denseWeights()[0];
    expect(wNew).toBe(f(f(0.3) + f(trace(decayFactor(1, 20), 3) * f(0.05))));
    const d = decayFactor(1, 100);
    expect(rec.V(7, 0)).toBe(f(leak(rec.V(6, 0), d, -65) + f(0.3)));
    expect(rec.V(7, 0)).not.toBe(f(leak(rec.V(6, 0), d, -65) + wNew));
  });

  it('a zero delay is the same network as no delay (spikes, θ, weights, PRNG), with inhibition and learning', () => {
    const base = tinySpec({
      inputs: 30,
      neurons: 12,
      steps: 120,
      seed: 5,
      excitatory: { adaptive: true, oneSpikePerStep: true, thetaPlusMv: 0.5 },
      inhibitory: { inhToExc: -20 },
      dense: { init: { dist: 'uniform', low: 0, high: 1 }, plasticity: { rule: 'post-pre', nuPre: 1e-3, nuPost: 2e-2 }, norm: 15 },
    });
    const a = new Network(base);
    const b = new Network({ ...base, dense: { ...base.dense, delay: { minMs: 0, maxMs: 0 } } });
    expect(Array.from(b.delays()!).every((x) => x === 0)).toBe(true);
    // Same weights (drawn first); the delay draws advanced b's PRNG, which one-spike selection uses.
    sameBits(b.denseWeights(), a.denseWeights(), 'initial weights');
    b.setState({ ...b.getState(), prng: a.rng.getState() });
    const rnd = lcg(4);
    let spikes = 0;
    for (let k = 0; k < 4; k++) {
      const events: [number, number][] = [];
      for (let t = 0; t < 120; t++) for (let i = 0; i < 30; i++) if (rnd() < 0.08) events.push([t, i]);
      const train = spikeTrain(120, events);
      const ra = createRecording([0, 5]);
      const rb = createRecording([0, 5]);
      a.runSample(train, k !== 2, ra);
      b.runSample(train, k !== 2, rb);
      expect(rb.excitatory).toEqual(ra.excitatory);
      expect(rb.inhibitory).toEqual(ra.inhibitory);
      expect(rb.voltage).toEqual(ra.voltage);
      spikes += ra.excitatory.length / 2;
    }
    expect(spikes).toBeGreaterThan(10);
    sameBits(b.denseWeights(), a.denseWeights(), 'weights');
    sameBits(b.theta.slice(), a.theta.slice(), 'theta');
    expect(Array.from(b.rng.getState())).toEqual(Array.from(a.rng.getState()));
  });
});
