/**
 * Leaky integrate-and-fire neurons (BindsNET `LIFNodes`), one dt step at a time.
 *
 *   v ← rest + d·(v − rest),            d = exp(−dt/τ)          (decay toward rest, mV)
 *   v ← v + I   if refractory ≤ 0        (input is an instantaneous voltage jump, mV)
 *   refractory ← refractory − dt                                 (ms)
 *   spike if v ≥ threshold;  then v ← reset, refractory ← tRef
 *
 * The decay factor is computed in float32 and every update is rounded to float32, following
 * PyTorch's separate element-wise ops.
 */
const f = Math.fround;

export interface LifParams {
  restMv: number;
  resetMv: number;
  thresholdMv: number;
  refractoryMs: number;
  dtMs: number;
  /** exp(−dt/τ) in float32. */
  decay: number;
}

export interface LifState {
  v: Float32Array;
  refractory: Float32Array;
}

export function decayFactor(dtMs: number, tauMs: number): number {
  return f(Math.exp(f(-dtMs / tauMs)));
}

/** A LIF layer as a definition describes it (mV, ms). */
export interface LifSpec {
  restMv: number;
  resetMv: number;
  thresholdMv: number;
  refractoryMs: number;
  tauMs: number;
}

export function lifParams(p: LifSpec, dtMs: number): LifParams {
  return {
    restMv: f(p.restMv),
    resetMv: f(p.resetMv),
    thresholdMv: f(p.thresholdMv),
    refractoryMs: f(p.refractoryMs),
    dtMs: f(dtMs),
    decay: decayFactor(dtMs, p.tauMs),
  };
}

export function createLifState(p: LifParams, size: number): LifState {
  const s = { v: new Float32Array(size), refractory: new Float32Array(size) };
  resetLifState(p, s);
  return s;
}

export function resetLifState(p: LifParams, s: LifState): void {
  s.v.fill(p.restMv);
  s.refractory.fill(0);
}

/** One step of every neuron; writes 1/0 into `spikes` and returns the number of spikes. */
export function stepLif(p: LifParams, s: LifState, input: ArrayLike<number>, spikes: Uint8Array): number {
  const { restMv: rest, resetMv: reset, thresholdMv: thr, refractoryMs: tRef, dtMs: dt, decay: d } = p;
  const v = s.v;
  const rf = s.refractory;
  let n = 0;
  for (let j = 0; j < v.length; j++) {
    let vj = f(f(d * f(v[j] - rest)) + rest);
    const r = rf[j];
    if (r <= 0) vj = f(vj + input[j]);
    if (vj >= thr) {
      v[j] = reset;
      rf[j] = tRef;
      spikes[j] = 1;
      n++;
    } else {
      v[j] = vj;
      rf[j] = f(r - dt);
      spikes[j] = 0;
    }
  }
  return n;
}

/**
 * Event-driven variant for a layer whose input is sparse (one-to-one from a layer that rarely
 * fires): only neurons in `active` (away from rest, refractory, or receiving input — the caller
 * adds those) are stepped. A neuron exactly at rest with no input and no refractoriness maps to
 * itself, so skipping it is exact. Spiking neurons are appended to `spikesOut`; returns their number.
 */
export function stepLifActive(p: LifParams, s: LifState, active: ActiveSet, input: Float32Array | Float64Array, spikesOut: Int32Array): number {
  const { restMv: rest, resetMv: reset, thresholdMv: thr, refractoryMs: tRef, dtMs: dt, decay: d } = p;
  const v = s.v;
  const rf = s.refractory;
  let n = 0;
  const list = active.list;
  for (let a = 0; a < active.size; ) {
    const k = list[a];
    let vk = f(f(d * f(v[k] - rest)) + rest);
    const r = rf[k];
    if (r <= 0) vk = f(vk + input[k]);
    let rk = f(r - dt);
    if (vk >= thr) {
      vk = reset;
      rk = tRef;
      spikesOut[n++] = k;
    }
    v[k] = vk;
    rf[k] = rk;
    if (vk === rest && rk <= 0) active.removeAt(a);
    else a++;
  }
  return n;
}

/** A set of neuron indices with O(1) add/remove and dense iteration. */
export class ActiveSet {
  readonly list: Int32Array;
  private readonly member: Uint8Array;
  size = 0;
  /** A capacity, or the list and membership arrays to use (e.g. views on kernel memory). */
  constructor(capacity: number | { list: Int32Array; member: Uint8Array }) {
    this.list = typeof capacity === 'number' ? new Int32Array(capacity) : capacity.list;
    this.member = typeof capacity === 'number' ? new Uint8Array(capacity) : capacity.member;
  }
  add(k: number): void {
    if (this.member[k] === 0) {
      this.member[k] = 1;
      this.list[this.size++] = k;
    }
  }
  removeAt(a: number): void {
    this.member[this.list[a]] = 0;
    this.list[a] = this.list[--this.size];
  }
  clear(): void {
    for (let a = 0; a < this.size; a++) this.member[this.list[a]] = 0;
    this.size = 0;
  }
}
