/**
 * Adaptive-threshold LIF (DiehlAndCookNodes): θ increments, θ decay only while learning,
 * effective threshold thresholdMv + θ, the float32 θ decay factor, input composition.
 */
import { describe, expect, it } from 'vitest';
import {
  adaptiveLifParams,
  createAdaptiveLifState,
  resetAdaptiveLifState,
  stepAdaptiveLif,
} from '../../src/engine/adaptive-lif.js';

const f = Math.fround;
const AE = { restMv: -65, resetMv: -60, thresholdMv: -52, refractoryMs: 5, tauMs: 100, thetaPlusMv: 0.05, tauThetaMs: 1e7 };

function run(
  p: ReturnType<typeof adaptiveLifParams>,
  s: ReturnType<typeof createAdaptiveLifState>,
  input: number[],
  learning: boolean,
  uniform = 0,
  extra?: number[],
): number[] {
  const n = s.v.length;
  const crossed = new Int32Array(n);
  const k = stepAdaptiveLif(p, s, Float32Array.from(input), extra ? Float32Array.from(extra) : new Float32Array(n), uniform, learning, crossed);
  return Array.from(crossed.subarray(0, k));
}

describe('adaptiveLifParams', () => {
  it('θ decay for τθ = 1e7 ms is fl32(exp(fl32(−1e-7))) = 1 − 2^-23 ≈ 1 − 1.19e-7, not 1 − 1e-7', () => {
    const p = adaptiveLifParams(AE, 1);
    expect(p.thetaDecay).toBe(Math.fround(Math.exp(Math.fround(-1e-7))));
    expect(p.thetaDecay).toBe(1 - 2 ** -23);
    expect(Math.abs(1 - p.thetaDecay - 1.19e-7)).toBeLessThan(1e-9);
    expect(p.thetaDecay).not.toBe(1 - 1e-7);
    expect(p.decay).toBe(f(Math.exp(f(-0.01))));
    expect(p.thetaPlusMv).toBe(f(0.05));
  });
});

