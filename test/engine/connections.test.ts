/**
 * The dense connection: column normalization (every column after the first learning sample, then
 * only the columns learning touched; BindsNET's factor; zero sums), the clamp of out-of-bounds
 * weights at the next learning sample, and the weights' initialization (draw order, range).
 * Normalization and clamping are the kernel's: they are driven through Network with a learning
 * rule whose rates are zero, so the weights change only by them.
 */
import { describe, expect, it } from 'vitest';
import { initWeights } from '../../src/engine/connections.js';
import { Network } from '../../src/engine/network.js';
import { Prng } from '../../src/engine/prng.js';
import { bits, f, run, sameBits, spikeTrain, tinyNet, tinySpec, type TinyOptions } from './tiny.js';

const ZERO_RATES = { rule: 'post-pre' as const, nuPre: 0, nuPost: 0 };

function colSum(w: Float32Array, pre: number, n: number, j: number): number {
  let s = 0;
  for (let i = 0; i < pre; i++) s += w[i * n + j];
  return s;
}

/** BindsNET's scaling of one column: w·fl32(fl32(1/fl32(Σ))·norm), Σ in float64, 0 counts as 1. */
function normalized(col: number[], norm: number): number[] {
  let sum = 0;
  for (const x of col) sum += x;
  let s = f(sum);
  if (s === 0) s = 1;
  const factor = f(f(1 / s) * norm);
  return col.map((x) => f(x * factor));
}

function column(w: Float32Array, pre: number, n: number, j: number): number[] {
  return Array.from({ length: pre }, (_, i) => w[i * n + j]);
}

