/**
 * Neuron updates, one step of a layer (docs/models.md, steps 2 and 3).
 *
 * Excitatory layer, 4 neurons per SIMD lane group, 16 per block:
 *   current:      v ← rest + d·(v − rest);  v ← v + x  unless refractory
 *   conductance:  v ← v + (dt/τ)·((rest − v) + ge·(Ee − v) + gi·(Ei − v))  unless refractory
 *                 (v stays at reset while refractory), kept within [min(rest, Ei), max(rest, Ee)]
 *                 (the range the exact solution never leaves; Euler at large conductances
 *                 overshoots it and diverges); ge ← ge·e^(−dt/τe), gi ← gi·e^(−dt/τi)
 *   adaptive θ:   θ ← θ·e^(−dt/τθ) while learning;  spike if v ≥ threshold + θ:
 *                 v ← reset, refractory ← tRef, θ ← θ + θ+ (learning); else refractory −= dt.
 *   lockout L:    refractory ← max(tRef, L) on a spike; v held while refractory > that − tRef (its
 *                 first tRef); a spike also needs refractory < 0 after the step's decrement, i.e.
 *                 more than L since the last one (the released D&C code's `timer > refrac_e`).
 * A step covers the byte range [from, to) of the layer (whole 16-neuron blocks: a thread's share) and
 * appends the crossing neurons, in order, to the list at `out`; the one-spike choice is the sample loop's.
 *
 * The inhibitory layer is stepped event-driven: only neurons away from rest (or receiving
 * input) are visited; a neuron at a fixed point of its update (at rest, no conductance, not
 * refractory) with no input maps to itself, so skipping it is exact.
 */
import {
  extra, ge, gi, hActive, hGe, hGi, hInput, hMember, hRefractory, hV, inhSelf, inhSpiking, refractory, ring, ringSlots, rows, stride, synInput,
  theta, v,
} from './layout';
import { exc, FLUSH, inh, SYNAPSE_CURRENT } from './params';

const ZERO = f32x4.splat(0);

/** x with lanes below FLUSH in magnitude set to 0. */
// @ts-ignore: decorator
@inline function flush4(x: v128, floor: v128): v128 {
  return v128.bitselect(ZERO, x, f32x4.lt(f32x4.abs(x), floor));
}

// @ts-ignore: decorator
@inline function flush(x: f32): f32 {
  return Mathf.abs(x) < FLUSH ? 0 : x;
}

/**
 * Current synapses without delays: the input of each neuron is the sum of the weight rows of the
 * `nrows` inputs that spiked at t−1 (addresses in `rows`), summed in spike order from zero and
 * fused with the update. `uniform` is the all-but-self inhibition wIE·|sH(t−1)|; `extra` its
 * per-neuron correction; `inhib` false promises both are zero (x + 0 is x: skipped, same bits).
 */
export function stepExcFused(nrows: i32, uniform: f32, learning: bool, inhib: bool, from: usize, to: usize, out: usize): i32 {
  // One copy per flag triple: the flags are then constants in the per-neuron code.
  if (exc.gated) {
    if (learning) return inhib ? fused(nrows, uniform, true, true, true, from, to, out) : fused(nrows, uniform, true, false, true, from, to, out);
    return inhib ? fused(nrows, uniform, false, true, true, from, to, out) : fused(nrows, uniform, false, false, true, from, to, out);
  }
  if (learning) return inhib ? fused(nrows, uniform, true, true, false, from, to, out) : fused(nrows, uniform, true, false, false, from, to, out);
  return inhib ? fused(nrows, uniform, false, true, false, from, to, out) : fused(nrows, uniform, false, false, false, from, to, out);
}

/**
 * Current-synapse update of 4 neurons at byte offset `o` with summed input `acc`; returns the 4-bit
 * mask of threshold crossings, stored as if they had not crossed:
 * crossings are rare (a few per step in the whole layer), so `fire` resets them one by one and the
 * common path has no selects to do. v + (x & m) equals select(m, v + x, v) because v here is never
 * −0 (rest + d·(v − rest) is −0 only if both terms are, and v − rest = −0 needs v = −0, rest = +0).
 * The layer's arrays come in locals: V8 reloads a wasm global at every use.
 */
