/**
 * Traces and learning rules on the dense input weights W (docs/models.md, steps 4–6).
 *
 * A rule is a depression term applied when input i spikes (to every column with a non-zero post
 * trace) and a potentiation term applied when neuron j spikes (to every input with a non-zero
 * pre trace), then a clamp to [wMin, wMax]:
 *
 *   rule                        depression (pre spike)        potentiation (post spike)
 *   post-pre                    y·nuPre                       x·nuPost
 *   weight-dependent-post-pre   y·nuPre·(w − wMin)            x·nuPost·(wMax − w)
 *   stdp                        y·A−                          x·A+
 *   diehl-cook                  y1·nuPre                      x·nuPost·y2(before the spike)
 *   power-law                   —                             nu·(x − xTarget)·(wMax − w)^mu
 *
 * To add a rule: a RULE_ constant in params.ts, its terms in `depressionOf`/`potentiationOf`
 * below (every path reaches them; the fast loops are only for the rules they name), and its schema
 * and mapping in src/engine/rules.ts (which lists the rest). Entries with a
 * zero trace receive w ± 0 and are skipped: exact.
 *
 * Nearest-spike input traces are read lazily (trace after k steps = table[k]); all-to-all input
 * traces (and nearest ones whose table would be too long) are decayed explicitly for the inputs in
 * `preActive`. Post traces are decayed
 * explicitly for the neurons in `postActive`.
 */
import {
  depAmounts, depColumns, neurons, post1, post2, post2Before, postActive, postMember, potAmounts, potColumns, potY2, preActive,
  preLast, preMember, preTrace, preTraceTable, rows, spikingNow, stride, touched, touchedMember, traceTableLength, weights, inputs,
} from './layout';
import {
  depCoef, FLUSH, mu, post1Decay, post2Decay, postAdditive, potCoef, preAdditive, preDecay, preExplicit, rule, RULE_DIEHL_COOK, RULE_NONE,
  RULE_POST_PRE, RULE_POWER_LAW, RULE_STDP, RULE_WEIGHT_DEPENDENT, wMax, wMin, xTarget,
} from './params';

export let postActiveCount: i32 = 0;
export let preActiveCount: i32 = 0;
export let touchedCount: i32 = 0;

export function markTouched(j: i32): void {
  if (load<u8>(touchedMember + <usize>j) == 0) {
    store<u8>(touchedMember + <usize>j, 1);
    store<i32>(touched + (<usize>(touchedCount++) << 2), j);
  }
}

export function clearTouched(): void {
  for (let a = 0; a < touchedCount; a++) store<u8>(touchedMember + <usize>load<i32>(touched + (<usize>a << 2)), 0);
  touchedCount = 0;
}

// ---- input traces ----

/** Input i's trace at step `now`. */
// @ts-ignore: decorator
@inline function preTraceAt(i: i32, now: i32): f32 {
  if (preExplicit) return load<f32>(preTrace + (<usize>i << 2));
  const last = load<i32>(preLast + (<usize>i << 2));
  if (last < 0) return 0;
  const k = now - last;
  return k < traceTableLength ? load<f32>(preTraceTable + (<usize>k << 2)) : 0;
}

/** Explicit decay of all-to-all input traces (before this step's spikes); drops traces at 0. */
export function decayPreTraces(): void {
  const d = preDecay;
  for (let a = 0; a < preActiveCount; ) {
    const i = load<i32>(preActive + (<usize>a << 2));
    const p = preTrace + (<usize>i << 2);
    let x = load<f32>(p) * d;
    if (x < FLUSH) x = 0;
    store<f32>(p, x);
    if (x == 0) {
      store<u8>(preMember + <usize>i, 0);
      preActiveCount--;
      store<i32>(preActive + (<usize>a << 2), load<i32>(preActive + (<usize>preActiveCount << 2)));
    } else a++;
  }
}

