/**
 * An independent, slow, dense reference simulator, written only from docs/models.md (and the
 * public BindsNET / Brian / Diehl & Cook semantics it cites). It imports nothing from src/.
 *
 * Deliberately naive: every state is a full dense array, every step visits every neuron and every
 * synapse, traces are decayed eagerly every step, the whole weight matrix is clamped after every
 * learning step, and every input spike travels through an explicit delay queue (also without
 * delays, where the queue has a single slot). Every arithmetic operation is rounded with
 * Math.fround in the order docs/models.md writes it.
 *
 * Choices where docs/models.md leaves room (README.md next to this file lists them):
 * - every parameter is rounded to float32 once, on entry (the spec says "everything is float32");
 *   decay factors and the Euler factor are computed from the raw dt and τ: d = f(exp(f(−dt/τ))),
 *   k = f(dt/τ);
 * - the weight carried by a delayed spike is W_ij after the plasticity of its emission step s
 *   (the value a zero-delay spike of step s meets at step s+1);
 * - traces are updated every step, learning or not;
 * - the whole of W is clamped to [wMin, wMax] after every learning step (BindsNET), and at the
 *   start of a learning sample when a weight lies outside (initial weights, normalisation);
 * - normalisation (docs/models.md step 6): every column at the first learning sample and after a
 *   clamp, otherwise the columns of neurons that spiked or were depressed; sum in float64, factor
 *   f(f(1/s)·norm) with norm a double, a zero sum counts as 1 (BindsNET); it runs after the rest
 *   steps when those are simulated (resetBetweenSamples false: a sample is T steps and R rest steps);
 * - resetBetweenSamples true: θ decays R times after each learning sample (not before the first).
 */

import { RefPrng } from './prng.js';

const f = Math.fround;

/** docs/models.md: a trace or conductance that a decay leaves below 2^-100 is 0. */
const FLUSH = 2 ** -100;
/** docs/models.md step 2: a conductance neuron's v stays within [min(rest, Ei), max(rest, Ee)]. */
const keepInRange = (v: number, rest: number, Ee: number, Ei: number): number => Math.min(Math.max(v, Math.min(rest, Ei)), Math.max(rest, Ee));
const decayed = (x: number, d: number): number => {
  const y = f(x * d);
  return Math.abs(y) < FLUSH ? 0 : y;
};

export type RefSynapse =
  | { type: 'current' }
  | { type: 'conductance'; excTauMs: number; inhTauMs: number; excReversalMv: number; inhReversalMv: number };

export interface RefLayer {
  model: 'lif' | 'adaptive-lif';
  restMv: number;
  resetMv: number;
  thresholdMv: number;
  refractoryMs: number;
  tauMs: number;
  /** Post trace time constant (post-pre, weight-dependent-post-pre). */
  traceTauMs: number;
  /** adaptive-lif only. */
  thetaPlusMv: number;
  tauThetaMs: number;
  thetaInitMv: number;
  oneSpikePerStep: boolean;
  /** adaptive-lif only: no spike until more than this after the last one; 0 = no gate. */
  spikeLockoutMs?: number;
  synapse: RefSynapse;
}

export type RefRule =
  | { rule: 'post-pre'; nuPre: number; nuPost: number }
  | { rule: 'weight-dependent-post-pre'; nuPre: number; nuPost: number }
  | { rule: 'stdp'; aPlus: number; aMinus: number; tauPlusMs: number; tauMinusMs: number; pairing: 'nearest' | 'all-to-all' }
  | { rule: 'diehl-cook'; nuPre: number; nuPost: number; tauPreMs: number; tauPost1Ms: number; tauPost2Ms: number }
  | { rule: 'power-law'; nu: number; xTarget: number; mu: number; tauPreMs: number };

