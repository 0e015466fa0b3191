/**
 * The learning rules beyond post-pre, at the analytic level (docs/models.md, step 5): the stdp
 * window of one isolated pair, nearest vs all-to-all pairing on triplets, diehl-cook's second
 * post trace read before the spike resets it, power-law's signed term for every input,
 * weight-dependent soft bounds.
 *
 * One neuron; four learning inputs (0–3, weight 0.5 unless set) and three driver inputs (4–6,
 * weight 1 each) that spike together at s − 1 to make the neuron cross at s (threshold 2 mV
 * above rest, so the learning inputs alone never make it cross).
 */
import { describe, expect, it } from 'vitest';
import { decayFactor, type PlasticitySpec } from '../../src/engine/spec.js';
import { f, run, spikeTrain, tinyNet, trace } from './tiny.js';

const L = 4;
const DRIVERS = [4, 5, 6];

interface Pairing {
  steps: number;
  pre: [number, number][]; // (step, learning input)
  post: number[]; // steps at which the neuron must spike
  rule: PlasticitySpec;
  w?: number[]; // initial learning weights
}

function simulate(s: Pairing): { before: number[]; after: number[]; exc: number[] } {
  const w = s.w ?? [0.5, 0.5, 0.5, 0.5];
  const net = tinyNet(
    {
      inputs: L + DRIVERS.length,
      neurons: 1,
      steps: s.steps,
      excitatory: { thresholdMv: -63, resetMv: -65 },
      dense: { init: { dist: 'constant', value: 0 }, wMin: 0, wMax: 1, plasticity: s.rule },
    },
    [...w.map((x) => [x]), ...DRIVERS.map(() => [1])],
  );
  const before = Array.from(net.denseWeights().subarray(0, L));
  const events: [number, number][] = [...s.pre, ...s.post.flatMap((t) => DRIVERS.map((i) => [t - 1, i] as [number, number]))];
  const rec = run(net, spikeTrain(s.steps, events), true, []);
  return { before, after: Array.from(net.denseWeights().subarray(0, L)), exc: rec.excitatory };
}

/** An all-to-all trace at step `at` from spikes at `spikes`: decay every step, then +1 per spike. */
function additiveTrace(d: number, spikes: number[], at: number): number {
  let x = 0;
  for (let t = 0; t <= at; t++) {
    x = f(x * d);
    if (spikes.includes(t)) x = f(x + 1);
  }
  return x;
}