/** Input i spikes at step `now`. */
export function preSpike(i: i32, now: i32): void {
  store<i32>(preLast + (<usize>i << 2), now);
  if (preExplicit) {
    const p = preTrace + (<usize>i << 2);
    store<f32>(p, preAdditive ? load<f32>(p) + 1 : 1);
  }
  if (load<u8>(preMember + <usize>i) == 0) {
    store<u8>(preMember + <usize>i, 1);
    store<i32>(preActive + (<usize>(preActiveCount++) << 2), i);
  }
}

/** Forgets nearest-spike input traces that have decayed to 0 (state carried across samples). */
export function pruneNearestPreTraces(now: i32): void {
  if (preExplicit) return;
  for (let a = 0; a < preActiveCount; ) {
    const i = load<i32>(preActive + (<usize>a << 2));
    if (now - load<i32>(preLast + (<usize>i << 2)) >= traceTableLength) {
      store<u8>(preMember + <usize>i, 0);
      preActiveCount--;
      store<i32>(preActive + (<usize>a << 2), load<i32>(preActive + (<usize>preActiveCount << 2)));
    } else a++;
  }
}

export function clearPreTraces(): void {
  for (let a = 0; a < preActiveCount; a++) {
    const i = <usize>load<i32>(preActive + (<usize>a << 2));
    store<i32>(preLast + (i << 2), -1);
    store<f32>(preTrace + (i << 2), 0);
    store<u8>(preMember + i, 0);
  }
  preActiveCount = 0;
}

// ---- post traces ----

export function decayPostTraces(): void {
  const d1 = post1Decay;
  const d2 = post2Decay;
  const second = rule == RULE_DIEHL_COOK;
  for (let a = 0; a < postActiveCount; ) {
    const j = <usize>load<i32>(postActive + (<usize>a << 2));
    let y1 = load<f32>(post1 + (j << 2)) * d1;
    if (y1 < FLUSH) y1 = 0;
    store<f32>(post1 + (j << 2), y1);
    let y2: f32 = 0;
    if (second) {
      y2 = load<f32>(post2 + (j << 2)) * d2;
      if (y2 < FLUSH) y2 = 0;
      store<f32>(post2 + (j << 2), y2);
    }
    if (y1 == 0 && y2 == 0) {
      store<u8>(postMember + j, 0);
      postActiveCount--;
      store<i32>(postActive + (<usize>a << 2), load<i32>(postActive + (<usize>postActiveCount << 2)));
    } else a++;
  }
}

/** Neuron j spikes: its traces jump (y2 is read first, for the diehl-cook rule). */
export function postSpike(j: i32): void {
  const o = <usize>j << 2;
  store<f32>(post2Before + o, load<f32>(post2 + o));
  store<f32>(post1 + o, postAdditive ? load<f32>(post1 + o) + 1 : 1);
  store<f32>(post2 + o, 1);
  store<u8>(spikingNow + <usize>j, 1);
  if (load<u8>(postMember + <usize>j) == 0) {
    store<u8>(postMember + <usize>j, 1);
    store<i32>(postActive + (<usize>(postActiveCount++) << 2), j);
  }
}

export function clearPostTraces(): void {
  for (let a = 0; a < postActiveCount; a++) {
    const j = <usize>load<i32>(postActive + (<usize>a << 2));
    store<f32>(post1 + (j << 2), 0);
    store<f32>(post2 + (j << 2), 0);
    store<u8>(postMember + j, 0);
  }
  postActiveCount = 0;
}

// ---- the rules' terms ----

function hasDepression(): bool {
  return rule != RULE_NONE && rule != RULE_POWER_LAW;
}

/**
 * w after the depression `amount` (= y·coefficient) of a presynaptic spike under rule `r`, not yet
 * clamped above.
 */
// @ts-ignore: decorator
@inline function depressionOf(w: f32, amount: f32, r: i32): f32 {
  return r == RULE_WEIGHT_DEPENDENT ? w - amount * (w - wMin) : w - amount;
}

/** The rules whose depression is w − amount (depress gives them one loop without a branch). */
function subtractiveDepression(r: i32): bool {
  return r == RULE_POST_PRE || r == RULE_STDP || r == RULE_DIEHL_COOK;
}