export interface RefParams {
  inputs: number;
  neurons: number;
  dtMs: number;
  /** T: steps with input per sample. */
  steps: number;
  /** R: rest steps after each sample. */
  restSteps: number;
  resetBetweenSamples: boolean;
  /** Pre trace time constant of post-pre / weight-dependent-post-pre (the input layer's). */
  inputTraceTauMs: number;
  exc: RefLayer;
  /** Null: no inhibitory layer. */
  inh: RefLayer | null;
  /** E→H one-to-one weight. */
  wEI: number;
  /** H→E all-but-self weight. */
  wIE: number;
  /** Initial W, row-major [inputs, neurons]. */
  weights: Float32Array;
  wMin: number;
  wMax: number;
  norm: number | null;
  /** Extra delay D_ij in steps, row-major [inputs, neurons]; null = no delays. */
  delays: ArrayLike<number> | null;
  rule: RefRule | null;
  /** xoshiro128** state (4 uint32 words) used for the one-spike selection. */
  prngState: ArrayLike<number>;
}

export interface RefSampleResult {
  /** (step, neuron) pairs, step ascending, neuron ascending within a step; steps ≥ T are rest steps. */
  exc: number[];
  inh: number[];
  weights: Float32Array;
  /** W after the last step, before the end-of-sample normalisation. */
  weightsBeforeNorm: Float32Array;
  /** W at the start of the sample. */
  weightsAtStart: Float32Array;
  theta: Float32Array;
  /** E voltages after each step: voltage[t·|voltageNeurons| + q]. */
  voltage: number[];
  prng: Uint32Array;
}

/** d(τ) = f(exp(f(−dt/τ))). */
export function refDecay(dtMs: number, tauMs: number): number {
  return f(Math.exp(f(-dtMs / tauMs)));
}

interface LayerConsts {
  rest: number;
  reset: number;
  threshold: number;
  tRef: number;
  /** spikeLockoutMs (0: none). */
  lockout: number;
  dv: number;
  k: number;
  adaptive: boolean;
  thetaPlus: number;
  dTheta: number;
  conductance: boolean;
  Ee: number;
  Ei: number;
  dge: number;
  dgi: number;
}

function layerConsts(l: RefLayer, dt: number): LayerConsts {
  const c = l.synapse.type === 'conductance' ? l.synapse : null;
  return {
    rest: f(l.restMv),
    reset: f(l.resetMv),
    threshold: f(l.thresholdMv),
    tRef: f(l.refractoryMs),
    lockout: f(l.spikeLockoutMs ?? 0),
    dv: refDecay(dt, l.tauMs),
    k: f(dt / l.tauMs),
    adaptive: l.model === 'adaptive-lif',
    thetaPlus: f(l.thetaPlusMv),
    dTheta: l.model === 'adaptive-lif' ? refDecay(dt, l.tauThetaMs) : 1,
    conductance: c !== null,
    Ee: c ? f(c.excReversalMv) : 0,
    Ei: c ? f(c.inhReversalMv) : 0,
    dge: c ? refDecay(dt, c.excTauMs) : 0,
    dgi: c ? refDecay(dt, c.inhTauMs) : 0,
  };
}

interface LayerState {
  v: Float32Array;
  refractory: Float32Array;
  ge: Float32Array;
  gi: Float32Array;
}

function newLayerState(n: number, rest: number): LayerState {
  return { v: new Float32Array(n).fill(rest), refractory: new Float32Array(n), ge: new Float32Array(n), gi: new Float32Array(n) };
}

/** Trace constants: pre trace of inputs, post traces y1 (and y2 for diehl-cook) of E. */
interface TraceConsts {
  dPre: number;
  preAllToAll: boolean;
  dPost1: number;
  dPost2: number;
  postAllToAll: boolean;
  hasPost: boolean;
  hasPost2: boolean;
}