// @ts-ignore: decorator
@inline function current4(o: usize, acc: v128, inhib: bool, gated: bool, learning: bool, vA: usize, rA: usize, tA: usize, eA: usize,
  u: v128, decay: v128, rest: v128, dt: v128, thdecay: v128, thr: v128, clamp: v128): i32 {
  let x = acc;
  if (inhib) x = f32x4.add(f32x4.add(x, v128.load(eA + o)), u);
  let vv = f32x4.add(f32x4.mul(decay, f32x4.sub(v128.load(vA + o), rest)), rest);
  let th = v128.load(tA + o);
  if (learning) {
    th = f32x4.mul(th, thdecay);
    v128.store(tA + o, th);
  }
  const rf = v128.load(rA + o);
  vv = f32x4.add(vv, v128.and(x, f32x4.le(rf, clamp)));
  const rfNext = f32x4.sub(rf, dt);
  v128.store(vA + o, vv);
  v128.store(rA + o, rfNext);
  let s = f32x4.ge(vv, f32x4.add(thr, th));
  if (gated) s = v128.and(s, f32x4.lt(rfNext, ZERO));
  return i32x4.bitmask(s);
}

/**
 * The crossings of a block (bit b of `mask`: neuron j + b) spike: v ← reset, refractory ← tRef,
 * θ ← θ + θ+ (learning), appended to the list at `out` in order; returns the new count.
 */
function fire(mask: i32, j: i32, learning: bool, out: usize, n: i32): i32 {
  const reset = exc.reset;
  const tref = exc.refractory;
  const thplus = exc.thetaPlus;
  while (mask != 0) {
    const k = j + ctz(mask);
    const o = <usize>k << 2;
    store<f32>(v + o, reset);
    store<f32>(refractory + o, tref);
    if (learning) store<f32>(theta + o, load<f32>(theta + o) + thplus);
    store<i32>(out + (<usize>(n++) << 2), k);
    mask &= mask - 1;
  }
  return n;
}

// @ts-ignore: decorator
@inline function fused(nrows: i32, uniform: f32, learning: bool, inhib: bool, gated: bool, from: usize, to: usize, out: usize): i32 {
  const u = f32x4.splat(uniform);
  const decay = f32x4.splat(exc.decay);
  const rest = f32x4.splat(exc.rest);
  const thr = f32x4.splat(exc.threshold);
  const clamp = f32x4.splat(exc.clampAbove);
  const dt = f32x4.splat(exc.dt);
  const thdecay = f32x4.splat(exc.thetaDecay);
  const vA = v, rA = refractory, tA = theta, eA = extra, rowsA = rows;
  const rowsEnd = rowsA + (<usize>nrows << 2);
  let n = 0;
  for (let jb = from; jb < to; jb += 64) {
    let a0 = ZERO;
    let a1 = ZERO;
    let a2 = ZERO;
    let a3 = ZERO;
    for (let r = rowsA; r < rowsEnd; r += 4) {
      const o = <usize>load<i32>(r) + jb;
      a0 = f32x4.add(a0, v128.load(o));
      a1 = f32x4.add(a1, v128.load(o, 16));
      a2 = f32x4.add(a2, v128.load(o, 32));
      a3 = f32x4.add(a3, v128.load(o, 48));
    }
    let m = current4(jb, a0, inhib, gated, learning, vA, rA, tA, eA, u, decay, rest, dt, thdecay, thr, clamp);
    m |= current4(jb + 16, a1, inhib, gated, learning, vA, rA, tA, eA, u, decay, rest, dt, thdecay, thr, clamp) << 4;
    m |= current4(jb + 32, a2, inhib, gated, learning, vA, rA, tA, eA, u, decay, rest, dt, thdecay, thr, clamp) << 8;
    m |= current4(jb + 48, a3, inhib, gated, learning, vA, rA, tA, eA, u, decay, rest, dt, thdecay, thr, clamp) << 12;
    if (m != 0) n = fire(m, <i32>(jb >> 2), learning, out, n);
  }
  return n;
}

