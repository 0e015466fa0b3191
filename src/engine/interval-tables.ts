/**
 * Interval tables of the rate encoders, tabulated once per network and rate; the kernel
 * (assembly/encoder.ts) samples from them. Rates: r = fl32(fl32(pixel/255) · maxRateHz) Hz, in
 * float32 as BindsNET computes them.
 *
 * - `bindsnet-poisson` (BindsNET's `poisson`): inter-spike intervals K ~ Poisson(λ), λ = 1000/(r·dt)
 *   the mean interval in steps; K = 0 is bumped to 1; the cumulative times c ∈ [1, T] are spikes at
 *   step c−1. This renewal process is much more regular than a Poisson process (pixel 255: 31.6
 *   spikes in 250 ms with variance 4.2) and dim pixels almost never fire.
 * - `poisson` (also called `bernoulli`): every step independently spikes with p = r·dt/1000 (a
 *   Poisson process in discrete time, as Brian's PoissonGroup), sampled as geometric intervals.
 *
 * Intervals are drawn by inverting the per-intensity CDF with one 32-bit uniform per spike (plus
 * one per pixel for the interval that runs past T), through a 256-entry guide table, so the cost
 * is proportional to the spikes emitted, not to pixels × steps. The 2^-32 resolution of the
 * uniforms is the only approximation (a pixel whose true chance of any spike is below 2.3e-10
 * gets that chance instead).
 */
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

export function buildIntervalTables(type: 'bindsnet-poisson' | 'poisson', steps: number, dtMs: number, maxRateHz: number): IntervalTables {
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