describe('normalization', () => {
  it('the first learning sample scales every column to sum to norm (float32 tolerance), by one factor per column', () => {
    const pre = 784;
    const n = 10;
    const net = tinyNet({ inputs: pre, neurons: n, steps: 2, seed: 1, dense: { init: { dist: 'uniform', low: 0, high: 0.3 }, plasticity: ZERO_RATES, norm: 78.4 } });
    const before = net.denseWeights();
    net.runSample(spikeTrain(2, []), true);
    const w = net.denseWeights();
    for (let j = 0; j < n; j++) {
      // Each product is rounded once (½ ulp relative), so |Σ − 78.4| ≲ 78.4 · 2^-24 · (1 + √pre·…).
      expect(Math.abs(colSum(w, pre, n, j) - 78.4)).toBeLessThan(78.4 * 2e-6);
      expect(column(w, pre, n, j)).toEqual(normalized(column(before, pre, n, j), 78.4));
      const factor = 78.4 / colSum(before, pre, n, j);
      for (let i = 0; i < pre; i++) expect(Math.abs(w[i * n + j] - before[i * n + j] * factor)).toBeLessThanOrEqual(1e-6 * Math.abs(w[i * n + j]) + 1e-12);
    }
  });

  it('later learning samples scale only the columns learning touched (the neurons that spiked)', () => {
    // 30 random rows plus one driver row per neuron (13 mV: it makes that neuron spike).
    const pre = 30;
    const n = 10;
    const o: TinyOptions = { inputs: pre + n, neurons: n, steps: 5, dense: { plasticity: ZERO_RATES, norm: 20, wMax: 100 } };
    const rng = new Prng(3);
    const W = Array.from({ length: pre + n }, (_, i) => Array.from({ length: n }, (_, j) => (i < pre ? f(rng.nextFloat24() * 0.3) : i - pre === j ? 13 : 0)));
    const net = tinyNet(o, W);
    net.runSample(spikeTrain(5, []), true);
    for (let j = 0; j < n; j++) expect(Math.abs(colSum(net.denseWeights(), pre + n, n, j) - 20)).toBeLessThan(20 * 2e-6);
    // Move every column away from the norm, then let neurons 2 and 7 spike in a learning sample.
    const scaled = net.denseWeights().map((x) => f(x * 1.5));
    net.setDenseWeights(scaled);
    const rec = run(net, spikeTrain(5, [[0, pre + 2], [1, pre + 7]]), true, []);
    expect(rec.excitatory).toEqual([1, 2, 2, 7]);
    const w = net.denseWeights();
    for (let j = 0; j < n; j++) {
      if (j === 2 || j === 7) expect(column(w, pre + n, n, j)).toEqual(normalized(column(scaled, pre + n, n, j), 20));
      else for (let i = 0; i < pre + n; i++) expect(bits(w)[i * n + j], `w[${i}][${j}]`).toBe(bits(scaled)[i * n + j]);
    }
    // Learning off: no normalization at all.
    const w2 = net.denseWeights().map((x) => f(x * 1.5));
    net.setDenseWeights(w2);
    net.runSample(spikeTrain(5, [[0, pre + 2]]), false);
    sameBits(net.denseWeights(), w2, 'weights after a test sample');
  });

  it('uses the BindsNET factor fl32(fl32(1/fl32(Σ))·norm) and treats a zero column sum as 1', () => {
    const net = tinyNet({ inputs: 4, neurons: 3, steps: 2, dense: { plasticity: ZERO_RATES, norm: 2, wMax: 10 } }, [
      [0.5, f(0.1), 0],
      [0.25, f(0.2), 0],
      [0.125, f(0.3), 0],
      [0.125, f(0.4), 0],
    ]);
    net.runSample(spikeTrain(2, []), true);
    const w = net.denseWeights();
    expect(column(w, 4, 3, 0)).toEqual([1, 0.5, 0.25, 0.25]);
    const s1 = f(f(0.1) + f(0.2) + f(0.3) + f(0.4));
    const factor = f(f(1 / s1) * 2);
    [0.1, 0.2, 0.3, 0.4].forEach((x, i) => expect(w[i * 3 + 1]).toBe(f(f(x) * factor)));
    // Column 2 is all zeros: stays zero (no NaN).
    expect(column(w, 4, 3, 2)).toEqual([0, 0, 0, 0]);
  });

  it('a weight normalization pushes past wMax is clamped at the start of the next learning sample, then every column is renormalized', () => {
    const pre = 100;
    const W = Array.from({ length: pre }, (_, i) => [i === 0 ? 5 : 0.01, 0.5]);
    const net = tinyNet({ inputs: pre, neurons: 2, steps: 2, dense: { plasticity: ZERO_RATES, norm: 78.4 } }, W);
    net.runSample(spikeTrain(2, []), true);
    const w1 = net.denseWeights();
    // Column 0: 5 dominates, scaled to ≈ 66 > 1. Column 1: 100 × 0.5 → 0.784 each.
    expect(w1[0]).toBeGreaterThan(1);
    expect(Math.abs(colSum(w1, pre, 2, 0) - 78.4)).toBeLessThan(1e-3);
    expect(w1[1]).toBe(f(0.5 * f(f(1 / f(50)) * 78.4)));
    expect(Math.abs(w1[1] - 0.784)).toBeLessThan(1e-6);
    // Not while testing …
    net.runSample(spikeTrain(2, []), false);
    sameBits(net.denseWeights(), w1, 'weights after a test sample');
    // … but at the next learning sample: clamp to [0, 1], then normalize every column.
    net.runSample(spikeTrain(2, []), true);
    const w2 = net.denseWeights();
    for (const j of [0, 1]) expect(column(w2, pre, 2, j)).toEqual(normalized(column(w1, pre, 2, j).map((x) => Math.min(Math.max(x, 0), 1)), 78.4));
  });
});

describe('clamping of initial weights', () => {
  it('weights outside [wMin, wMax] are clamped at the first learning sample (BindsNET’s first learning step); in-range ones untouched', () => {
    const o: TinyOptions = { inputs: 30, neurons: 5, steps: 2, seed: 4, dense: { init: { dist: 'uniform', low: -0.5, high: 2 }, plasticity: ZERO_RATES, wMin: 0, wMax: 1 } };
    const net = tinyNet(o);
    const w0 = net.denseWeights();
    expect(w0.some((x) => x < 0)).toBe(true);
    expect(w0.some((x) => x > 1)).toBe(true);
    net.runSample(spikeTrain(2, []), false);
    sameBits(net.denseWeights(), w0, 'weights after a test sample');
    net.runSample(spikeTrain(2, []), true);
    const w = net.denseWeights();
    for (let e = 0; e < w.length; e++) expect(w[e]).toBe(w0[e] < 0 ? 0 : w0[e] > 1 ? 1 : w0[e]);
    // Without a learning rule nothing clamps them.
    const free = tinyNet({ ...o, dense: { ...o.dense, plasticity: null } });
    free.runSample(spikeTrain(2, []), true);
    sameBits(free.denseWeights(), w0, 'weights without a rule');
  });
});

