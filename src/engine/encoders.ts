/**
 * Rate and latency encoders: an image of intensities 0..255 becomes per-step lists of input spikes.
 *
 * Rates: r = fl32(fl32(pixel/255) · maxRateHz) Hz, computed in float32 as BindsNET does.
 *
 * - `bindsnet-poisson` (BindsNET's `poisson`): inter-spike intervals K ~ Poisson(λ), λ = 1000/(r·dt)
 *   the mean interval in steps; K = 0 is bumped to 1; the cumulative times c ∈ [1, T] are spikes at
 *   step c−1. This renewal process is much more regular than a Poisson process (pixel 255: 31.6
 *   spikes in 250 ms with variance 4.2) and dim pixels almost never fire.
 * - `bernoulli`: every step independently spikes with p = r·dt/1000 (a true Poisson process in
 *   discrete time), sampled as geometric intervals.
 * - `latency`: one spike per non-zero pixel at step round((1 − pixel/255)·(T−1)): bright first.
 *
 * Intervals are drawn by inverting a precomputed per-intensity CDF with one 32-bit uniform per
 * spike (plus one per pixel for the interval that runs past T), through a 256-entry guide table,
 * so the cost is proportional to the spikes emitted, not to pixels × steps. The 2^-32 resolution
 * of the uniforms is the only approximation (a pixel whose true chance of any spike is below
 * 2.3e-10 gets that chance instead).
 */
import type { Prng } from './prng.js';

export type EncoderType = 'bindsnet-poisson' | 'bernoulli' | 'latency';

/** Input spikes of one sample: step t holds count[t] input indices at index[t*stride ...]. */
export interface SpikeTrain {
  readonly steps: number;
  readonly inputs: number;
  /** Number of valid entries per step. */
  readonly count: Int32Array;
  /** Bucket capacity per step (number of non-zero pixels of the current image). */
  stride: number;
  readonly index: Uint16Array;
  /** Non-zero pixels of the image: the only inputs that can spike. */
  readonly active: Uint16Array;
  activeCount: number;
  /** Total spikes in the sample. */
  total: number;
}

/** `buffers`: arrays to fill instead of fresh ones (the kernel's memory, see kernel-layout.ts). */
export function createSpikeTrain(
  inputs: number,
  steps: number,
  buffers: { count: Int32Array; index: Uint16Array; active: Uint16Array } = {
    count: new Int32Array(steps),
    index: new Uint16Array(inputs * steps),
    active: new Uint16Array(inputs),
  },
): SpikeTrain {
  return { steps, inputs, count: buffers.count, stride: 0, index: buffers.index, active: buffers.active, activeCount: 0, total: 0 };
}

const GUIDE_BITS = 8;
export const GUIDE = 1 << GUIDE_BITS;

/** Per-intensity interval CDF tables for inversion sampling. */
export interface IntervalTables {
  /** [256][steps + 2]: cdf[v][k] = ceil(P(K ≤ k) · 2^32); cdf[v][steps+1] = +∞. */
  cdf: Float64Array;
  /** [256][GUIDE]: smallest k with cdf[v][k] > m · 2^24 (start of the linear search). */
  guide: Uint16Array;
  width: number;
}

