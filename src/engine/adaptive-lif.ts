/**
 * Adaptive-threshold LIF neurons of Diehl & Cook (BindsNET `DiehlAndCookNodes`), one dt step.
 *
 *   v ← rest + d·(v − rest)                           d = exp(−dt/τ)
 *   θ ← θ·dθ   (learning only)                         dθ = exp(−dt/τθ), float32 (1 − 1.19e-7 at τθ = 1e7 ms)
 *   v ← v + I   if refractory ≤ 0;  refractory ← refractory − dt
 *   spike if v ≥ threshold + θ;  then v ← reset, refractory ← tRef, θ ← θ + θ+ (learning only)
 *
 * θ persists across samples and is frozen when learning is off. All arithmetic is rounded to
 * float32 in PyTorch's op order. The winner-take-all `one_spike` choice is the network's job:
 * this step reports every neuron that crossed.
 */
import { decayFactor, lifParams, type LifParams, type LifSpec } from './lif.js';

const f = Math.fround;

export interface AdaptiveLifParams extends LifParams {
  thetaPlusMv: number;
  /** exp(−dt/τθ) in float32. */
  thetaDecay: number;
}

export interface AdaptiveLifState {
  v: Float32Array;
  refractory: Float32Array;
  /** Adaptive threshold increment (mV); persists across samples. */
  theta: Float32Array;
}

export function adaptiveLifParams(p: LifSpec & { thetaPlusMv: number; tauThetaMs: number }, dtMs: number): AdaptiveLifParams {
  return { ...lifParams(p, dtMs), thetaPlusMv: f(p.thetaPlusMv), thetaDecay: decayFactor(dtMs, p.tauThetaMs) };
}

export function createAdaptiveLifState(p: AdaptiveLifParams, size: number): AdaptiveLifState {
  const s = { v: new Float32Array(size), refractory: new Float32Array(size), theta: new Float32Array(size) };
  resetAdaptiveLifState(p, s);
  return s;
}

/** Per-sample reset: voltages and refractory counters; θ is kept. */
export function resetAdaptiveLifState(p: AdaptiveLifParams, s: AdaptiveLifState): void {
  s.v.fill(p.restMv);
  s.refractory.fill(0);
}

/**
 * One step of every neuron (including padding lanes, whose θ = +∞ keeps them silent).
 * The input of neuron j is (input[j] + extra[j]) + uniformInput in float32; `uniformInput`
 * carries all-but-self inhibition without an n-vector and `extra` its per-neuron correction.
 * Crossing neurons are appended to `crossed`; returns their number.
 */
export function stepAdaptiveLif(
  p: AdaptiveLifParams,
  s: AdaptiveLifState,
  input: Float32Array,
  extra: Float32Array,
  uniformInput: number,
  learning: boolean,
  crossed: Int32Array,
): number {
  const rest = p.restMv;
  const reset = p.resetMv;
  const thr = p.thresholdMv;
  const tRef = p.refractoryMs;
  const dt = p.dtMs;
  const d = p.decay;
  const dTheta = p.thetaDecay;
  const plus = p.thetaPlusMv;
  const v = s.v;
  const rf = s.refractory;
  const theta = s.theta;
  const u = f(uniformInput);
  let count = 0;
  for (let j = 0; j < v.length; j++) {
    let vj = f(f(d * f(v[j] - rest)) + rest);
    const th = learning ? f(theta[j] * dTheta) : theta[j];
    const r = rf[j];
    if (r <= 0) vj = f(vj + f(f(input[j] + extra[j]) + u));
    if (vj >= f(thr + th)) {
      v[j] = reset;
      rf[j] = tRef;
      theta[j] = learning ? f(th + plus) : th;
      crossed[count++] = j;
    } else {
      v[j] = vj;
      rf[j] = f(r - dt);
      theta[j] = th;
    }
  }
  return count;
}