function traceConsts(p: RefParams): TraceConsts | null {
  const r = p.rule;
  const dt = p.dtMs;
  if (r === null) return null;
  switch (r.rule) {
    case 'post-pre':
    case 'weight-dependent-post-pre':
      return { dPre: refDecay(dt, p.inputTraceTauMs), preAllToAll: false, dPost1: refDecay(dt, p.exc.traceTauMs), dPost2: 0, postAllToAll: false, hasPost: true, hasPost2: false };
    case 'stdp': {
      const a2a = r.pairing === 'all-to-all';
      return { dPre: refDecay(dt, r.tauPlusMs), preAllToAll: a2a, dPost1: refDecay(dt, r.tauMinusMs), dPost2: 0, postAllToAll: a2a, hasPost: true, hasPost2: false };
    }
    case 'diehl-cook':
      return { dPre: refDecay(dt, r.tauPreMs), preAllToAll: false, dPost1: refDecay(dt, r.tauPost1Ms), dPost2: refDecay(dt, r.tauPost2Ms), postAllToAll: false, hasPost: true, hasPost2: true };
    case 'power-law':
      return { dPre: refDecay(dt, r.tauPreMs), preAllToAll: true, dPost1: 0, dPost2: 0, postAllToAll: false, hasPost: false, hasPost2: false };
  }
}

export class ReferenceNetwork {
  readonly p: RefParams;
  readonly I: number;
  readonly N: number;
  readonly W: Float32Array;
  readonly theta: Float32Array;
  readonly rng: RefPrng;
  private readonly E: LayerConsts;
  private readonly H: LayerConsts | null;
  private readonly tr: TraceConsts | null;
  private readonly dt: number;
  private readonly wEI: number;
  private readonly wIE: number;
  private readonly wMin: number;
  private readonly wMax: number;
  private readonly e: LayerState;
  private readonly h: LayerState | null;
  private readonly xPre: Float32Array;
  private readonly y1: Float32Array;
  private readonly y2: Float32Array;
  /** Spikes of the previous step. */
  private prevE: Uint8Array;
  private prevH: Uint8Array;
  /** Delay lines: global arrival step → per E neuron, the carried weights in arrival-sum order. */
  private queue = new Map<number, number[][]>();
  /** Columns of neurons that spiked, or were depressed, in this learning sample. */
  private touched = new Uint8Array(0);
  /** The first normalisation, and the one after a clamp, cover every column. */
  private normalizeEvery = true;
  private clampNext = false;
  /** Global step counter (continuous over samples; only differences matter). */
  private g = 0;

  constructor(p: RefParams) {
    this.p = p;
    this.I = p.inputs;
    this.N = p.neurons;
    if (p.weights.length !== this.I * this.N) throw new Error('weights: wrong size');
    if (p.delays && p.delays.length !== this.I * this.N) throw new Error('delays: wrong size');
    this.dt = f(p.dtMs);
    this.W = Float32Array.from(p.weights);
    this.E = layerConsts(p.exc, p.dtMs);
    this.H = p.inh ? layerConsts(p.inh, p.dtMs) : null;
    this.tr = traceConsts(p);
    this.wEI = p.inh ? f(p.wEI) : 0;
    // As given (a double): the engine rounds wIE·|sH| once (docs/models.md, step 1).
    this.wIE = p.inh ? p.wIE : 0;
    this.wMin = f(p.wMin);
    this.wMax = f(p.wMax);
    this.touched = new Uint8Array(this.N);
    this.clampNext = this.W.some((w) => w < this.wMin || w > this.wMax);
    this.theta = new Float32Array(this.N).fill(this.E.adaptive ? f(p.exc.thetaInitMv) : 0);
    this.rng = RefPrng.fromState(p.prngState);
    this.e = newLayerState(this.N, this.E.rest);
    this.h = this.H ? newLayerState(this.N, this.H.rest) : null;
    this.xPre = new Float32Array(this.I);
    this.y1 = new Float32Array(this.N);
    this.y2 = new Float32Array(this.N);
    this.prevE = new Uint8Array(this.N);
    this.prevH = new Uint8Array(this.N);
  }

