/**
 * Parameters of the network, written once by the host (network.ts) through the setters below.
 * float32 values arrive already rounded the way docs/models.md states.
 */

/**
 * Traces and conductances that decay below this are 0: float32 decay would otherwise settle on
 * the smallest denormal and never vanish, keeping neurons and inputs "active" forever.
 */
export const FLUSH: f32 = 7.888609052210118e-31; // 2^-100

export const SYNAPSE_CURRENT: i32 = 0;
export const SYNAPSE_CONDUCTANCE: i32 = 1;

/** One LIF layer (excitatory or inhibitory). */
@unmanaged
export class Layer {
  rest: f32 = 0;
  reset: f32 = 0;
  threshold: f32 = 0;
  /** What the refractory count is set to on a spike: max(tRef, lockout). */
  refractory: f32 = 0;
  /** v is held while the count is above this: the count minus tRef. */
  clampAbove: f32 = 0;
  /** The spike test also asks for the count below 0 (a lockout is set). */
  gated: bool = false;
  dt: f32 = 0;
  /** exp(−dt/τ) (current synapses: exact leak). */
  decay: f32 = 0;
  /** θ decay per step and increment per spike (0 and 1 for plain LIF). */
  thetaDecay: f32 = 1;
  thetaPlus: f32 = 0;
  synapse: i32 = SYNAPSE_CURRENT;
  /** dt/τ (conductance synapses: Euler step). */
  k: f32 = 0;
  excReversal: f32 = 0;
  inhReversal: f32 = 0;
  geDecay: f32 = 0;
  giDecay: f32 = 0;
  /** Bounds of v under conductance synapses: min(rest, Ei), max(rest, Ee). */
  vLow: f32 = 0;
  vHigh: f32 = 0;
}

// Objects in linear memory: a helper thread adopts thread 0's (adoptLayers) instead of its own.
export let exc: Layer = new Layer();
export let inh: Layer = new Layer();

/**
 * Thread 0 saves the layers' addresses and what a helper's plasticity and normalization read at
 * `p` (after setRule and setNetwork); a helper thread loads them (threads.ts).
 */
export function adoptLayers(p: usize, save: bool): void {
  if (save) {
    store<usize>(p, changetype<usize>(exc), 0);
    store<usize>(p, changetype<usize>(inh), 4);
    store<i32>(p, rule, 8);
    store<f32>(p, depCoef, 12);
    store<f32>(p, potCoef, 16);
    store<f32>(p, xTarget, 20);
    store<f64>(p, mu, 24);
    store<f32>(p, wMin, 32);
    store<f32>(p, wMax, 36);
    store<i32>(p, preExplicit ? 1 : 0, 40);
    store<f64>(p, norm, 48);
    return;
  }
  exc = changetype<Layer>(load<usize>(p, 0));
  inh = changetype<Layer>(load<usize>(p, 4));
  rule = load<i32>(p, 8);
  depCoef = load<f32>(p, 12);
  potCoef = load<f32>(p, 16);
  xTarget = load<f32>(p, 20);
  mu = load<f64>(p, 24);
  wMin = load<f32>(p, 32);
  wMax = load<f32>(p, 36);
  preExplicit = load<i32>(p, 40) != 0;
  norm = load<f64>(p, 48);
}
export let hasInh: bool = false;
export let oneSpike: bool = false;
/** One-to-one E→H weight, all-but-self H→E weight (f64: the uniform inhibition is rounded once). */
export let wEI: f32 = 0;
export let wIE: f64 = 0;
export let resetBetweenSamples: bool = true;
export let restSteps: i32 = 0;
/** Column sum after normalization, 0 = off. */
export let norm: f64 = 0;

export function setLayer(which: i32, rest: f32, reset: f32, threshold: f32, refractory: f32, lockout: f32, dt: f32, decay: f32,
  thetaDecay: f32, thetaPlus: f32, synapse: i32, k: f32, excReversal: f32, inhReversal: f32, geDecay: f32, giDecay: f32): void {
  const l = which == 0 ? exc : inh;
  l.rest = rest;
  l.reset = reset;
  l.threshold = threshold;
  l.refractory = max(refractory, lockout);
  l.clampAbove = max(refractory, lockout) - refractory;
  l.gated = lockout > 0;
  l.dt = dt;
  l.decay = decay;
  l.thetaDecay = thetaDecay;
  l.thetaPlus = thetaPlus;
  l.synapse = synapse;
  l.k = k;
  l.excReversal = excReversal;
  l.inhReversal = inhReversal;
  l.geDecay = geDecay;
  l.giDecay = giDecay;
  l.vLow = min(rest, inhReversal);
  l.vHigh = max(rest, excReversal);
  if (which == 1) hasInh = true;
}

export function setNetwork(oneSpikePerStep: bool, excToInh: f32, inhToExc: f64, reset: bool, rest: i32, columnNorm: f64): void {
  oneSpike = oneSpikePerStep;
  wEI = excToInh;
  wIE = inhToExc;
  resetBetweenSamples = reset;
  restSteps = rest;
  norm = columnNorm;
}

// ---- plasticity ----
export const RULE_NONE: i32 = 0;
export const RULE_POST_PRE: i32 = 1;
export const RULE_WEIGHT_DEPENDENT: i32 = 2;
export const RULE_STDP: i32 = 3;
export const RULE_DIEHL_COOK: i32 = 4;
export const RULE_POWER_LAW: i32 = 5;

export let rule: i32 = RULE_NONE;
/** Depression coefficient (nuPre, aMinus) and potentiation coefficient (nuPost, aPlus, nu). */
export let depCoef: f32 = 0;
export let potCoef: f32 = 0;
export let xTarget: f32 = 0;
export let mu: f64 = 1;
export let wMin: f32 = 0;
export let wMax: f32 = 1;
/** Input traces add on a spike (all-to-all) rather than being set to 1 (nearest). */
export let preAdditive: bool = false;
/**
 * Input traces are decayed explicitly every step (all-to-all, or nearest with a time constant so
 * long that the table of a nearest trace, up to its flush to 0, would be too big); otherwise a
 * nearest trace is read from the table by the steps since its last spike. Same values either way.
 */
export let preExplicit: bool = false;
export let preDecay: f32 = 1;
export let postAdditive: bool = false;
export let post1Decay: f32 = 1;
export let post2Decay: f32 = 1;

export function setRule(kind: i32, dep: f32, pot: f32, target: f32, exponent: f64, lo: f32, hi: f32,
  preMode: i32, preD: f32, postAdd: bool, p1: f32, p2: f32): void {
  rule = kind;
  depCoef = dep;
  potCoef = pot;
  xTarget = target;
  mu = exponent;
  wMin = lo;
  wMax = hi;
  // 0: nearest, tabulated; 1: all-to-all, explicit; 2: nearest, explicit.
  preAdditive = preMode == 1;
  preExplicit = preMode != 0;
  preDecay = preD;
  postAdditive = postAdd;
  post1Decay = p1;
  post2Decay = p2;
}