describe('stdp rule: the window of one isolated pair', () => {
  const aPlus = 0.01;
  const aMinus = 0.012;
  const tauPlus = 16.8;
  const tauMinus = 33.7;
  const dPlus = decayFactor(1, tauPlus);
  const dMinus = decayFactor(1, tauMinus);

  for (const pairing of ['nearest', 'all-to-all'] as const) {
    it(`Δw = A+·e^(−Δt/τ+) for post after pre, −A−·e^(Δt/τ−) for pre after post (${pairing})`, () => {
      const rule: PlasticitySpec = { rule: 'stdp', aPlus, aMinus, tauPlusMs: tauPlus, tauMinusMs: tauMinus, pairing };
      const w0 = f(0.5);
      const window: [number, number][] = [];
      for (const dt of [-40, -25, -10, -3, -1, 0, 1, 2, 5, 12, 30, 60]) {
        const base = 10;
        const [p, q] = dt >= 0 ? [base, base + dt] : [base - dt, base];
        const { after, exc } = simulate({ steps: Math.max(p, q) + 1, pre: [[p, 0]], post: [q], rule });
        expect(exc).toEqual([q, 0]);
        let want: number;
        if (dt > 0) want = f(w0 + f(trace(dPlus, dt) * f(aPlus)));
        else if (dt < 0) want = f(w0 - f(trace(dMinus, -dt) * f(aMinus)));
        else want = f(f(w0 - f(aMinus)) + f(aPlus));
        expect(after[0], `Δt = ${dt}`).toBe(want);
        const analytic = dt > 0 ? aPlus * Math.exp(-dt / tauPlus) : dt < 0 ? -aMinus * Math.exp(dt / tauMinus) : aPlus - aMinus;
        expect(Math.abs(after[0] - w0 - analytic), `Δt = ${dt}`).toBeLessThan(2e-7);
        window.push([dt, after[0] - w0]);
        // The other learning inputs never spiked: untouched.
        expect(after.slice(1)).toEqual([w0, w0, w0]);
      }
      // The window's shape: positive and decreasing for Δt > 0, negative and shrinking for Δt < 0.
      const pos = window.filter(([dt]) => dt > 0).map(([, x]) => x);
      const neg = window.filter(([dt]) => dt < 0).map(([, x]) => x);
      expect(pos.every((x, k) => x > 0 && (k === 0 || x < pos[k - 1]))).toBe(true);
      expect(neg.every((x, k) => x < 0 && (k === 0 || x < neg[k - 1]))).toBe(true);
    });
  }

  it('triplets: all-to-all sums every earlier spike’s trace, nearest keeps only the last', () => {
    const rule = (pairing: 'nearest' | 'all-to-all'): PlasticitySpec => ({ rule: 'stdp', aPlus, aMinus, tauPlusMs: tauPlus, tauMinusMs: tauMinus, pairing });
    const w0 = f(0.5);
    // pre, pre, post: potentiation by x at the post spike.
    const pp = (pairing: 'nearest' | 'all-to-all') => simulate({ steps: 21, pre: [[10, 0], [14, 0]], post: [20], rule: rule(pairing) }).after[0];
    const xNearest = trace(dPlus, 6);
    const xAll = additiveTrace(dPlus, [10, 14], 20);
    expect(Math.abs(xAll - (Math.exp(-10 / tauPlus) + Math.exp(-6 / tauPlus)))).toBeLessThan(1e-6);
    expect(pp('nearest')).toBe(f(w0 + f(xNearest * f(aPlus))));
    expect(pp('all-to-all')).toBe(f(w0 + f(xAll * f(aPlus))));
    expect(pp('all-to-all')).toBeGreaterThan(pp('nearest'));
    // post, post, pre: depression by y at the pre spike.
    const qq = (pairing: 'nearest' | 'all-to-all') => {
      const r = simulate({ steps: 26, pre: [[25, 0]], post: [10, 17], rule: rule(pairing) });
      expect(r.exc).toEqual([10, 0, 17, 0]);
      return r.after[0];
    };
    const yNearest = trace(dMinus, 8);
    const yAll = additiveTrace(dMinus, [10, 17], 25);
    expect(qq('nearest')).toBe(f(w0 - f(yNearest * f(aMinus))));
    expect(qq('all-to-all')).toBe(f(w0 - f(yAll * f(aMinus))));
    expect(qq('all-to-all')).toBeLessThan(qq('nearest'));
  });
});

describe('diehl-cook rule', () => {
  const rule: PlasticitySpec = { rule: 'diehl-cook', nuPre: 1e-4, nuPost: 1e-2, tauPreMs: 20, tauPost1Ms: 25, tauPost2Ms: 40 };
  const dPre = decayFactor(1, 20);
  const dPost1 = decayFactor(1, 25);
  const dPost2 = decayFactor(1, 40);

  it('potentiation is x·nuPost·y2 with y2 read before the spike sets it to 1: nothing on a first post spike', () => {
    const w0 = f(0.5);
    // Pre at 3, post at 10: y2 before the spike is 0, so no change at all.
    const first = simulate({ steps: 11, pre: [[3, 0]], post: [10], rule });
    expect(first.after[0]).toBe(w0);
    // A second post spike at 18: y2 = 8 decays of the 1 set at step 10.
    const second = simulate({ steps: 19, pre: [[3, 0]], post: [10, 18], rule });
    expect(second.exc).toEqual([10, 0, 18, 0]);
    const x = trace(dPre, 15);
    const y2 = trace(dPost2, 8);
    expect(second.after[0]).toBe(f(w0 + f(f(x * f(1e-2)) * y2)));
    expect(Math.abs(second.after[0] - w0 - 1e-2 * Math.exp(-15 / 20) * Math.exp(-8 / 40))).toBeLessThan(6e-8);
    // Were y2 read after the spike (1), the change would be x·nuPost.
    expect(second.after[0]).not.toBe(f(w0 + f(x * f(1e-2))));
  });

  it('depression is y1·nuPre with the first post trace (τ tauPost1Ms)', () => {
    const w0 = f(0.5);
    const r = simulate({ steps: 18, pre: [[17, 1]], post: [10], rule });
    expect(r.after[1]).toBe(f(w0 - f(trace(dPost1, 7) * f(1e-4))));
    expect(r.after[0]).toBe(w0);
  });
});