describe('stepAdaptiveLif', () => {
  it('θ += thetaPlus on every spike while learning (after this step’s decay)', () => {
    const p = adaptiveLifParams({ ...AE, refractoryMs: 0 }, 1);
    const s = createAdaptiveLifState(p, 1);
    let theta = 0;
    for (let k = 0; k < 20; k++) {
      // A huge input spikes every step (no refractoriness) regardless of θ.
      expect(run(p, s, [100], true)).toEqual([0]);
      theta = f(f(theta * p.thetaDecay) + p.thetaPlusMv);
      expect(s.theta[0]).toBe(theta);
    }
    expect(Math.abs(s.theta[0] - 20 * 0.05)).toBeLessThan(1e-5);
  });

  it('θ decays by thetaDecay each step while learning and is frozen when not', () => {
    const p = adaptiveLifParams({ ...AE, tauThetaMs: 10 }, 1); // visible decay: d ≈ 0.9048
    const s = createAdaptiveLifState(p, 2);
    s.theta[0] = 3;
    s.theta[1] = 0.7;
    for (let k = 1; k <= 30; k++) {
      run(p, s, [0, 0], true);
      expect(Math.abs(s.theta[0] - 3 * Math.exp(-k / 10))).toBeLessThan(3e-6 * k);
      expect(Math.abs(s.theta[1] - 0.7 * Math.exp(-k / 10))).toBeLessThan(1e-6 * k);
    }
    // Repeated float32 multiplication, bit for bit.
    let th = f(3);
    for (let k = 0; k < 30; k++) th = f(th * p.thetaDecay);
    expect(s.theta[0]).toBe(th);
    const frozen = Float32Array.from(s.theta);
    for (let k = 0; k < 50; k++) run(p, s, [0, 0], false);
    expect(Array.from(s.theta)).toEqual(Array.from(frozen));
    // Spikes without learning do not bump θ either.
    expect(run(p, s, [100, 100], false)).toEqual([0, 1]);
    expect(Array.from(s.theta)).toEqual(Array.from(frozen));
  });

  it('with τθ = 1e7 ms θ shrinks by one float32 factor 1 − 2^-23 per learning step', () => {
    const p = adaptiveLifParams(AE, 1);
    const s = createAdaptiveLifState(p, 1);
    s.theta[0] = 1;
    run(p, s, [0], true);
    expect(s.theta[0]).toBe(1 - 2 ** -23);
  });

  it('the effective threshold is thresholdMv + θ', () => {
    const p = adaptiveLifParams(AE, 1);
    const s = createAdaptiveLifState(p, 4);
    s.theta.set([0, 2, 2, 0.5]);
    // From rest (−65): +14 → −51 (≥ −52 but < −50); +16 → −49 (≥ −50); +13.4 → −51.6 (< −51.5).
    const crossed = run(p, s, [14, 14, 16, 13.4], false);
    expect(crossed).toEqual([0, 2]);
    expect(s.v[1]).toBe(-51);
    expect(s.v[3]).toBe(f(-65 + f(13.4)));
    // Exactly at thresholdMv + θ counts as a crossing.
    const s2 = createAdaptiveLifState(p, 1);
    s2.theta[0] = 1; // threshold −51
    expect(run(p, s2, [14], false)).toEqual([0]);
  });

  it('a neuron with θ > 0 needs more input than thresholdMv alone predicts', () => {
    const p = adaptiveLifParams(AE, 1);
    const gap = p.thresholdMv - p.restMv;
    const I = 0.5;
    const stepsToCross = (theta: number) => {
      const s = createAdaptiveLifState(p, 1);
      s.theta[0] = theta;
      for (let k = 1; k < 1000; k++) if (run(p, s, [I], false).length) return k;
      return Infinity;
    };
    const predicted = (g: number) => {
      let k = 1;
      while ((I * (1 - p.decay ** k)) / (1 - p.decay) < g) k++;
      return k;
    };
    expect(stepsToCross(0)).toBe(predicted(gap));
    expect(stepsToCross(5)).toBe(predicted(gap + 5));
    expect(stepsToCross(5)).toBeGreaterThan(stepsToCross(0));
    // θ beyond the asymptote I/(1−d) − gap: never crosses.
    expect(stepsToCross(I / (1 - p.decay) - gap + 1)).toBe(Infinity);
  });

  it('spiking: v ← reset, refractory ← tRef; input ignored for refractoryMs/dt steps', () => {
    const p = adaptiveLifParams(AE, 1);
    const s = createAdaptiveLifState(p, 1);
    expect(run(p, s, [50], true)).toEqual([0]);
    expect(s.v[0]).toBe(-60);
    expect(s.refractory[0]).toBe(5);
    let v = -60;
    for (let k = 1; k <= 5; k++) {
      expect(run(p, s, [50], true)).toEqual([]);
      v = f(f(p.decay * f(v - p.restMv)) + p.restMv);
      expect(s.v[0]).toBe(v);
    }
    expect(run(p, s, [50], true)).toEqual([0]);
  });

  it('input is (input + extra) + uniform in float32, and reports every crossing in ascending order', () => {
    const p = adaptiveLifParams(AE, 1);
    const s = createAdaptiveLifState(p, 5);
    // uniform −120 (one inhibitory spike), extra +120 on neuron 2 (its own partner: all-but-self).
    const crossed = run(p, s, [20, 20, 20, 0.3, 20], true, -120, [0, 0, 120, 0, 0]);
    expect(crossed).toEqual([2]);
    expect(s.v[0]).toBe(f(-65 + f(f(20 + 0) - 120)));
    expect(s.v[3]).toBe(f(-65 + f(f(0.3) - 120)));
    const s2 = createAdaptiveLifState(p, 5);
    expect(run(p, s2, [20, 1, 20, 20, 0], true)).toEqual([0, 2, 3]);
  });

  it('padding lanes with θ = +∞ never cross', () => {
    const p = adaptiveLifParams(AE, 1);
    const s = createAdaptiveLifState(p, 3);
    s.theta[2] = Infinity;
    for (let k = 0; k < 10; k++) expect(run(p, s, [1e6, 0, 1e6], true)).not.toContain(2);
    expect(s.theta[2]).toBe(Infinity);
  });

  it('reset keeps θ but restores v and refractory', () => {
    const p = adaptiveLifParams(AE, 1);
    const s = createAdaptiveLifState(p, 2);
    run(p, s, [50, 3], true);
    const theta = Array.from(s.theta);
    expect(theta[0]).toBeGreaterThan(0);
    resetAdaptiveLifState(p, s);
    expect(Array.from(s.v)).toEqual([-65, -65]);
    expect(Array.from(s.refractory)).toEqual([0, 0]);
    expect(Array.from(s.theta)).toEqual(theta);
  });
});
