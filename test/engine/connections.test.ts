/**
 * Dense-connection helpers: column normalization, clamping, initialization order and range.
 */
import { describe, expect, it } from 'vitest';
import { clampWeights, initWeights, normalizeAllColumns, normalizeColumns } from '../../src/engine/connections.js';
import { Prng } from '../../src/engine/prng.js';

const f = Math.fround;

function bits(a: Float32Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length);
}

function colSum(w: Float32Array, pre: number, stride: number, j: number): number {
  let s = 0;
  for (let i = 0; i < pre; i++) s += w[i * stride + j];
  return s;
}

/** Random [pre, stride] matrix; padding columns (≥ neurons) hold a sentinel to detect writes. */
function randomMatrix(pre: number, neurons: number, stride: number, seed: number, scale = 0.3): Float32Array {
  const rng = new Prng(seed);
  const w = new Float32Array(pre * stride);
  for (let i = 0; i < pre; i++)
    for (let j = 0; j < stride; j++) w[i * stride + j] = j < neurons ? f(rng.nextFloat24() * scale) : f(-7.25);
  return w;
}

describe('normalizeColumns', () => {
  it('makes each listed column sum to norm (float32 tolerance) and leaves everything else bit-identical', () => {
    const pre = 784;
    const neurons = 10;
    const stride = 16;
    const w = randomMatrix(pre, neurons, stride, 1);
    const before = Float32Array.from(w);
    const cols = Int32Array.from([7, 2, 9]);
    const over = normalizeColumns(w, pre, stride, cols, cols.length, 78.4, 0, 1);
    expect(over).toBe(false);
    for (let j = 0; j < stride; j++) {
      if ([7, 2, 9].includes(j)) {
        // Each product is rounded once (½ ulp relative), so |Σ − 78.4| ≲ 78.4 · 2^-24 · (1 + √pre·…).
        expect(Math.abs(colSum(w, pre, stride, j) - 78.4)).toBeLessThan(78.4 * 2e-6);
        // Every weight is scaled by the same factor.
        const factor = 78.4 / colSum(before, pre, stride, j);
        for (let i = 0; i < pre; i++) expect(Math.abs(w[i * stride + j] - before[i * stride + j] * factor)).toBeLessThanOrEqual(1e-6 * Math.abs(w[i * stride + j]) + 1e-12);
      } else {
        for (let i = 0; i < pre; i++) expect(bits(w)[i * stride + j]).toBe(bits(before)[i * stride + j]);
      }
    }
    // Only the first `columnCount` entries of the list are used.
    const w2 = Float32Array.from(before);
    normalizeColumns(w2, pre, stride, Int32Array.from([1, 3]), 1, 78.4, 0, 1);
    expect(Math.abs(colSum(w2, pre, stride, 1) - 78.4)).toBeLessThan(78.4 * 2e-6);
    for (let i = 0; i < pre; i++) expect(bits(w2)[i * stride + 3]).toBe(bits(before)[i * stride + 3]);
  });

  it('uses the BindsNET factor fl32(fl32(1/fl32(Σ))·norm) and treats a zero column sum as 1', () => {
    const pre = 4;
    const stride = 16;
    const w = new Float32Array(pre * stride);
    [0.5, 0.25, 0.125, 0.125].forEach((x, i) => (w[i * stride] = x)); // Σ = 1 exactly
    [0.1, 0.2, 0.3, 0.4].forEach((x, i) => (w[i * stride + 1] = f(x)));
    normalizeColumns(w, pre, stride, Int32Array.from([0, 1, 2]), 3, 2, 0, 10);
    expect([0, 1, 2, 3].map((i) => w[i * stride])).toEqual([1, 0.5, 0.25, 0.25]);
    const s1 = f(f(0.1) + f(0.2) + f(0.3) + f(0.4));
    const factor = f(f(1 / s1) * 2);
    [0.1, 0.2, 0.3, 0.4].forEach((x, i) => expect(w[i * stride + 1]).toBe(f(f(x) * factor)));
    // Column 2 is all zeros: stays zero (no NaN).
    for (let i = 0; i < pre; i++) expect(w[i * stride + 2]).toBe(0);
  });

  it('reports `over` when a normalized weight exceeds wMax', () => {
    const pre = 100;
    const stride = 16;
    const w = new Float32Array(pre * stride);
    for (let i = 0; i < pre; i++) w[i * stride] = f(0.01);
    w[0] = f(5); // dominates the column: after scaling to 78.4 it is ≈ 66 > 1
    const over = normalizeColumns(w, pre, stride, Int32Array.from([0]), 1, 78.4, 0, 1);
    expect(over).toBe(true);
    expect(w[0]).toBeGreaterThan(1);
    expect(Math.abs(colSum(w, pre, stride, 0) - 78.4)).toBeLessThan(1e-3);
    // Uniform column: 100 × 0.784 ≤ 1 → not over.
    const u = new Float32Array(pre * stride).fill(0.5);
    expect(normalizeColumns(u, pre, stride, Int32Array.from([0]), 1, 78.4, 0, 1)).toBe(false);
    expect(u[0]).toBe(f(0.5 * f(f(1 / f(50)) * 78.4)));
    expect(Math.abs(u[0] - 0.784)).toBeLessThan(1e-6);
  });
});

