/**
 * Connections between layers.
 *
 * The dense input connection is row-major [pre, stride] (row i = the outgoing weights of input i,
 * as BindsNET's `w`; `stride` ≥ neurons pads rows for SIMD), so the inputs that spiked select whole
 * contiguous rows; its event-driven input current is computed by the excitatory kernel
 * (exc-kernel.ts). Structural connections never materialise an n×n matrix (network.ts):
 * - one-to-one (Ae→Ai): I[k] = w·s[k], only for the neurons that spiked;
 * - all-but-self (Ai→Ae): I[j] = w·(Σ_k s[k] − s[j]) = w·count for everyone, corrected by −w·s[j]
 *   for the few that spiked: O(n) per step.
 */

export interface WeightInit {
  dist: 'uniform' | 'constant';
  low?: number;
  high?: number;
  value?: number;
}

/**
 * Initial dense weights in row-major [pre, neurons] draw order (padding columns stay 0); uniform
 * draws use 24-bit floats like `torch.rand`, scaled in float32.
 */
export function initWeights(weights: Float32Array, pre: number, neurons: number, stride: number, init: WeightInit, next24: () => number): void {
  const low = Math.fround(init.low ?? 0);
  const span = Math.fround((init.high ?? 0.3) - low);
  for (let i = 0; i < pre; i++)
    for (let j = 0; j < neurons; j++)
      weights[i * stride + j] = init.dist === 'constant' ? Math.fround(init.value ?? 0) : Math.fround(Math.fround(span * next24()) + low);
}

/** Clamps every weight into [wMin, wMax] (padding columns stay 0). */
export function clampWeights(weights: Float32Array, pre: number, neurons: number, stride: number, wMin: number, wMax: number): void {
  for (let i = 0; i < pre; i++)
    for (let e = i * stride; e < i * stride + neurons; e++) {
      const w = weights[e];
      if (w < wMin) weights[e] = wMin;
      else if (w > wMax) weights[e] = wMax;
    }
}

/**
 * Scales the incoming weights of each listed postsynaptic neuron (a column) to sum to `norm`
 * (BindsNET `Connection.normalize`: w[:, j] *= norm / Σ_i w[i, j], a zero sum counts as 1).
 * Returns true if a weight ended outside [wMin, wMax] (the next learning step clamps it).
 */
export function normalizeColumns(
  weights: Float32Array,
  pre: number,
  stride: number,
  columns: Int32Array,
  columnCount: number,
  norm: number,
  wMin: number,
  wMax: number,
): boolean {
  let over = false;
  for (let a = 0; a < columnCount; a++) {
    const j = columns[a];
    let sum = 0;
    for (let i = 0, e = j; i < pre; i++, e += stride) sum += weights[e];
    let s = Math.fround(sum);
    if (s === 0) s = 1;
    const factor = Math.fround(Math.fround(1 / s) * norm);
    for (let i = 0, e = j; i < pre; i++, e += stride) {
      const w = Math.fround(weights[e] * factor);
      weights[e] = w;
      if (w > wMax || w < wMin) over = true;
    }
  }
  return over;
}

/** Every column: the first normalization, and after a clamp. */
export function normalizeAllColumns(weights: Float32Array, pre: number, neurons: number, stride: number, norm: number, wMin: number, wMax: number): boolean {
  const sums = new Float64Array(neurons);
  for (let i = 0; i < pre; i++) for (let j = 0; j < neurons; j++) sums[j] += weights[i * stride + j];
  const factors = new Float64Array(neurons);
  for (let j = 0; j < neurons; j++) {
    let s = Math.fround(sums[j]);
    if (s === 0) s = 1;
    factors[j] = Math.fround(Math.fround(1 / s) * norm);
  }
  let over = false;
  for (let i = 0; i < pre; i++)
    for (let j = 0, e = i * stride; j < neurons; j++, e++) {
      const w = Math.fround(weights[e] * factors[j]);
      weights[e] = w;
      if (w > wMax || w < wMin) over = true;
    }
  return over;
}