  private resetState(): void {
    const reset = (s: LayerState, rest: number) => {
      s.v.fill(rest);
      s.refractory.fill(0);
      s.ge.fill(0);
      s.gi.fill(0);
    };
    reset(this.e, this.E.rest);
    if (this.h && this.H) reset(this.h, this.H.rest);
    this.xPre.fill(0);
    this.y1.fill(0);
    this.y2.fill(0);
    this.prevE = new Uint8Array(this.N);
    this.prevH = new Uint8Array(this.N);
    this.queue = new Map();
  }

  /**
   * One sample: `input[t]` lists the input neurons spiking at step t (t < T), in encoder order.
   */
  runSample(input: ReadonlyArray<ReadonlyArray<number>>, learning: boolean, voltageNeurons: readonly number[] = []): RefSampleResult {
    const p = this.p;
    const T = p.steps;
    if (input.length !== T) throw new Error(`input: expected ${T} steps, got ${input.length}`);
    if (p.resetBetweenSamples) this.resetState();
    this.touched.fill(0);
    if (learning && p.rule && this.clampNext) {
      for (let q = 0; q < this.W.length; q++) this.W[q] = this.clamp(this.W[q]);
      this.clampNext = false;
      this.normalizeEvery = true;
    }
    const W0 = Float32Array.from(this.W);
    const out: RefSampleResult = { exc: [], inh: [], weights: this.W, weightsBeforeNorm: this.W, weightsAtStart: W0, theta: this.theta, voltage: [], prng: this.rng.state() };
    for (let t = 0; t < T; t++) this.step(t, input[t], learning, out, voltageNeurons);
    if (!p.resetBetweenSamples) for (let r = 0; r < p.restSteps; r++) this.step(T + r, [], learning, out, voltageNeurons);

    out.weightsBeforeNorm = Float32Array.from(this.W);
    // 6. End of a learning sample: normalise every column the first time and after a clamp,
    // otherwise the columns of neurons that spiked or were depressed in this sample.
    if (learning && p.norm !== null) {
      const norm = p.norm; // as given, a double
      const I = this.I;
      const N = this.N;
      const W = this.W;
      for (let j = 0; j < N; j++) {
        if (!this.normalizeEvery && !this.touched[j]) continue;
        let sum = 0; // float64, i ascending
        for (let i = 0; i < I; i++) sum += W[i * N + j];
        let s = f(sum);
        if (s === 0) s = 1; // BindsNET: a zero column sum counts as 1
        const factor = f(f(1 / s) * norm);
        for (let i = 0; i < I; i++) W[i * N + j] = f(W[i * N + j] * factor);
      }
      this.normalizeEvery = false;
      // Weights that normalisation leaves outside the bounds are clamped when the next learning sample starts.
      this.clampNext = W.some((w) => w < this.wMin || w > this.wMax);
    }
    // Rest between samples (not simulated with reset): θ decays R times, learning only.
    if (p.resetBetweenSamples && learning && this.E.adaptive)
      for (let r = 0; r < p.restSteps; r++) for (let j = 0; j < this.N; j++) this.theta[j] = f(this.theta[j] * this.E.dTheta);

    out.weights = Float32Array.from(this.W);
    out.theta = Float32Array.from(this.theta);
    out.prng = this.rng.state();
    return out;
  }

  private clamp(w: number): number {
    return w < this.wMin ? this.wMin : w > this.wMax ? this.wMax : w;
  }