describe('normalizeAllColumns', () => {
  it('normalizes every real column to norm and leaves padding columns untouched', () => {
    const pre = 784;
    const neurons = 13;
    const stride = 16;
    const w = randomMatrix(pre, neurons, stride, 2);
    const before = Float32Array.from(w);
    expect(normalizeAllColumns(w, pre, neurons, stride, 78.4, 0, 1)).toBe(false);
    for (let j = 0; j < neurons; j++) expect(Math.abs(colSum(w, pre, stride, j) - 78.4)).toBeLessThan(78.4 * 2e-6);
    for (let i = 0; i < pre; i++) for (let j = neurons; j < stride; j++) expect(bits(w)[i * stride + j]).toBe(bits(before)[i * stride + j]);
  });

  it('agrees with normalizeColumns over all columns up to one ulp of the factor', () => {
    const pre = 784;
    const neurons = 16;
    const stride = 16;
    const a = randomMatrix(pre, neurons, stride, 3);
    const b = Float32Array.from(a);
    normalizeAllColumns(a, pre, neurons, stride, 78.4, 0, 1);
    normalizeColumns(b, pre, stride, Int32Array.from({ length: neurons }, (_, j) => j), neurons, 78.4, 0, 1);
    for (let e = 0; e < a.length; e++) expect(Math.abs(a[e] - b[e])).toBeLessThanOrEqual(2.5e-7 * Math.abs(a[e]));
  });

  it('reports `over`', () => {
    const pre = 50;
    const w = new Float32Array(pre * 16).fill(0.001);
    w[5 * 16 + 3] = 1;
    expect(normalizeAllColumns(w, pre, 4, 16, 78.4, 0, 1)).toBe(true);
  });
});

describe('clampWeights', () => {
  it('clamps real columns into [wMin, wMax] and leaves in-range and padding entries alone', () => {
    const pre = 3;
    const stride = 16;
    const neurons = 4;
    const w = new Float32Array(pre * stride).fill(-3); // padding sentinel
    const vals = [-0.5, 0, 0.3, 1, 1.0001, 7, f(0.7), -1e-9, 0.999, 2, 0.5, -0];
    vals.forEach((x, k) => (w[Math.floor(k / neurons) * stride + (k % neurons)] = x));
    clampWeights(w, pre, neurons, stride, 0, 1);
    const got = vals.map((_, k) => w[Math.floor(k / neurons) * stride + (k % neurons)]);
    expect(got).toEqual([0, 0, f(0.3), 1, 1, 1, f(0.7), 0, f(0.999), 1, 0.5, -0]);
    for (let i = 0; i < pre; i++) for (let j = neurons; j < stride; j++) expect(w[i * stride + j]).toBe(-3);
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

  it('constant init fills real columns with the value', () => {
    const w = new Float32Array(3 * 16);
    initWeights(w, 3, 2, 16, { dist: 'constant', value: 0.25 }, () => {
      throw new Error('no draws for a constant init');
    });
    for (let i = 0; i < 3; i++) for (let j = 0; j < 16; j++) expect(w[i * 16 + j]).toBe(j < 2 ? 0.25 : 0);
  });
});
