/**
 * LIF neurons with current synapses, driven through the kernel by spike trains: the closed form
 * of v ← rest + d(v − rest) + I, threshold crossing (equality spikes), reset, refractoriness, the
 * reset between samples, and the event-driven inhibitory layer against a dense float32 update.
 */
import { describe, expect, it } from 'vitest';
import { decayFactor } from '../../src/engine/spec.js';
import { byStep, EXC, f, INH, leak, run, spikeTrain, tinyNet } from './tiny.js';

/** Closed form of u_k = d·u_{k−1} + I from u_0: d^k·u_0 + I(1 − d^k)/(1 − d), u = v − rest. */
function closedForm(d: number, u0: number, I: number, k: number): number {
  return d ** k * u0 + (I * (1 - d ** k)) / (1 - d);
}

/** Input 0 spiking at every step 0 … steps−1 (it arrives one step later). */
function everyStep(steps: number, input = 0): [number, number][] {
  return Array.from({ length: steps }, (_, t) => [t, input] as [number, number]);
}

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
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

describe('LIF (current synapses) in the kernel', () => {
  const d = decayFactor(1, EXC.tauMs);

  it('voltage under constant input follows the geometric-series closed form (float32 tolerance)', () => {
    // Input 0 spikes every step; its weight to neuron j is the constant input current I_j.
    const I = [0, 0.05, 0.1, 0.2, -0.3];
    const steps = 61;
    const net = tinyNet({ inputs: 1, neurons: I.length, steps }, [I]);
    const rec = run(net, spikeTrain(steps, everyStep(steps)));
    expect(rec.excitatory).toEqual([]);
    for (let k = 0; k < steps; k++)
      for (let j = 0; j < I.length; j++) {
        // The spike of step t−1 arrives at t: after step k, k inputs have arrived.
        const want = -65 + closedForm(d, 0, I[j], k);
        // Each step rounds ≤ 3 times at |v| ≈ 65 (half-ulp 3.8e-6); errors are damped by d.
        expect(Math.abs(rec.V(k, j) - want)).toBeLessThanOrEqual(k * 1.2e-5 + 1e-12);
      }
    // Zero input: stays exactly at rest.
    for (let k = 0; k < steps; k++) expect(rec.V(k, 0)).toBe(-65);
  });

  it('decays from an arbitrary voltage toward rest as rest + d^k(v0 − rest)', () => {
    const dI = decayFactor(1, INH.tauMs);
    const net = tinyNet({ inputs: 1, neurons: 1, steps: 22, excitatory: INH }, [[18]]);
    const rec = run(net, spikeTrain(22, [[0, 0]]));
    expect(rec.V(0, 0)).toBe(-60);
    expect(rec.V(1, 0)).toBe(-42); // one kick of 18 mV, below the −40 threshold
    for (let k = 1; k <= 20; k++) expect(Math.abs(rec.V(1 + k, 0) - (-60 + dI ** k * 18))).toBeLessThanOrEqual(k * 1.2e-5);
    expect(rec.excitatory).toEqual([]);
  });

  it('spikes at the analytically predicted step, then resets and stays refractory', () => {
    const gap = EXC.thresholdMv - EXC.restMv; // 13 mV
    for (const I of [0.2, 0.4, 0.7, 1.3, 3.1]) {
      // First k with I(1 − d^k)/(1 − d) ≥ gap.
      let kPred = 1;
      while (closedForm(d, 0, I, kPred) < gap) kPred++;
      // The prediction must not hinge on float32 rounding.
      expect(closedForm(d, 0, I, kPred) - gap).toBeGreaterThan(1e-3);
      expect(gap - closedForm(d, 0, I, kPred - 1)).toBeGreaterThan(1e-3);
      const steps = kPred + 3;
      const net = tinyNet({ inputs: 1, neurons: 1, steps }, [[I]]);
      const rec = run(net, spikeTrain(steps, everyStep(steps)));
      expect(rec.excitatory.slice(0, 2)).toEqual([kPred, 0]);
      expect(rec.V(kPred, 0)).toBe(-60);
      // Refractory: the next steps only decay from reset.
      expect(rec.V(kPred + 1, 0)).toBe(leak(-60, d, -65));
      expect(rec.V(kPred + 2, 0)).toBe(leak(leak(-60, d, -65), d, -65));
      expect(net.counts[0]).toBe(1);
      expect(net.excSpikes).toBe(1);
    }
  });

  it('v ≥ threshold counts as a crossing (equality spikes)', () => {
    const net = tinyNet({ inputs: 1, neurons: 2, steps: 3 }, [[13, 12.99]]);
    // From rest, +13 lands exactly on −52 (exact in float32); +12.99 does not.
    const rec = run(net, spikeTrain(3, [[0, 0]]));
    expect(rec.excitatory).toEqual([1, 0]);
    expect(rec.V(1, 0)).toBe(-60);
    expect(rec.V(1, 1)).toBe(f(-65 + f(12.99)));
  });

  it('refractory: input is ignored for exactly refractoryMs/dt steps after a spike', () => {
    for (const [dt, refractoryMs] of [
      [1, 5],
      [1, 2],
      [0.5, 2],
      [0.25, 3],
    ] as const) {
      const R = Math.round(refractoryMs / dt);
      const steps = R + 4;
      const dd = decayFactor(dt, EXC.tauMs);
      // Any non-refractory step from at most reset crosses threshold with +20 mV.
      const net = tinyNet({ inputs: 1, neurons: 1, steps, dtMs: dt, excitatory: { refractoryMs } }, [[20]]);
      const rec = run(net, spikeTrain(steps, everyStep(steps)));
      expect(rec.V(1, 0)).toBe(-60);
      let v = -60;
      for (let k = 1; k <= R; k++) {
        v = leak(v, dd, -65); // pure decay: the input is masked
        expect(rec.V(1 + k, 0)).toBe(v);
      }
      // Step R+1 after the spike: the refractory counter has reached 0, input is accepted → spike.
      expect(rec.excitatory.slice(0, 4)).toEqual([1, 0, 2 + R, 0]);
      expect(rec.V(2 + R, 0)).toBe(-60);
    }
  });

  it('zero refractory period: input accepted on the very next step', () => {
    const net = tinyNet({ inputs: 1, neurons: 1, steps: 4, excitatory: { refractoryMs: 0 } }, [[20]]);
    const rec = run(net, spikeTrain(4, everyStep(4)));
    expect(rec.excitatory).toEqual([1, 0, 2, 0, 3, 0]);
  });

  it('with resetBetweenSamples every sample starts at rest, not refractory', () => {
    const net = tinyNet({ inputs: 2, neurons: 3, steps: 5, excitatory: INH }, [
      [30, 5, 0],
      [0, 0, 0],
    ]);
    const a = run(net, spikeTrain(5, [[3, 0]]));
    expect(a.excitatory).toEqual([4, 0]);
    expect(a.V(4, 0)).toBe(-45);
    expect(a.V(4, 1)).toBe(-55);
    // Next sample: step 0 has no arrivals, so v(0) is rest exactly; neuron 0 is not refractory.
    const b = run(net, spikeTrain(5, [[0, 0]]));
    for (let j = 0; j < 3; j++) expect(b.V(0, j)).toBe(-60);
    expect(b.excitatory).toEqual([1, 0]);
  });
});

