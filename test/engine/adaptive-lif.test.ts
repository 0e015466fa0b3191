/**
 * Adaptive-threshold LIF (DiehlAndCookNodes) in the kernel: θ increments, θ decay only while
 * learning, effective threshold thresholdMv + θ, the float32 θ decay factor, the composition of
 * the input with all-but-self inhibition, crossing order, padding neurons that never spike.
 */
import { describe, expect, it } from 'vitest';
import { decayFactor } from '../../src/engine/spec.js';
import { f, leak, run, spikeTrain, tinyNet, type TinyOptions } from './tiny.js';

const ADAPTIVE = { adaptive: true, thetaPlusMv: 0.05, tauThetaMs: 1e7 };

function withTheta(net: ReturnType<typeof tinyNet>, theta: number[]): void {
  net.setState({ ...net.getState(), theta: Float32Array.from(theta) });
}

describe('θ decay factor', () => {
  it('for τθ = 1e7 ms is fl32(exp(fl32(−1e-7))) = 1 − 2^-23 ≈ 1 − 1.19e-7, not 1 − 1e-7', () => {
    const d = decayFactor(1, 1e7);
    expect(d).toBe(1 - 2 ** -23);
    expect(Math.abs(1 - d - 1.19e-7)).toBeLessThan(1e-9);
    expect(d).not.toBe(1 - 1e-7);
  });

  it('with τθ = 1e7 ms θ shrinks by one float32 factor 1 − 2^-23 per learning step', () => {
    const net = tinyNet({ inputs: 1, neurons: 1, steps: 1, excitatory: ADAPTIVE });
    withTheta(net, [1]);
    net.runSample(spikeTrain(1, []), true);
    expect(net.theta[0]).toBe(1 - 2 ** -23);
  });
});