/** The potentiation of w by a postsynaptic spike of a neuron whose second trace was `y2`. */
// @ts-ignore: decorator
@inline function potentiationOf(w: f32, x: f32, y2: f32): f32 {
  if (rule == RULE_WEIGHT_DEPENDENT) return x * potCoef * (wMax - w);
  if (rule == RULE_DIEHL_COOK) return x * potCoef * y2;
  if (rule == RULE_POWER_LAW) return potCoef * (x - xTarget) * <f32>Math.pow(<f64>(wMax - w), mu);
  return x * potCoef;
}

// ---- a step's plasticity: planned on thread 0, applied by the owner of each column ----
//
// Thread 0 plans a step's updates (which columns, by how much) where the step order puts
// plasticity; the weights change at the start of the next job on the layer (the delay-line
// scatter, the next step's excitatory update, or the end of the sample), each thread changing its
// own columns. No weight is read in between, and every entry receives the same operations in the
// same order, so the bits do not depend on who applies them; a helper's columns stay in its cache.

/** A planned step waits to be applied; its sizes and step. */
export let planPending: bool = false;
export let planDep: i32 = 0;
export let planPot: i32 = 0;
export let planNow: i32 = 0;
export let planRows: i32 = 0;

export function planDone(): void {
  planPending = false;
}

/**
 * Plans the plasticity of step `now`: depression by the `nrows` inputs spiking now (their rows in
 * `rows`) of every column with a non-zero post trace except the `nSpiking` columns spiking now
 * (list at `spiking`), which are potentiated (with their depression by inputs spiking now first).
 */
export function planPlasticity(nrows: i32, spiking: usize, nSpiking: i32, now: i32): void {
  let m = 0;
  if (hasDepression() && nrows > 0) {
    for (let a = 0; a < postActiveCount; a++) {
      const j = load<i32>(postActive + (<usize>a << 2));
      if (load<u8>(spikingNow + <usize>j) != 0) continue;
      store<i32>(depColumns + (<usize>m << 2), j);
      store<f32>(depAmounts + (<usize>m << 2), load<f32>(post1 + (<usize>j << 2)) * depCoef);
      m++;
      markTouched(j);
    }
  }
  for (let a = 0; a < nSpiking; a++) {
    const o = <usize>a << 2;
    const j = load<i32>(spiking + o);
    store<i32>(potColumns + o, j);
    store<f32>(potAmounts + o, load<f32>(post1 + (<usize>j << 2)) * depCoef);
    store<f32>(potY2 + o, load<f32>(post2Before + (<usize>j << 2)));
    markTouched(j);
  }
  planDep = m;
  planPot = nSpiking;
  planNow = now;
  planRows = nrows;
  planPending = m > 0 || nSpiking > 0;
}

/**
 * Applies a plan to the columns in [j0, j1): `dep` depressed columns over the `nrows` rows in
 * `rows`, `pot` potentiated columns at step `now` over the `pre` inputs in `preActive`.
 */
export function applyPlasticity(j0: i32, j1: i32, dep: i32, pot: i32, now: i32, nrows: i32, pre: i32): void {
  if (dep > 0) depress(j0, j1, dep, nrows);
  for (let a = 0; a < pot; a++) {
    const o = <usize>a << 2;
    const j = load<i32>(potColumns + o);
    if (j >= j0 && j < j1) potentiate(j, now, load<f32>(potAmounts + o), load<f32>(potY2 + o), pre);
  }
}

/** Depression of the planned columns in [j0, j1). Only the lower bound can be crossed. */
function depress(j0: i32, j1: i32, m: i32, nrows: i32): void {
  for (let a = 0; a < m; a++) {
    const j = load<i32>(depColumns + (<usize>a << 2));
    if (j < j0 || j >= j1) continue;
    const amount = load<f32>(depAmounts + (<usize>a << 2));
    // The rule is fixed for the run: the common forms get a loop with the rule as a constant.
    if (rule == RULE_WEIGHT_DEPENDENT) depressColumn(j, amount, nrows, RULE_WEIGHT_DEPENDENT);
    else if (subtractiveDepression(rule)) depressColumn(j, amount, nrows, RULE_POST_PRE);
    else depressColumn(j, amount, nrows, rule);
  }
}