describe('power-law rule', () => {
  const nu = 0.01;
  const xTarget = 0.4;
  const mu = 0.9;
  const rule: PlasticitySpec = { rule: 'power-law', nu, xTarget, mu, tauPreMs: 20 };
  const dPre = decayFactor(1, 20);

  it('every input changes at a post spike by nu·(x − xTarget)·(wMax − w)^mu: negative where x < xTarget', () => {
    const q = 50;
    const w = [0.5, 0.3, 0.7, 0.95];
    // Input 0 spiked 2 steps before (x ≈ 0.90), 1 at q − 40 (x ≈ 0.14), 2 and 3 never (x = 0).
    const { before, after, exc } = simulate({ steps: q + 1, pre: [[q - 2, 0], [q - 40, 1]], post: [q], rule, w });
    expect(exc).toEqual([q, 0]);
    const x = [trace(dPre, 2), trace(dPre, 40), 0, 0];
    for (let i = 0; i < L; i++) {
      const term = f(f(f(nu) * f(x[i] - f(xTarget))) * f(Math.pow(f(1 - before[i]), mu)));
      expect(after[i], `input ${i}`).toBe(f(before[i] + term));
    }
    expect(after[0]).toBeGreaterThan(before[0]);
    for (const i of [1, 2, 3]) expect(after[i]).toBeLessThan(before[i]);
    // Closer to wMax, smaller steps: (wMax − w)^mu.
    expect(before[3] - after[3]).toBeLessThan(before[2] - after[2]);
  });

  it('has no depression term: a pre spike after a post spike changes nothing', () => {
    const r = simulate({ steps: 20, pre: [[15, 0]], post: [10], rule });
    // At the post spike (10) every weight moved by −nu·xTarget·(1 − w)^mu (no trace yet) …
    const moved = f(f(0.5) + f(f(f(nu) * f(0 - f(xTarget))) * f(Math.pow(f(1 - f(0.5)), mu))));
    // … and the later pre spike did nothing more.
    expect(r.after[0]).toBe(moved);
  });
});

describe('weight-dependent post-pre rule (soft bounds)', () => {
  const nuPre = 0.05;
  const nuPost = 0.05;
  const rule: PlasticitySpec = { rule: 'weight-dependent-post-pre', nuPre, nuPost };
  const d = decayFactor(1, 20);

  it('potentiation x·nuPost·(wMax − w) shrinks near wMax', () => {
    const w = [0.98, 0.5, 0.02, 0.5];
    const { before, after } = simulate({ steps: 9, pre: [[5, 0], [5, 1], [5, 2]], post: [8], rule, w });
    const x = trace(d, 3);
    for (const i of [0, 1, 2]) expect(after[i]).toBe(f(before[i] + f(f(x * f(nuPost)) * f(1 - before[i]))));
    const gain = [0, 1, 2].map((i) => after[i] - before[i]);
    expect(gain[0]).toBeLessThan(gain[1]);
    expect(gain[1]).toBeLessThan(gain[2]);
    expect(Math.abs(gain[0] / gain[2] - 0.02 / 0.98)).toBeLessThan(1e-4);
    expect(after[3]).toBe(before[3]);
  });

  it('depression y·nuPre·(w − wMin) shrinks near wMin', () => {
    const w = [0.98, 0.5, 0.02, 0.5];
    const { before, after } = simulate({ steps: 13, pre: [[12, 0], [12, 1], [12, 2]], post: [8], rule, w });
    const y = trace(d, 4);
    for (const i of [0, 1, 2]) expect(after[i]).toBe(f(before[i] - f(f(y * f(nuPre)) * f(before[i] - 0))));
    const loss = [0, 1, 2].map((i) => before[i] - after[i]);
    expect(loss[2]).toBeLessThan(loss[1]);
    expect(loss[1]).toBeLessThan(loss[0]);
  });
});