/** Sums the rows of the `nrows` inputs that spiked at t−1 into `synInput` (in spike order, from 0). */
export function gatherRows(nrows: i32): void {
  const end = <usize>stride << 2;
  const rowsEnd = rows + (<usize>nrows << 2);
  for (let o: usize = 0; o < end; o += 16) {
    let a = ZERO;
    for (let r = rows; r < rowsEnd; r += 4) a = f32x4.add(a, v128.load(<usize>load<i32>(r) + o));
    v128.store(synInput + o, a);
  }
}

/**
 * The excitatory step with this step's arriving input already in `input` (delays, or conductance
 * synapses), which it consumes: left zero, so a delay-ring slot is empty when it is next filled,
 * by the thread that owns the neurons. Current synapses: as `stepExcFused`. Conductance synapses:
 * `hUniform` = wIE·|sH(t−1)| and `hSelf` = wIE·(|sH(t−1)| − 1) go to gi (the latter where
 * `inhSelf` marks the partner).
 */
export function stepExcBuffered(input: usize, uniform: f32, hSelf: f32, learning: bool, inhib: bool, from: usize, to: usize, out: usize): i32 {
  const rest = f32x4.splat(exc.rest);
  const thr = f32x4.splat(exc.threshold);
  const clamp = f32x4.splat(exc.clampAbove);
  const dt = f32x4.splat(exc.dt);
  const thdecay = f32x4.splat(exc.thetaDecay);
  const gated = exc.gated;
  const vA = v, rA = refractory, tA = theta;
  let n = 0;
  if (exc.synapse == SYNAPSE_CURRENT) {
    const u = f32x4.splat(uniform);
    const decay = f32x4.splat(exc.decay);
    const eA = extra;
    for (let o = from; o < to; o += 16) {
      const x = v128.load(input + o);
      v128.store(input + o, ZERO);
      const m = current4(o, x, inhib, gated, learning, vA, rA, tA, eA, u, decay, rest, dt, thdecay, thr, clamp);
      if (m != 0) n = fire(m, <i32>(o >> 2), learning, out, n);
    }
    return n;
  }
  const hU = f32x4.splat(uniform);
  const hS = f32x4.splat(hSelf);
  const k = f32x4.splat(exc.k);
  const eE = f32x4.splat(exc.excReversal);
  const eI = f32x4.splat(exc.inhReversal);
  const geDecay = f32x4.splat(exc.geDecay);
  const giDecay = f32x4.splat(exc.giDecay);
  const floor = f32x4.splat(FLUSH);
  const vLow = f32x4.splat(exc.vLow);
  const vHigh = f32x4.splat(exc.vHigh);
  for (let o = from; o < to; o += 16) {
    const gE = f32x4.add(v128.load(ge + o), v128.load(input + o));
    v128.store(input + o, ZERO);
    let gI = v128.load(gi + o);
    if (inhib) gI = f32x4.add(gI, v128.bitselect(hS, hU, v128.load(inhSelf + o)));
    let vv = v128.load(vA + o);
    const rf = v128.load(rA + o);
    const drive = f32x4.add(f32x4.add(f32x4.sub(rest, vv), f32x4.mul(gE, f32x4.sub(eE, vv))), f32x4.mul(gI, f32x4.sub(eI, vv)));
    const stepped = f32x4.pmax(vLow, f32x4.pmin(vHigh, f32x4.add(vv, f32x4.mul(k, drive))));
    vv = v128.bitselect(stepped, vv, f32x4.le(rf, clamp));
    const rfNext = f32x4.sub(rf, dt);
    v128.store(ge + o, flush4(f32x4.mul(gE, geDecay), floor));
    v128.store(gi + o, flush4(f32x4.mul(gI, giDecay), floor));
    let th = v128.load(tA + o);
    if (learning) {
      th = f32x4.mul(th, thdecay);
      v128.store(tA + o, th);
    }
    v128.store(vA + o, vv);
    v128.store(rA + o, rfNext);
    let s = f32x4.ge(vv, f32x4.add(thr, th));
    if (gated) s = v128.and(s, f32x4.lt(rfNext, ZERO));
    const m = i32x4.bitmask(s);
    if (m != 0) n = fire(m, <i32>(o >> 2), learning, out, n);
  }
  return n;
}

