/** Shared helpers of the reference comparisons (bit equality, raster normalisation). */
import { expect } from 'vitest';

export function bitsOf(a: Float32Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length);
}

/** Throws at the first float32 whose bits differ (NaN payloads included). */
export function expectSameBits(actual: Float32Array, expected: Float32Array, what: string): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  const x = bitsOf(actual);
  const y = bitsOf(expected);
  let diffs = 0;
  let first = -1;
  for (let q = 0; q < x.length; q++)
    if (x[q] !== y[q]) {
      diffs++;
      if (first < 0) first = q;
    }
  if (diffs > 0) throw new Error(`${what}: ${diffs} of ${x.length} differ; first at ${first}: ${actual[first]} vs reference ${expected[first]}`);
}

/** Distance in units in the last place between two finite float32 values of the same sign class. */
export function ulpDistance(a: number, b: number): number {
  const ord = (v: number) => {
    const u = new Uint32Array(Float32Array.of(v).buffer)[0];
    return u & 0x80000000 ? -(u & 0x7fffffff) : u;
  };
  return Math.abs(ord(a) - ord(b));
}

export function maxUlp(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let q = 0; q < a.length; q++) m = Math.max(m, ulpDistance(a[q], b[q]));
  return m;
}

/** (step, neuron) pairs sorted by step, then neuron (engines may list a step's spikes in any order). */
export function sortedPairs(pairs: readonly number[]): number[] {
  const list: [number, number][] = [];
  for (let q = 0; q < pairs.length; q += 2) list.push([pairs[q], pairs[q + 1]]);
  list.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  return list.flat();
}

/** Pairs (step, input) in recording order → per-step lists, order kept. */
export function pairsToSteps(pairs: readonly number[], steps: number): number[][] {
  const out: number[][] = Array.from({ length: steps }, () => []);
  for (let q = 0; q < pairs.length; q += 2) out[pairs[q]].push(pairs[q + 1]);
  return out;
}