describe('input current', () => {
  it('is the float32 sum of the weight rows of the inputs that spiked at t−1, in spike order, from 0', () => {
    // rest = 0 and an unreachable threshold: v after one step from rest equals the input exactly.
    const inputs = 40;
    const neurons = 21;
    const rnd = lcg(5);
    const W = Array.from({ length: inputs }, () => Array.from({ length: neurons }, () => f(rnd() * 3 - 1)));
    const rows = [7, 3, 39, 0, 12, 11, 25];
    // At most 16 voltages per recording: two networks, neurons 0–15 and 16–20.
    const V = (() => {
      const recs = [Array.from({ length: 16 }, (_, j) => j), [16, 17, 18, 19, 20]].map((vn) => {
        const net = tinyNet({ inputs, neurons, steps: 3, excitatory: { restMv: 0, resetMv: 0, thresholdMv: 1e30 } }, W);
        expect(net.paddedNeurons).toBe(32);
        const rec = run(net, spikeTrain(3, rows.map((i) => [0, i] as [number, number])), false, vn);
        expect(rec.input).toEqual(rows.flatMap((i) => [0, i]));
        return rec;
      });
      return (t: number, j: number) => (j < 16 ? recs[0].V(t, j) : recs[1].V(t, j));
    })();
    const rec = { V };
    let orderMatters = false;
    for (let j = 0; j < neurons; j++) {
      let acc = 0;
      for (const r of rows) acc = f(acc + W[r][j]);
      expect(rec.V(0, j)).toBe(0);
      expect(rec.V(1, j)).toBe(acc);
      let sorted = 0;
      for (const r of [...rows].sort((a, b) => a - b)) sorted = f(sorted + W[r][j]);
      if (sorted !== acc) orderMatters = true;
      // And it is the real sum to float32 accuracy.
      const exact = rows.reduce((a, r) => a + W[r][j], 0);
      expect(Math.abs(rec.V(1, j) - exact)).toBeLessThan(1e-5);
    }
    // The rows were chosen so that the summation order shows in the bits of some neuron.
    expect(orderMatters).toBe(true);
  });

  it('pads the neurons to a multiple of 16 (the kernel’s SIMD block)', () => {
    for (const [n, padded] of [
      [1, 16],
      [16, 16],
      [17, 32],
      [100, 112],
    ]) {
      const net = tinyNet({ inputs: 1, neurons: n });
      expect(net.paddedNeurons).toBe(padded);
      expect(net.theta.length).toBe(n);
      expect(net.counts.length).toBe(n);
    }
  });
});