  /** Step t of docs/models.md, in its order. */
  private step(t: number, sX: ReadonlyArray<number>, learning: boolean, out: RefSampleResult, voltageNeurons: readonly number[]): void {
    const I = this.I;
    const N = this.N;
    const W = this.W;
    const E = this.E;
    const H = this.H;
    const e = this.e;
    const dt = this.dt;
    const wIE = this.wIE;
    const wEI = this.wEI;
    const prevE = this.prevE;
    const prevH = this.prevH;

    // 1. Synaptic input to E: the input spikes arriving now, in emission order.
    const arriving = this.queue.get(this.g);
    this.queue.delete(this.g);
    const a = new Float32Array(N);
    for (let j = 0; j < N; j++) {
      let s = 0;
      if (arriving) for (const w of arriving[j]) s = f(s + w);
      a[j] = s;
    }
    let nH = 0;
    for (let k = 0; k < N; k++) nH += prevH[k];
    const x = new Float32Array(N);
    if (!E.conductance) {
      const u = f(wIE * nH);
      for (let j = 0; j < N; j++) {
        const ej = prevH[j] ? f(-wIE) : 0;
        x[j] = f(f(a[j] + ej) + u);
      }
    } else {
      for (let j = 0; j < N; j++) {
        e.ge[j] = f(e.ge[j] + a[j]);
        e.gi[j] = f(e.gi[j] + f(wIE * (nH - prevH[j])));
      }
    }

    // 2. E update.
    const crossed: number[] = [];
    // docs/models.md step 2, spikeLockoutMs: the count starts at R = max(tRef, L) and v is held
    // while it is above R − tRef; a spike needs the decremented count below 0.
    const R = E.lockout > 0 ? Math.max(E.tRef, E.lockout) : E.tRef;
    const held = E.lockout > 0 ? f(R - E.tRef) : 0;
    for (let j = 0; j < N; j++) {
      let v = e.v[j];
      if (!E.conductance) {
        v = f(f(E.dv * f(v - E.rest)) + E.rest);
        if (e.refractory[j] <= held) v = f(v + x[j]);
      } else {
        if (e.refractory[j] <= held) {
          const ge = e.ge[j];
          const gi = e.gi[j];
          v = f(v + f(E.k * f(f(f(E.rest - v) + f(ge * f(E.Ee - v))) + f(gi * f(E.Ei - v)))));
          v = keepInRange(v, E.rest, E.Ee, E.Ei);
        }
        e.ge[j] = decayed(e.ge[j], E.dge);
        e.gi[j] = decayed(e.gi[j], E.dgi);
      }
      if (E.adaptive && learning) this.theta[j] = f(this.theta[j] * E.dTheta);
      const th = E.adaptive ? this.theta[j] : 0;
      const counted = f(e.refractory[j] - dt);
      if (v >= f(E.threshold + th) && (E.lockout === 0 || counted < 0)) {
        v = E.reset;
        e.refractory[j] = R;
        if (E.adaptive && learning) this.theta[j] = f(this.theta[j] + E.thetaPlus);
        crossed.push(j);
      } else {
        e.refractory[j] = counted;
      }
      e.v[j] = v;
    }
    const sE = new Uint8Array(N);
    if (this.p.exc.oneSpikePerStep && crossed.length > 1) sE[crossed[this.rng.below(crossed.length)]] = 1;
    else for (const j of crossed) sE[j] = 1;

    // 3. H update, input from sE(t−1).
    const sH = new Uint8Array(N);
    if (H && this.h) {
      const h = this.h;
      for (let k = 0; k < N; k++) {
        let v = h.v[k];
        if (!H.conductance) {
          const xk = prevE[k] ? wEI : 0;
          v = f(f(H.dv * f(v - H.rest)) + H.rest);
          if (h.refractory[k] <= 0) v = f(v + xk);
        } else {
          if (prevE[k]) h.ge[k] = f(h.ge[k] + wEI);
          if (h.refractory[k] <= 0) {
            const ge = h.ge[k];
            const gi = h.gi[k];
            v = f(v + f(H.k * f(f(f(H.rest - v) + f(ge * f(H.Ee - v))) + f(gi * f(H.Ei - v)))));
            v = keepInRange(v, H.rest, H.Ee, H.Ei);
          }
          h.ge[k] = decayed(h.ge[k], H.dge);
          h.gi[k] = decayed(h.gi[k], H.dgi);
        }
        if (v >= H.threshold) {
          v = H.reset;
          h.refractory[k] = H.tRef;
          sH[k] = 1;
        } else {
          h.refractory[k] = f(h.refractory[k] - dt);
        }
        h.v[k] = v;
      }
    }

    // 4. Traces (every step, after this step's spikes are known).
    const tr = this.tr;
    const y2before = new Float32Array(N);
    if (tr) {
      for (let i = 0; i < I; i++) this.xPre[i] = decayed(this.xPre[i], tr.dPre);
      for (const i of sX) this.xPre[i] = tr.preAllToAll ? f(this.xPre[i] + 1) : 1;
      if (tr.hasPost)
        for (let j = 0; j < N; j++) {
          this.y1[j] = decayed(this.y1[j], tr.dPost1);
          if (sE[j]) this.y1[j] = tr.postAllToAll ? f(this.y1[j] + 1) : 1;
        }
      if (tr.hasPost2)
        for (let j = 0; j < N; j++) {
          this.y2[j] = decayed(this.y2[j], tr.dPost2);
          y2before[j] = this.y2[j];
          if (sE[j]) this.y2[j] = 1;
        }
    }

    // 5. Plasticity: depression (pre spikes now), potentiation (post spikes now), clamp all of W.
    const rule = this.p.rule;
    if (learning) {
      for (let j = 0; j < N; j++) {
        if (sE[j]) this.touched[j] = 1;
        // Depression reaches every column with a post trace (the columns whose entries it can change).
        if (rule && rule.rule !== 'power-law' && sX.length > 0 && (this.y1[j] !== 0 || this.y2[j] !== 0)) this.touched[j] = 1;
      }
    }
    if (learning && rule) {
      const wMin = this.wMin;
      const wMax = this.wMax;
      if (rule.rule !== 'power-law') {
        for (const i of sX)
          for (let j = 0; j < N; j++) {
            const w = W[i * N + j];
            const y = this.y1[j];
            let dep: number;
            switch (rule.rule) {
              case 'post-pre':
                dep = f(y * f(rule.nuPre));
                break;
              case 'weight-dependent-post-pre':
                dep = f(f(y * f(rule.nuPre)) * f(w - wMin));
                break;
              case 'stdp':
                dep = f(y * f(rule.aMinus));
                break;
              case 'diehl-cook':
                dep = f(y * f(rule.nuPre));
                break;
            }
            W[i * N + j] = f(w - dep);
          }
      }
      for (let j = 0; j < N; j++) {
        if (!sE[j]) continue;
        for (let i = 0; i < I; i++) {
          const w = W[i * N + j];
          const xi = this.xPre[i];
          let pot: number;
          switch (rule.rule) {
            case 'post-pre':
              pot = f(xi * f(rule.nuPost));
              break;
            case 'weight-dependent-post-pre':
              pot = f(f(xi * f(rule.nuPost)) * f(wMax - w));
              break;
            case 'stdp':
              pot = f(xi * f(rule.aPlus));
              break;
            case 'diehl-cook':
              pot = f(f(xi * f(rule.nuPost)) * y2before[j]);
              break;
            case 'power-law':
              pot = f(f(f(rule.nu) * f(xi - f(rule.xTarget))) * f(Math.pow(f(wMax - w), rule.mu)));
              break;
          }
          W[i * N + j] = f(w + pot);
        }
      }
      for (let q = 0; q < W.length; q++) W[q] = this.clamp(W[q]);
    }

    // Input spikes of this step enter the delay lines carrying W_ij as it is after this step.
    const D = this.p.delays;
    for (const i of sX)
      for (let j = 0; j < N; j++) {
        const arrival = this.g + 1 + (D ? D[i * N + j] : 0);
        let slot = this.queue.get(arrival);
        if (!slot) {
          slot = Array.from({ length: N }, () => []);
          this.queue.set(arrival, slot);
        }
        slot[j].push(W[i * N + j]);
      }

    for (let j = 0; j < N; j++) if (sE[j]) out.exc.push(t, j);
    for (let k = 0; k < N; k++) if (sH[k]) out.inh.push(t, k);
    for (const j of voltageNeurons) out.voltage.push(e.v[j]);
    this.prevE = sE;
    this.prevH = sH;
    this.g++;
  }
}