describe('adaptive LIF in the kernel', () => {
  it('θ += thetaPlus on every spike while learning (after this step’s decay); the threshold recorded is thresholdMv + θ', () => {
    // A huge input every step spikes every step (no refractoriness) regardless of θ.
    const steps = 21;
    const net = tinyNet({ inputs: 1, neurons: 1, steps, excitatory: { ...ADAPTIVE, refractoryMs: 0 } }, [[100]]);
    const rec = run(net, spikeTrain(steps, Array.from({ length: steps }, (_, t) => [t, 0] as [number, number])), true);
    const d = decayFactor(1, 1e7);
    let theta = 0;
    for (let t = 0; t < steps; t++) {
      theta = f(theta * d);
      if (t > 0) theta = f(theta + f(0.05));
      expect(rec.TH(t, 0)).toBe(f(-52 + theta));
    }
    expect(rec.excitatory.length / 2).toBe(steps - 1);
    expect(net.theta[0]).toBe(theta);
    expect(Math.abs(net.theta[0] - 20 * 0.05)).toBeLessThan(1e-5);
  });

  it('θ decays by thetaDecay each step while learning and is frozen when not', () => {
    const o: TinyOptions = { inputs: 2, neurons: 2, steps: 30, excitatory: { ...ADAPTIVE, tauThetaMs: 10 } }; // d ≈ 0.9048
    const net = tinyNet(o, [
      [100, 0],
      [0, 100],
    ]);
    withTheta(net, [3, 0.7]);
    const d = decayFactor(1, 10);
    const rec = run(net, spikeTrain(30, []), true);
    let th0 = f(3);
    let th1 = f(0.7);
    for (let k = 1; k <= 30; k++) {
      th0 = f(th0 * d);
      th1 = f(th1 * d);
      // Repeated float32 multiplication, bit for bit, and close to the exponential.
      expect(rec.TH(k - 1, 0)).toBe(f(-52 + th0));
      expect(rec.TH(k - 1, 1)).toBe(f(-52 + th1));
      expect(Math.abs(th0 - 3 * Math.exp(-k / 10))).toBeLessThan(3e-6 * k);
      expect(Math.abs(th1 - 0.7 * Math.exp(-k / 10))).toBeLessThan(1e-6 * k);
    }
    expect(Array.from(net.theta)).toEqual([th0, th1]);
    const frozen = Array.from(net.theta);
    net.runSample(spikeTrain(30, []), false);
    net.runSample(spikeTrain(30, []), false);
    expect(Array.from(net.theta)).toEqual(frozen);
    // Spikes without learning do not bump θ either.
    const rec2 = run(net, spikeTrain(30, [[0, 0], [0, 1]]), false);
    expect(rec2.excitatory).toEqual([1, 0, 1, 1]);
    expect(Array.from(net.theta)).toEqual(frozen);
  });

  it('the effective threshold is thresholdMv + θ (equality crosses)', () => {
    const net = tinyNet({ inputs: 1, neurons: 4, steps: 3, excitatory: ADAPTIVE }, [[14, 14, 16, 13.4]]);
    withTheta(net, [0, 2, 2, 0.5]);
    // From rest (−65): +14 → −51 (≥ −52 but < −50); +16 → −49 (≥ −50); +13.4 → −51.6 (< −51.5).
    const rec = run(net, spikeTrain(3, [[0, 0]]), false);
    expect(rec.excitatory).toEqual([1, 0, 1, 2]);
    expect(rec.V(1, 1)).toBe(-51);
    expect(rec.V(1, 3)).toBe(f(-65 + f(13.4)));
    // Exactly at thresholdMv + θ counts as a crossing.
    const net2 = tinyNet({ inputs: 1, neurons: 1, steps: 3, excitatory: ADAPTIVE }, [[14]]);
    withTheta(net2, [1]); // threshold −51
    expect(run(net2, spikeTrain(3, [[0, 0]])).excitatory).toEqual([1, 0]);
  });

  it('thetaInitMv is every neuron’s initial θ', () => {
    const net = tinyNet({ inputs: 1, neurons: 3, excitatory: { ...ADAPTIVE, thetaInitMv: 20 } });
    expect(Array.from(net.theta)).toEqual([20, 20, 20]);
    // Not adaptive: θ is 0 whatever thetaInitMv says.
    expect(Array.from(tinyNet({ inputs: 1, neurons: 2, excitatory: { thetaInitMv: 20 } }).theta)).toEqual([0, 0]);
  });

  it('a neuron with θ > 0 needs more input than thresholdMv alone predicts', () => {
    const I = 0.5;
    const d = decayFactor(1, 100);
    const gap = 13;
    const steps = 600;
    const stepsToCross = (theta: number) => {
      const net = tinyNet({ inputs: 1, neurons: 1, steps, excitatory: ADAPTIVE }, [[I]]);
      withTheta(net, [theta]);
      const rec = run(net, spikeTrain(steps, Array.from({ length: steps }, (_, t) => [t, 0] as [number, number])), false, []);
      return rec.excitatory.length ? rec.excitatory[0] : Infinity;
    };
    const predicted = (g: number) => {
      let k = 1;
      while ((I * (1 - d ** k)) / (1 - d) < g) k++;
      return k;
    };
    expect(stepsToCross(0)).toBe(predicted(gap));
    expect(stepsToCross(5)).toBe(predicted(gap + 5));
    expect(stepsToCross(5)).toBeGreaterThan(stepsToCross(0));
    // θ beyond the asymptote I/(1−d) − gap: never crosses.
    expect(stepsToCross(I / (1 - d) - gap + 1)).toBe(Infinity);
  });

  it('spiking while learning: v ← reset, θ bumped, input ignored for refractoryMs/dt steps', () => {
    const net = tinyNet({ inputs: 1, neurons: 1, steps: 8, excitatory: ADAPTIVE }, [[50]]);
    const rec = run(net, spikeTrain(8, Array.from({ length: 8 }, (_, t) => [t, 0] as [number, number])), true);
    expect(rec.excitatory).toEqual([1, 0, 7, 0]);
    let v = -60;
    expect(rec.V(1, 0)).toBe(v);
    for (let k = 1; k <= 5; k++) {
      v = leak(v, decayFactor(1, 100), -65);
      expect(rec.V(1 + k, 0)).toBe(v);
    }
  });

  it('input is (Σ w + e) + u in float32 with all-but-self inhibition, and every crossing is reported in ascending order', () => {
    // Input 0 makes E neuron 2 spike at step 1, its inhibitory partner spikes at 2, and at step 3
    // every E neuron gets u = −120 (one inhibitory spike) and neuron 2 e = +120 (its own partner).
    const o: TinyOptions = { inputs: 2, neurons: 5, steps: 5, excitatory: { ...ADAPTIVE, refractoryMs: 0 }, inhibitory: {} };
    const net = tinyNet(o, [
      [0, 0, 30, 0, 0],
      [20, 20, 20, 0.3, 20],
    ]);
    const rec = run(net, spikeTrain(5, [[0, 0], [2, 1]]), true);
    expect(rec.inhibitory.slice(0, 2)).toEqual([2, 2]);
    expect(rec.excitatory.slice(0, 4)).toEqual([1, 2, 3, 2]);
    expect(rec.V(3, 0)).toBe(f(-65 + f(f(20 + 0) - 120)));
    expect(rec.V(3, 3)).toBe(f(-65 + f(f(0.3) - 120)));
    const vBefore = leak(leak(-60, decayFactor(1, 100), -65), decayFactor(1, 100), -65);
    expect(rec.V(3, 2)).toBe(-60); // it crossed: f(vBefore + f(f(20 + 120) − 120)) ≥ −52
    expect(f(vBefore + f(f(20 + 120) - 120))).toBeGreaterThanOrEqual(-52);
    const net2 = tinyNet({ inputs: 1, neurons: 5, steps: 3 }, [[20, 1, 20, 20, 0]]);
    expect(run(net2, spikeTrain(3, [[0, 0]])).excitatory).toEqual([1, 0, 1, 2, 1, 3]);
  });

  it('padding neurons (θ = +∞) never spike, even when all-but-self "inhibition" excites every lane', () => {
    // 3 real neurons padded to 16 lanes; a positive inhToExc adds +100 mV to every lane, padding
    // included, whenever an inhibitory neuron spiked.
    const o: TinyOptions = { inputs: 1, neurons: 3, steps: 30, excitatory: { ...ADAPTIVE, refractoryMs: 0 }, inhibitory: { inhToExc: 100 } };
    const net = tinyNet(o, [[1e6, 0, 1e6]]);
    expect(net.paddedNeurons).toBe(16);
    expect(net.theta.length).toBe(3);
    const rec = run(net, spikeTrain(30, Array.from({ length: 30 }, (_, t) => [t, 0] as [number, number])), true);
    expect(rec.excitatory.length).toBeGreaterThan(20);
    expect(rec.inhibitory.length).toBeGreaterThan(10);
    // The silent real neuron 1 is driven by the +100 mV: the lanes really do get input.
    expect(net.counts[1]).toBeGreaterThan(0);
    for (let a = 1; a < rec.excitatory.length; a += 2) expect(rec.excitatory[a]).toBeLessThan(3);
    expect(net.excSpikes).toBe(net.counts[0] + net.counts[1] + net.counts[2]);
  });
});

