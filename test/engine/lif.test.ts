/**
 * LIF neurons: the closed form of v ← rest + d(v − rest) + I, threshold crossing, reset,
 * refractoriness, and the event-driven variant against the dense one.
 */
import { describe, expect, it } from 'vitest';
import { ActiveSet, createLifState, decayFactor, lifParams, resetLifState, stepLif, stepLifActive } from '../../src/engine/lif.js';

const f = Math.fround;

const EXC = { restMv: -65, resetMv: -60, thresholdMv: -52, refractoryMs: 5, tauMs: 100 };
const INH = { restMv: -60, resetMv: -45, thresholdMv: -40, refractoryMs: 2, tauMs: 10 };

function bits(x: number): number {
  return new Uint32Array(Float32Array.of(x).buffer)[0];
}

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/** Closed form of u_k = d·u_{k−1} + I from u_0: d^k·u_0 + I(1 − d^k)/(1 − d), u = v − rest. */
function closedForm(d: number, u0: number, I: number, k: number): number {
  return d ** k * u0 + (I * (1 - d ** k)) / (1 - d);
}

describe('decayFactor', () => {
  it('is exp(−dt/τ) rounded to float32 (trace 0.951229, Ae 0.990050, Ai 0.904837)', () => {
    expect(decayFactor(1, 20)).toBe(f(Math.exp(f(-1 / 20))));
    expect(Math.abs(decayFactor(1, 20) - 0.951229)).toBeLessThan(1e-6);
    expect(Math.abs(decayFactor(1, 100) - 0.99005)).toBeLessThan(1e-6);
    expect(Math.abs(decayFactor(1, 10) - 0.904837)).toBeLessThan(1e-6);
    expect(Math.abs(decayFactor(0.5, 10) - Math.exp(-0.05))).toBeLessThan(1e-7);
    expect(f(decayFactor(1, 100))).toBe(decayFactor(1, 100));
  });
});

describe('stepLif', () => {
  it('voltage under constant input follows the geometric-series closed form (float32 tolerance)', () => {
    const p = lifParams(EXC, 1);
    // Inputs small enough never to reach threshold within the checked steps.
    const inputs = [0, 0.05, 0.1, 0.2, -0.3];
    const s = createLifState(p, inputs.length);
    const spikes = new Uint8Array(inputs.length);
    for (let k = 1; k <= 60; k++) {
      expect(stepLif(p, s, inputs, spikes)).toBe(0);
      for (let j = 0; j < inputs.length; j++) {
        const want = p.restMv + closedForm(p.decay, 0, inputs[j], k);
        // Each step rounds ≤ 3 times at |v| ≈ 65 (half-ulp 3.8e-6); errors are damped by d.
        expect(Math.abs(s.v[j] - want)).toBeLessThanOrEqual(k * 1.2e-5);
      }
    }
    // Zero input: stays exactly at rest.
    expect(s.v[0]).toBe(-65);
  });

  it('decays from an arbitrary voltage toward rest as rest + d^k(v0 − rest)', () => {
    const p = lifParams(INH, 1);
    const s = createLifState(p, 1);
    s.v[0] = -42; // below the −40 threshold
    const spikes = new Uint8Array(1);
    for (let k = 1; k <= 20; k++) {
      expect(stepLif(p, s, [0], spikes)).toBe(0);
      expect(Math.abs(s.v[0] - (p.restMv + p.decay ** k * 18))).toBeLessThanOrEqual(k * 1.2e-5);
    }
  });

  it('spikes at the analytically predicted step, then resets and stays refractory', () => {
    const p = lifParams(EXC, 1);
    const gap = p.thresholdMv - p.restMv; // 13 mV
    for (const I of [0.2, 0.4, 0.7, 1.3, 3.1]) {
      // First k with I(1 − d^k)/(1 − d) ≥ gap.
      let kPred = 1;
      while (closedForm(p.decay, 0, I, kPred) < gap) kPred++;
      // The prediction must not hinge on float32 rounding.
      expect(closedForm(p.decay, 0, I, kPred) - gap).toBeGreaterThan(1e-3);
      expect(gap - closedForm(p.decay, 0, I, kPred - 1)).toBeGreaterThan(1e-3);

      const s = createLifState(p, 1);
      const spikes = new Uint8Array(1);
      let spikeAt = -1;
      for (let k = 1; k <= kPred + 20 && spikeAt < 0; k++) {
        const n = stepLif(p, s, [I], spikes);
        expect(n).toBe(spikes[0]);
        if (spikes[0]) spikeAt = k;
      }
      expect(spikeAt).toBe(kPred);
      expect(s.v[0]).toBe(-60);
      expect(s.refractory[0]).toBe(5);
    }
  });

  it('v ≥ threshold counts as a crossing (equality spikes)', () => {
    const p = lifParams(EXC, 1);
    const s = createLifState(p, 2);
    const spikes = new Uint8Array(2);
    // From rest, +13 lands exactly on −52 (exact in float32); +12.99 does not.
    expect(stepLif(p, s, [13, 12.99], spikes)).toBe(1);
    expect(Array.from(spikes)).toEqual([1, 0]);
    expect(s.v[0]).toBe(-60);
    expect(s.v[1]).toBe(f(-65 + 12.99));
  });

  it('refractory: input is ignored for exactly refractoryMs/dt steps after a spike', () => {
    for (const [dt, refractoryMs] of [
      [1, 5],
      [1, 2],
      [0.5, 2],
      [0.25, 3],
    ] as const) {
      const p = lifParams({ ...EXC, refractoryMs }, dt);
      const R = Math.round(refractoryMs / dt);
      const s = createLifState(p, 1);
      const spikes = new Uint8Array(1);
      const I = 20; // any non-refractory step from at most reset crosses threshold
      expect(stepLif(p, s, [I], spikes)).toBe(1);
      let v = p.resetMv;
      for (let k = 1; k <= R; k++) {
        expect(stepLif(p, s, [I], spikes)).toBe(0);
        v = f(f(p.decay * f(v - p.restMv)) + p.restMv); // pure decay: the input is masked
        expect(s.v[0]).toBe(v);
        expect(s.refractory[0]).toBe(f(refractoryMs - k * dt));
      }
      // Step R+1: refractory counter has reached 0, input is accepted again → spike.
      expect(stepLif(p, s, [I], spikes)).toBe(1);
      expect(s.v[0]).toBe(p.resetMv);
    }
  });

  it('zero refractory period: input accepted on the very next step', () => {
    const p = lifParams({ ...EXC, refractoryMs: 0 }, 1);
    const s = createLifState(p, 1);
    const spikes = new Uint8Array(1);
    expect(stepLif(p, s, [20], spikes)).toBe(1);
    expect(stepLif(p, s, [20], spikes)).toBe(1);
  });

  it('resetLifState puts every neuron at rest with no refractoriness', () => {
    const p = lifParams(INH, 1);
    const s = createLifState(p, 3);
    stepLif(p, s, [30, 5, 0], new Uint8Array(3));
    expect(s.v[0]).toBe(-45);
    resetLifState(p, s);
    expect(Array.from(s.v)).toEqual([-60, -60, -60]);
    expect(Array.from(s.refractory)).toEqual([0, 0, 0]);
  });
});