describe('event-driven inhibitory layer', () => {
  it('spikes exactly when a dense float32 update of every inhibitory neuron says (random sub-threshold kicks)', () => {
    // E neuron k spikes whenever input k spiked the step before (30 mV, no refractoriness);
    // each E spike kicks its inhibitory partner by wEI = 8 mV the step after, so an inhibitory
    // neuron needs several kicks close together to reach −40 from −60. The kernel visits only
    // inhibitory neurons away from rest; the dense update below visits all of them every step.
    const n = 12;
    const steps = 400;
    const wEI = 8;
    const weights = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 30 : 0)));
    const net = tinyNet(
      { inputs: n, neurons: n, steps, excitatory: { refractoryMs: 0 }, inhibitory: { excToInh: wEI, inhToExc: -0.25 } },
      weights,
    );
    const rnd = lcg(17);
    const events: [number, number][] = [];
    for (let t = 0; t < steps; t++) for (let k = 0; k < n; k++) if (rnd() < (k % 3 === 0 ? 0.5 : 0.15)) events.push([t, k]);
    const rec = run(net, spikeTrain(steps, events), false, []);
    // The dense reference from the recorded excitatory raster.
    const sE = Array.from({ length: steps }, () => new Uint8Array(n));
    for (let a = 0; a < rec.excitatory.length; a += 2) sE[rec.excitatory[a]][rec.excitatory[a + 1]] = 1;
    const dI = decayFactor(1, INH.tauMs);
    const v = new Float32Array(n).fill(-60);
    const r = new Float32Array(n);
    const want: number[] = [];
    for (let t = 0; t < steps; t++)
      for (let k = 0; k < n; k++) {
        v[k] = leak(v[k], dI, -60);
        if (r[k] <= 0 && t > 0 && sE[t - 1][k]) v[k] = f(v[k] + f(wEI));
        r[k] = f(r[k] - 1);
        if (v[k] >= -40) {
          v[k] = -45;
          r[k] = 2;
          want.push(t, k);
        }
      }
    // Within a step the kernel lists spikes in its active-set order: compare per step, sorted.
    const sorted = (pairs: number[]) => byStep(pairs, steps).map((s) => s.sort((a, b) => a - b));
    expect(sorted(rec.inhibitory)).toEqual(sorted(want));
    // The drive really exercised both spiking and sub-threshold decay back toward rest.
    expect(want.length / 2).toBeGreaterThan(20);
    let subThreshold = 0;
    const sH = sorted(want);
    for (let a = 0; a < rec.excitatory.length; a += 2) {
      const [t, k] = [rec.excitatory[a], rec.excitatory[a + 1]];
      if (t + 1 < steps && !sH[t + 1].includes(k)) subThreshold++;
    }
    expect(subThreshold).toBeGreaterThan(200);
  });
});