/** Resting state of the excitatory neurons in the byte range [from, to) of the layer, delay lines empty. */
export function resetNeurons(from: usize, to: usize): void {
  const rest = f32x4.splat(exc.rest);
  for (let o = from; o < to; o += 16) {
    v128.store(v + o, rest);
    v128.store(refractory + o, ZERO);
    v128.store(ge + o, ZERO);
    v128.store(gi + o, ZERO);
  }
  const slotBytes = <usize>stride << 2;
  for (let k = 0; k < ringSlots; k++) memory.fill(ring + <usize>k * slotBytes + from, 0, to - from);
}

/** Adds neuron k of the inhibitory layer to the set of neurons to step. */
export function activateInh(k: i32, size: i32): i32 {
  if (load<u8>(hMember + <usize>k) == 0) {
    store<u8>(hMember + <usize>k, 1);
    store<i32>(hActive + (<usize>size << 2), k);
    return size + 1;
  }
  return size;
}

let hSpikes: i32 = 0;

/** Spikes of the last `stepInh`. */
export function inhSpikeCount(): i32 {
  return hSpikes;
}

/** One step of the active inhibitory neurons (input in hInput); returns the new active-set size. */
export function stepInh(size: i32): i32 {
  const rest = inh.rest;
  const reset = inh.reset;
  const thr = inh.threshold;
  const tref = inh.refractory;
  const dt = inh.dt;
  const conductance = inh.synapse != SYNAPSE_CURRENT;
  let n = 0;
  for (let a = 0; a < size; ) {
    const k = <usize>load<i32>(hActive + (<usize>a << 2));
    const o = k << 2;
    const vOld = load<f32>(hV + o);
    let vk = vOld;
    const r = load<f32>(hRefractory + o);
    const input = load<f32>(hInput + o);
    let gek: f32 = 0;
    let gik: f32 = 0;
    if (conductance) {
      gek = load<f32>(hGe + o) + input;
      gik = load<f32>(hGi + o);
      if (r <= 0) {
        vk = vk + inh.k * (((rest - vk) + gek * (inh.excReversal - vk)) + gik * (inh.inhReversal - vk));
        vk = vk < inh.vLow ? inh.vLow : vk > inh.vHigh ? inh.vHigh : vk;
      }
      gek = flush(gek * inh.geDecay);
      gik = flush(gik * inh.giDecay);
      store<f32>(hGe + o, gek);
      store<f32>(hGi + o, gik);
    } else {
      vk = inh.decay * (vk - rest) + rest;
      if (r <= 0) vk = vk + input;
    }
    let rk = r - dt;
    if (vk >= thr) {
      vk = reset;
      rk = tref;
      store<i32>(inhSpiking + (<usize>n << 2), <i32>k);
      n++;
    }
    store<f32>(hV + o, vk);
    store<f32>(hRefractory + o, rk);
    // Done when the next step without input would leave it unchanged: at rest, or at a float32
    // fixed point of the leak (v one ulp from rest can map to itself).
    if (rk <= 0 && gek == 0 && gik == 0 && (vk == rest || (vk == vOld && input == 0 && r <= 0))) {
      store<u8>(hMember + k, 0);
      size--;
      store<i32>(hActive + (<usize>a << 2), load<i32>(hActive + (<usize>size << 2)));
    } else {
      a++;
    }
  }
  hSpikes = n;
  return size;
}