describe('stepLifActive', () => {
  it('agrees bitwise with stepLif over a random sparse input sequence', () => {
    const p = lifParams(INH, 1);
    const n = 64;
    const dense = createLifState(p, n);
    const sparse = createLifState(p, n);
    const active = new ActiveSet(n);
    const input = new Float64Array(n);
    const spikes = new Uint8Array(n);
    const spikesOut = new Int32Array(n);
    const rnd = lcg(17);
    let totalSpikes = 0;
    for (let t = 0; t < 3000; t++) {
      for (let j = 0; j < n; j++) {
        const u = rnd();
        if (u < 0.03) input[j] = 22.5;
        else if (u < 0.08) input[j] = rnd() * 30 - 5;
        if (input[j] !== 0) active.add(j);
      }
      const nd = stepLif(p, dense, input, spikes);
      const ns = stepLifActive(p, sparse, active, input, spikesOut);
      expect(ns).toBe(nd);
      const fromDense = [];
      for (let j = 0; j < n; j++) if (spikes[j]) fromDense.push(j);
      expect(Array.from(spikesOut.subarray(0, ns)).sort((a, b) => a - b)).toEqual(fromDense);
      totalSpikes += nd;
      for (let j = 0; j < n; j++) {
        if (bits(dense.v[j]) !== bits(sparse.v[j])) throw new Error(`t=${t} j=${j}: v ${dense.v[j]} vs ${sparse.v[j]}`);
        // Counters ≤ 0 are all equivalent (not refractory); the sparse one stops counting at rest.
        const rd = dense.refractory[j] > 0 ? dense.refractory[j] : 0;
        const rs = sparse.refractory[j] > 0 ? sparse.refractory[j] : 0;
        if (bits(rd) !== bits(rs)) throw new Error(`t=${t} j=${j}: refractory ${dense.refractory[j]} vs ${sparse.refractory[j]}`);
      }
      input.fill(0);
    }
    expect(totalSpikes).toBeGreaterThan(100);
    // Without input both relax toward rest identically. In float32 the decay stalls a few ulps
    // from rest (d·x rounds back to x once (1−d)·x < ½ ulp), as PyTorch's does.
    for (let t = 0; t < 400; t++) {
      stepLif(p, dense, input, spikes);
      stepLifActive(p, sparse, active, input, spikesOut);
    }
    const ulp = 2 ** -18; // float32 spacing at |v| = 60
    for (let j = 0; j < n; j++) {
      expect(bits(sparse.v[j])).toBe(bits(dense.v[j]));
      expect(Math.abs(dense.v[j] + 60)).toBeLessThanOrEqual((0.5 / (1 - p.decay)) * ulp);
    }
  });

  it('drops neurons exactly at rest and not refractory from the active set (exact: they map to themselves)', () => {
    const p = lifParams(INH, 1);
    const s = createLifState(p, 4);
    const active = new ActiveSet(4);
    const input = new Float64Array(4);
    const out = new Int32Array(4);
    active.add(1); // at rest, no input
    active.add(2);
    input[2] = 5; // pushed away from rest
    expect(stepLifActive(p, s, active, input, out)).toBe(0);
    expect(active.size).toBe(1);
    expect(active.list[0]).toBe(2);
    expect(s.v[1]).toBe(-60);
    expect(s.v[2]).toBe(-55);
    // A spike keeps the neuron active (reset ≠ rest, refractory > 0).
    input[2] = 0;
    input[3] = 30;
    active.add(3);
    expect(stepLifActive(p, s, active, input, out)).toBe(1);
    expect(out[0]).toBe(3);
    expect(active.size).toBe(2);
  });
});

describe('ActiveSet', () => {
  it('adds each index once, removes in O(1) and clears', () => {
    const a = new ActiveSet(10);
    a.add(3);
    a.add(7);
    a.add(3);
    expect(a.size).toBe(2);
    a.removeAt(0);
    expect(a.size).toBe(1);
    expect(a.list[0]).toBe(7);
    a.add(3);
    expect(a.size).toBe(2);
    a.clear();
    expect(a.size).toBe(0);
    a.add(7);
    expect(a.size).toBe(1);
  });
});
