/**
 * Pair-based trace STDP, BindsNET's `PostPre` rule, on a dense row-major [pre, stride] weight matrix.
 *
 *   traces:  x ← x·exp(−dt/τtrace) each step, x ← 1 on a spike (set, not added)
 *   pre spike at i:   w[i, j] ← w[i, j] − nuPre · xPost[j]     (depression, post-before-pre)
 *   post spike at j:  w[i, j] ← w[i, j] + nuPost · xPre[i]     (potentiation, pre-before-post)
 *   then w ← clamp(w, wMin, wMax)
 *
 * Both terms use this step's spikes and traces. Event-driven: depression touches only rows of
 * inputs spiking now × columns whose post trace is non-zero (neurons that fired in this sample);
 * potentiation touches only the columns of spiking neurons × inputs whose trace is non-zero.
 * Every other entry would receive w − 0 or w + 0, i.e. stays exactly the same.
 */
import type { ExcKernel } from './exc-kernel.js';

const f = Math.fround;

export interface PostPreParams {
  nuPre: number;
  nuPost: number;
  wMin: number;
  wMax: number;
}

function clampTo(w: number, lo: number, hi: number): number {
  return w < lo ? lo : w > hi ? hi : w;
}

/**
 * Depression for the inputs spiking now against every column in `postActive` except the columns
 * flagged in `spikingNow` (potentiated in this same step, which `potentiateColumn` updates in one
 * pass, keeping the op order w − nuPre·x + nuPost·x then clamp). The row loop itself runs in the
 * excitatory kernel (`ExcKernel.depress`), which already holds the spiking inputs' rows.
 * Only the lower bound can be crossed: nuPre·x ≥ 0, and weights enter the sample within bounds.
 */
export function depressActiveColumns(
  p: PostPreParams,
  kernel: ExcKernel,
  postActive: Int32Array,
  postActiveCount: number,
  postTrace: Float32Array,
  spikingNow: Uint8Array,
): void {
  const cols = kernel.depColumns;
  const amounts = kernel.depAmounts;
  let m = 0;
  for (let a = 0; a < postActiveCount; a++) {
    const j = postActive[a];
    if (spikingNow[j] !== 0) continue;
    cols[m] = j;
    amounts[m++] = postTrace[j] * p.nuPre;
  }
  if (m > 0) kernel.depress(m, p.wMin);
}

/**
 * Potentiation of column `j` (a neuron spiking now, post trace = 1) for the candidate inputs
 * (the non-zero pixels: no other input can have a trace). The input trace is lazy:
 * `traceTable[t − lastSpike[i]]` equals x·d repeated in float32, and a never-spiked input has 0.
 * Inputs spiking now also get this step's depression −nuPre·1 first.
 */
export function potentiateColumn(
  p: PostPreParams,
  weights: Float32Array,
  stride: number,
  j: number,
  candidates: Uint16Array,
  candidateCount: number,
  lastSpike: Int32Array,
  traceTable: Float32Array,
  t: number,
  postTraceJ: number,
): void {
  const lo = p.wMin;
  const hi = p.wMax;
  const dep = f(postTraceJ * p.nuPre);
  const nuPost = p.nuPost;
  for (let q = 0; q < candidateCount; q++) {
    const i = candidates[q];
    const last = lastSpike[i];
    if (last < 0) continue;
    const e = i * stride + j;
    let w = weights[e];
    if (last === t) w = f(w - dep);
    w = f(w + f(traceTable[t - last] * nuPost));
    weights[e] = clampTo(w, lo, hi);
  }
}

/** traceTable[k] = trace k steps after a spike, by repeated float32 multiplication. */
export function traceTable(decay: number, steps: number): Float32Array {
  const tab = new Float32Array(steps + 1);
  tab[0] = 1;
  for (let k = 1; k <= steps; k++) tab[k] = f(tab[k - 1] * decay);
  return tab;
}