/** Column j's entries in the `nrows` rows of `rows` after a depression `amount` under rule `r`. */
// @ts-ignore: decorator
@inline function depressColumn(j: i32, amount: f32, nrows: i32, r: i32): void {
  const lo = wMin;
  const column = <usize>j << 2;
  const rowsEnd = rows + (<usize>nrows << 2);
  for (let p = rows; p < rowsEnd; p += 4) {
    const e = <usize>load<i32>(p) + column;
    const w = depressionOf(load<f32>(e), amount, r);
    store<f32>(e, w < lo ? lo : w);
  }
}

/**
 * Potentiation of column j (spiking at step `now`; `amount` its depression of inputs spiking now,
 * applied first; `y2` its second trace before the spike) over the `pre` inputs in `preActive`.
 */
function potentiate(j: i32, now: i32, amount: f32, y2: f32, pre: i32): void {
  const lo = wMin;
  const hi = wMax;
  const dep = hasDepression();
  const rowBytes = <usize>stride << 2;
  const column = weights + (<usize>j << 2);
  if (rule == RULE_POWER_LAW) {
    // Every input: the term is negative where the trace is below the target.
    for (let i = 0; i < inputs; i++) {
      const e = column + <usize>i * rowBytes;
      let w = load<f32>(e);
      w = w + potentiationOf(w, preTraceAt(i, now), y2);
      store<f32>(e, w < lo ? lo : w > hi ? hi : w);
    }
    return;
  }
  if ((rule == RULE_POST_PRE || rule == RULE_STDP) && !preExplicit) {
    // The common case (BindsNET's PostPre, nearest-spike STDP): x from the trace table, w + x·A.
    const pot = potCoef;
    const len = traceTableLength;
    for (let q = 0; q < pre; q++) {
      const i = load<i32>(preActive + (<usize>q << 2));
      const last = load<i32>(preLast + (<usize>i << 2));
      if (last < 0) continue;
      const k = now - last;
      if (k >= len) continue;
      const e = column + <usize>i * rowBytes;
      let w = load<f32>(e);
      if (k == 0) w = w - amount;
      w = w + load<f32>(preTraceTable + (<usize>k << 2)) * pot;
      store<f32>(e, w < lo ? lo : w > hi ? hi : w);
    }
    return;
  }
  for (let q = 0; q < pre; q++) {
    const i = load<i32>(preActive + (<usize>q << 2));
    const x = preTraceAt(i, now);
    const spikingNowI = load<i32>(preLast + (<usize>i << 2)) == now;
    if (x == 0 && !spikingNowI) continue;
    const e = column + <usize>i * rowBytes;
    let w = load<f32>(e);
    if (spikingNowI && dep) w = depressionOf(w, amount, rule);
    w = w + potentiationOf(w, x, y2);
    store<f32>(e, w < lo ? lo : w > hi ? hi : w);
  }
}

// ---- normalization and bounds ----

// A column's sum is a chain of `inputs` dependent f64 additions (in row order: the bits depend on
// it); columns are summed four at a time, each in its own order, so four chains run side by side.

/** The factor that scales a column summing to `sum` to `norm` (BindsNET's, with the f64 target). */
// @ts-ignore: decorator
@inline function factorOf(sum: f64, norm: f64): f32 {
  let s = <f32>sum;
  if (s == 0) s = 1;
  // The target sum stays a double, as in BindsNET's `w *= norm / w.sum(0)` with a Python float.
  return <f32>(<f64>(<f32>1 / s) * norm);
}

/** Scales column j by `factor`; true if a weight left [lo, hi]. */
function scaleColumn(j: i32, factor: f32, lo: f32, hi: f32): bool {
  const rowBytes = <usize>stride << 2;
  const column = weights + (<usize>j << 2);
  const end = column + <usize>inputs * rowBytes;
  let over = false;
  for (let e = column; e < end; e += rowBytes) {
    const w = load<f32>(e) * factor;
    store<f32>(e, w);
    if (w > hi || w < lo) over = true;
  }
  return over;
}