function logGamma(x: number): number {
  // Lanczos approximation (g = 7, n = 9); |error| < 1e-13 for x ≥ 1, ample for these tables.
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  x -= 1;
  let a = c[0];
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Rate in Hz of an intensity as BindsNET computes it in float32. */
export function pixelRateHz(pixel: number, maxRateHz: number): number {
  return Math.fround(Math.fround(Math.fround(pixel) / 255) * Math.fround(maxRateHz));
}

function buildIntervalTables(type: 'bindsnet-poisson' | 'bernoulli', steps: number, dtMs: number, maxRateHz: number): IntervalTables {
  const width = steps + 2;
  const cdf = new Float64Array(256 * width);
  const guide = new Uint16Array(256 * GUIDE);
  const scale = 4294967296;
  for (let v = 1; v < 256; v++) {
    const r = pixelRateHz(v, maxRateHz);
    const row = v * width;
    let acc = 0;
    if (type === 'bindsnet-poisson') {
      const lambda = Math.fround(Math.fround(1 / r) * Math.fround(1000 / dtMs));
      const logLambda = Math.log(lambda);
      for (let k = 1; k <= steps; k++) {
        let q = Math.exp(-lambda + k * logLambda - logGamma(k + 1));
        if (k === 1) q += Math.exp(-lambda); // K = 0 is bumped to 1
        acc += q;
        cdf[row + k] = Math.ceil(Math.min(acc, 1) * scale);
      }
    } else {
      const p = Math.min(1, (r * dtMs) / 1000);
      for (let k = 1; k <= steps; k++) cdf[row + k] = Math.ceil(-Math.expm1(k * Math.log1p(-p)) * scale);
    }
    cdf[row + steps + 1] = Infinity;
    let k = 1;
    for (let m = 0; m < GUIDE; m++) {
      const target = m * (scale / GUIDE);
      while (k <= steps && cdf[row + k] <= target) k++;
      guide[v * GUIDE + m] = k;
    }
  }
  return { cdf, guide, width };
}

export interface Encoder {
  readonly type: EncoderType;
  /** The interval encoders' tables (the WASM kernel samples from a copy); null for latency. */
  readonly tables: IntervalTables | null;
  /** Fills `out` with the spikes of `image` (`inputs` intensities 0..255). */
  encode(image: Uint8Array, rng: Prng, out: SpikeTrain): void;
}

export function createEncoder(type: EncoderType, steps: number, dtMs: number, maxRateHz: number): Encoder {
  if (type === 'latency') return createLatencyEncoder(steps);
  const tables = buildIntervalTables(type, steps, dtMs, maxRateHz);
  return {
    type,
    tables,
    encode: (image, rng, out) => encodeIntervals(tables, image, rng, out),
  };
}

function listActive(image: Uint8Array, out: SpikeTrain): number {
  const active = out.active;
  let m = 0;
  for (let i = 0; i < out.inputs; i++) if (image[i] !== 0) active[m++] = i;
  out.activeCount = m;
  return m;
}

function encodeIntervals(tables: IntervalTables, image: Uint8Array, rng: Prng, out: SpikeTrain): void {
  const { cdf, guide, width } = tables;
  const steps = out.steps;
  const count = out.count;
  const index = out.index;
  const active = out.active;
  const m = listActive(image, out);
  out.stride = m;
  count.fill(0);
  let total = 0;
  // xoshiro128** inlined on locals (one draw per spike is the encoder's whole cost); the state
  // is written back, so the stream is exactly rng.nextU32()'s.
  let s0 = rng.s0;
  let s1 = rng.s1;
  let s2 = rng.s2;
  let s3 = rng.s3;
  for (let q = 0; q < m; q++) {
    const i = active[q];
    const row = image[i] * width;
    const g = image[i] * GUIDE;
    let c = 0;
    for (;;) {
      const x = Math.imul(s1, 5);
      const u = Math.imul((x << 7) | (x >>> 25), 9) >>> 0;
      const t9 = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t9;
      s3 = (s3 << 11) | (s3 >>> 21);
      let k = guide[g + (u >>> 24)];
      while (u >= cdf[row + k]) k++;
      c += k;
      if (c > steps) break;
      const t = c - 1;
      index[t * m + count[t]++] = i;
      total++;
    }
  }
  rng.s0 = s0;
  rng.s1 = s1;
  rng.s2 = s2;
  rng.s3 = s3;
  out.total = total;
}

function createLatencyEncoder(steps: number): Encoder {
  return {
    type: 'latency',
    tables: null,
    encode(image, _rng, out) {
      const m = listActive(image, out);
      out.stride = m;
      out.count.fill(0);
      for (let q = 0; q < m; q++) {
        const i = out.active[q];
        const t = Math.round((1 - image[i] / 255) * (steps - 1));
        out.index[t * m + out.count[t]++] = i;
      }
      out.total = m;
    },
  };
}