describe('initWeights', () => {
  it('uniform: w[i,j] = fl32(fl32((high−low)·u_k) + low) with u_k drawn in row-major order; padding stays 0', () => {
    const pre = 7;
    const neurons = 5;
    const stride = 16;
    const w = new Float32Array(pre * stride);
    let k = 0;
    const draws: number[] = [];
    const next = () => {
      const u = ((k++ * 2654435761) % 16777216) / 16777216; // distinct values on the 2^-24 grid
      draws.push(u);
      return u;
    };
    initWeights(w, pre, neurons, stride, { dist: 'uniform', low: 0.1, high: 0.6 }, next);
    expect(draws.length).toBe(pre * neurons);
    const span = f(0.6 - 0.1);
    for (let i = 0; i < pre; i++)
      for (let j = 0; j < stride; j++) {
        const e = i * stride + j;
        if (j < neurons) expect(w[e]).toBe(f(f(span * draws[i * neurons + j]) + f(0.1)));
        else expect(w[e]).toBe(0);
      }
  });

  it('uniform U(0, 0.3) from the PRNG: all in [0, 0.3), mean ≈ 0.15, variance ≈ 0.3²/12', () => {
    const pre = 784;
    const neurons = 30;
    const stride = 32;
    const w = new Float32Array(pre * stride);
    const rng = new Prng(42);
    initWeights(w, pre, neurons, stride, { dist: 'uniform', low: 0, high: 0.3 }, () => rng.nextFloat24());
    let sum = 0;
    let sq = 0;
    const n = pre * neurons;
    for (let i = 0; i < pre; i++)
      for (let j = 0; j < stride; j++) {
        const x = w[i * stride + j];
        if (j >= neurons) {
          expect(x).toBe(0);
          continue;
        }
        if (!(x >= 0 && x < 0.3)) throw new Error(`w out of range: ${x}`);
        sum += x;
        sq += x * x;
      }
    const mean = sum / n;
    expect(Math.abs(mean - 0.15)).toBeLessThan((5 * 0.3) / Math.sqrt(12 * n));
    expect(Math.abs(sq / n - mean * mean - 0.09 / 12)).toBeLessThan(2e-4);
    // Same draw sequence as the PRNG's row-major stream.
    const ref = new Prng(42);
    expect(w[0]).toBe(f(f(f(0.3) * ref.nextFloat24()) + 0));
    expect(w[1]).toBe(f(f(f(0.3) * ref.nextFloat24()) + 0));
  });

  it('a Network’s initial weights are its PRNG’s first draws, row-major', () => {
    const net = new Network(tinySpec({ inputs: 20, neurons: 7, seed: 42, dense: { init: { dist: 'uniform', low: 0.1, high: 0.6 } } }));
    const rng = new Prng(42);
    const span = f(0.6 - 0.1);
    const want = Float32Array.from({ length: 20 * 7 }, () => f(f(span * rng.nextFloat24()) + f(0.1)));
    sameBits(net.denseWeights(), want, 'initial weights');
    expect(Array.from(net.rng.getState())).toEqual(Array.from(rng.getState()));
  });

  it('constant init fills real columns with the value', () => {
    const w = new Float32Array(3 * 16);
    initWeights(w, 3, 2, 16, { dist: 'constant', value: 0.25 }, () => {
      throw new Error('no draws for a constant init');
    });
    for (let i = 0; i < 3; i++) for (let j = 0; j < 16; j++) expect(w[i * 16 + j]).toBe(j < 2 ? 0.25 : 0);
  });
});