describe('spike lockout (spikeLockoutMs, the released Diehl & Cook timer gate)', () => {
  // Threshold −72 + θ 6 = −66 mV is below reset and rest (−65): the neuron fires with no input.
  const below = { ...ADAPTIVE, restMv: -65, resetMv: -65, thresholdMv: -72, refractoryMs: 5, thetaPlusMv: 0 };

  it('without a lockout a neuron whose threshold is below its reset fires at every step (BindsNET)', () => {
    const steps = 40;
    const net = tinyNet({ inputs: 1, neurons: 1, steps, dtMs: 0.5, excitatory: { ...below, thetaInitMv: 6 } });
    const rec = run(net, spikeTrain(steps, []), false);
    expect(rec.excitatory.length / 2).toBe(steps);
  });

  for (const [dt, lockout] of [
    [0.5, 50],
    [1, 7],
    [0.5, 12.5],
  ] as const) {
    it(`dt ${dt} ms, lockout ${lockout} ms: spikes exactly ${lockout / dt + 1} steps apart; v held at reset for refractoryMs only`, () => {
      const steps = Math.round((3 * lockout) / dt) + 5;
      const net = tinyNet({ inputs: 1, neurons: 1, steps, dtMs: dt, excitatory: { ...below, thetaInitMv: 6, spikeLockoutMs: lockout } });
      const rec = run(net, spikeTrain(steps, []), false);
      const gap = lockout / dt + 1;
      const times = rec.excitatory.filter((_, k) => k % 2 === 0);
      expect(times).toEqual(Array.from({ length: Math.floor((steps - 1) / gap) + 1 }, (_, k) => k * gap));
      // Between spikes v sits at reset −65 = rest: held, then leaking at rest, never moving.
      for (let t = 0; t < steps; t++) expect(rec.V(t, 0)).toBe(-65);
    });
  }

  it('the lockout blocks spikes, not input: after refractoryMs v integrates again, and it spikes at the first step past the lockout', () => {
    // A constant input of 1 mV per step: v climbs from reset after the 5 ms hold and is far above
    // the threshold (−52 mV) long before the 20 ms lockout ends.
    const dt = 1;
    const steps = 60;
    const net = tinyNet({ inputs: 1, neurons: 1, steps, dtMs: dt, excitatory: { ...ADAPTIVE, thetaPlusMv: 0, resetMv: -65, spikeLockoutMs: 20 } }, [[5]]);
    const rec = run(net, spikeTrain(steps, Array.from({ length: steps }, (_, t) => [t, 0] as [number, number])), false);
    const times = rec.excitatory.filter((_, k) => k % 2 === 0);
    expect(times.length).toBeGreaterThan(1);
    for (let k = 1; k < times.length; k++) expect(times[k] - times[k - 1]).toBe(21);
    const t0 = times[0];
    // Held at reset for 5 steps after the spike, then integrating: strictly rising until the next spike.
    for (let k = 1; k <= 5; k++) expect(rec.V(t0 + k, 0)).toBe(-65);
    for (let t = t0 + 6; t < t0 + 21; t++) expect(rec.V(t, 0)).toBeGreaterThan(rec.V(t - 1, 0));
    expect(rec.V(t0 + 20, 0)).toBeGreaterThan(-52);
  });
});