/** Scales column j to sum to `norm`; true if a weight left [lo, hi]. */
function normalizeColumn(j: i32, norm: f64, lo: f32, hi: f32): bool {
  const rowBytes = <usize>stride << 2;
  const column = weights + (<usize>j << 2);
  const end = column + <usize>inputs * rowBytes;
  let sum: f64 = 0;
  for (let e = column; e < end; e += rowBytes) sum += <f64>load<f32>(e);
  return scaleColumn(j, factorOf(sum, norm), lo, hi);
}

/** Normalizes columns a, b, c, d (distinct), their sums side by side. */
function normalizeColumns4(a: i32, b: i32, c: i32, d: i32, norm: f64, lo: f32, hi: f32): bool {
  const rowBytes = <usize>stride << 2;
  const end = weights + <usize>inputs * rowBytes;
  const oa = <usize>a << 2;
  const ob = <usize>b << 2;
  const oc = <usize>c << 2;
  const od = <usize>d << 2;
  let sa: f64 = 0;
  let sb: f64 = 0;
  let sc: f64 = 0;
  let sd: f64 = 0;
  for (let e = weights; e < end; e += rowBytes) {
    sa += <f64>load<f32>(e + oa);
    sb += <f64>load<f32>(e + ob);
    sc += <f64>load<f32>(e + oc);
    sd += <f64>load<f32>(e + od);
  }
  let over = scaleColumn(a, factorOf(sa, norm), lo, hi);
  if (scaleColumn(b, factorOf(sb, norm), lo, hi)) over = true;
  if (scaleColumn(c, factorOf(sc, norm), lo, hi)) over = true;
  if (scaleColumn(d, factorOf(sd, norm), lo, hi)) over = true;
  return over;
}

/**
 * Normalizes the columns in [j0, j1) among the first `count` touched columns (count < 0: every
 * column); true if a weight left [wMin, wMax].
 */
export function normalizeRange(j0: i32, j1: i32, count: i32, norm: f64): bool {
  const lo = wMin;
  const hi = wMax;
  let over = false;
  if (count < 0) {
    const end = min(j1, neurons);
    let j = j0;
    for (; j + 4 <= end; j += 4) if (normalizeColumns4(j, j + 1, j + 2, j + 3, norm, lo, hi)) over = true;
    for (; j < end; j++) if (normalizeColumn(j, norm, lo, hi)) over = true;
    return over;
  }
  // The touched columns in the range, four at a time (the list holds each column once).
  let a = -1;
  let b = -1;
  let c = -1;
  for (let q = 0; q < count; q++) {
    const j = load<i32>(touched + (<usize>q << 2));
    if (j < j0 || j >= j1) continue;
    if (a < 0) a = j;
    else if (b < 0) b = j;
    else if (c < 0) c = j;
    else {
      if (normalizeColumns4(a, b, c, j, norm, lo, hi)) over = true;
      a = b = c = -1;
    }
  }
  if (a >= 0 && normalizeColumn(a, norm, lo, hi)) over = true;
  if (b >= 0 && normalizeColumn(b, norm, lo, hi)) over = true;
  if (c >= 0 && normalizeColumn(c, norm, lo, hi)) over = true;
  return over;
}

export function clampAll(): void {
  const lo = wMin;
  const hi = wMax;
  for (let i = 0; i < inputs; i++) {
    const row = weights + ((<usize>i * <usize>stride) << 2);
    for (let j = 0; j < neurons; j++) {
      const e = row + (<usize>j << 2);
      const w = load<f32>(e);
      if (w < lo) store<f32>(e, lo);
      else if (w > hi) store<f32>(e, hi);
    }
  }
}

/** Set sizes restored from a checkpoint of carried-over state. */
export function setActiveCounts(post: i32, pre: i32): void {
  postActiveCount = post;
  preActiveCount = pre;
}
