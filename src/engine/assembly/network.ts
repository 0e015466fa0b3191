/**
 * One sample of the network, every step in the order of docs/models.md:
 *
 *   1. E's input from the spikes of t−1 (delayed arrivals, all-but-self inhibition), E update
 *   2. H's input from E's spikes of t−1, one-spike selection among E's crossings
 *   3. post traces, the input spikes of step t and their traces
 *   4. H update
 *   5. plasticity (learning only)
 *   6. input spikes enter the delay lines (after plasticity, so a zero delay equals none)
 *
 * then, after a learning sample, normalization of the columns plasticity touched. Step 5 plans the
 * weight changes; the owners of the columns apply them at the next job on the layer (plasticity.ts).
 */
import { below } from './prng';
import {
  counts, delays, excSpiking, extra, ge, gi, hActive, hGe, hGi, hInput, hMember, hRefractory, hV, inhSelf, inhSpiking,
  MAX_VOLTAGE_NEURONS, neurons, prevExc, recExc, recInh, recVoltage, RECORD_CAPACITY, refractory, ring, ringSlots, rows,
  spikingNow, stride, synInput, theta, trainCount, trainIndex, v, voltageNeurons, weights, crossed, inputs, post1, post2,
  postActive, postMember, preActive, preLast, preMember, preTrace,
} from './layout';
import {
  exc, hasInh, inh, norm, oneSpike, resetBetweenSamples, restSteps, rule, RULE_NONE, SYNAPSE_CURRENT, wEI, wIE,
} from './params';
import { activateInh, gatherRows, inhSpikeCount, resetNeurons, stepInh } from './neurons';
import { excStep, flushPlasticity, normalizeColumns, resetLayer, scatterInputs } from './threads';
import {
  clampAll, clearPostTraces, clearPreTraces, clearTouched, decayPostTraces, decayPreTraces, planPlasticity, postActiveCount,
  preActiveCount, setActiveCounts, postSpike, preSpike, pruneNearestPreTraces, markTouched,
} from './plasticity';
import { preExplicit } from './params';

let now: i32 = 0;
let nrows: i32 = 0;
let nExcPrev: i32 = 0;
let nInhPrev: i32 = 0;
let hSize: i32 = 0;
let needClamp: bool = false;
let normalizeAll: bool = true;
let recordedExc: i32 = 0;
/**
 * The next step's input is already summed in synInput: the input spikes of a sample's last step
 * carry the weights of that step into the next sample (not those after normalization).
 */
let inputGathered: bool = false;
let recordedInh: i32 = 0;

/** Resting state: potentials at rest, conductances, traces and delay lines empty (θ is kept). */
export function resetState(): void {
  resetNeurons(0, <usize>stride << 2);
  resetRest();
}

/** What `resetState` resets besides the excitatory neurons (whose owners reset them: resetLayer). */
function resetRest(): void {
  const s = <usize>stride << 2;
  for (let j = 0; j < stride; j++) store<f32>(hV + (<usize>j << 2), inh.rest);
  memory.fill(hRefractory, 0, s);
  memory.fill(hGe, 0, s);
  memory.fill(hGi, 0, s);
  memory.fill(hInput, 0, s);
  for (let a = 0; a < hSize; a++) store<u8>(hMember + <usize>load<i32>(hActive + (<usize>a << 2)), 0);
  hSize = 0;
  clearPostTraces();
  clearPreTraces();
  nExcPrev = 0;
  nInhPrev = 0;
  nrows = 0;
  inputGathered = false;
  now = 0;
}

/**
 * Runs one sample of `nSteps` steps on the spike train in trainCount/trainIndex (bucket: entries
 * per step), then the rest between samples. Returns E's spikes in the sample; per-neuron counts
 * are in `counts`. With `record`, spikes go to recExc/recInh and the potentials of the first
 * `nVoltage` neurons of voltageNeurons to recVoltage.
 */
export function runSample(nSteps: i32, bucket: i32, learning: bool, record: bool, nVoltage: i32): i32 {
  if (resetBetweenSamples) {
    resetLayer();
    resetRest();
  } else {
    pruneNearestPreTraces(now);
  }
  memory.fill(counts, 0, <usize>stride << 2);
  clearTouched();
  recordedExc = 0;
  recordedInh = 0;
  const plastic = learning && rule != RULE_NONE;
  if (learning && needClamp && rule != RULE_NONE) {
    clampAll();
    needClamp = false;
    normalizeAll = true;
  }
  const rest = resetBetweenSamples ? 0 : restSteps;
  let total = 0;
  for (let t = 0; t < nSteps + rest; t++) {
    const inputOn = t < nSteps;
    total += step(t, inputOn, bucket, learning, plastic, record && inputOn, nVoltage);
  }
  if (!resetBetweenSamples && ringSlots == 0 && nrows > 0) {
    flushPlasticity();
    gatherRows(nrows);
    nrows = 0;
    inputGathered = true;
  }
  if (learning) endLearningSample();
  return total;
}

function step(t: i32, inputOn: bool, bucket: i32, learning: bool, plastic: bool, record: bool, nVoltage: i32): i32 {
  // 1. E from the spikes of t−1.
  const inhib = nInhPrev > 0;
  const conductance = exc.synapse != SYNAPSE_CURRENT;
  const negW = <f32>(-wIE);
  for (let a = 0; a < nInhPrev; a++) {
    const o = <usize>load<i32>(inhSpiking + (<usize>a << 2)) << 2;
    if (conductance) store<i32>(inhSelf + o, -1);
    else store<f32>(extra + o, negW);
  }
  const uniform = <f32>(wIE * <f64>nInhPrev);
  let nCrossed: i32;
  if (!conductance && ringSlots == 0 && !inputGathered) {
    nCrossed = excStep(true, nrows, uniform, 0, learning, inhib, 0, crossed);
  } else {
    let input = synInput;
    if (ringSlots > 0) input = ring + ((<usize>(now % ringSlots) * <usize>stride) << 2);
    else if (!inputGathered) gatherRowsInto();
    inputGathered = false;
    nCrossed = excStep(false, 0, uniform, <f32>(wIE * <f64>(nInhPrev - 1)), learning, inhib, input, crossed);
  }
  for (let a = 0; a < nInhPrev; a++) {
    const o = <usize>load<i32>(inhSpiking + (<usize>a << 2)) << 2;
    store<i32>(inhSelf + o, 0);
    store<f32>(extra + o, 0);
  }

  // 2. H's input: E's spikes of t−1. One-spike selection.
  if (hasInh) {
    for (let a = 0; a < nExcPrev; a++) {
      const k = load<i32>(prevExc + (<usize>a << 2));
      store<f32>(hInput + (<usize>k << 2), wEI);
      hSize = activateInh(k, hSize);
    }
  }
  let nExc = nCrossed;
  if (nCrossed > 1 && oneSpike) {
    store<i32>(excSpiking, load<i32>(crossed + (<usize>below(<u32>nCrossed) << 2)));
    nExc = 1;
  } else {
    copyI32(excSpiking, crossed, nCrossed);
  }

  // 3. Traces and this step's input spikes.
  decayPostTraces();
  for (let a = 0; a < nExc; a++) {
    const j = load<i32>(excSpiking + (<usize>a << 2));
    postSpike(j);
    if (learning) markTouched(j);
    if (inputOn) {
      const c = counts + (<usize>j << 2);
      store<i32>(c, load<i32>(c) + 1);
    }
  }
  if (preExplicit) decayPreTraces();
  const nIn = inputOn ? load<i32>(trainCount + (<usize>t << 2)) : 0;
  const base = trainIndex + (<usize>(t * bucket) << 1);
  const rowBytes = <usize>stride << 2;
  for (let r = 0; r < nIn; r++) {
    const i = <i32>load<u16>(base + (<usize>r << 1));
    preSpike(i, now);
    store<i32>(rows + (<usize>r << 2), <i32>(weights + <usize>i * rowBytes));
  }
  nrows = nIn;

  // 4. H.
  let nInh = 0;
  if (hasInh) {
    hSize = stepInh(hSize);
    nInh = inhSpikeCount();
    for (let a = 0; a < nExcPrev; a++) store<f32>(hInput + (<usize>load<i32>(prevExc + (<usize>a << 2)) << 2), 0);
  }

  // 5. Plasticity.
  if (plastic && postActiveCount > 0) planPlasticity(nIn, excSpiking, nExc, now);

  // 6. Delay lines.
  if (ringSlots > 0) scatterInputs(base, nIn, (now % ringSlots) + 1);

  if (record) recordStep(t, nExc, nInh, nVoltage);
  for (let a = 0; a < nExc; a++) store<u8>(spikingNow + <usize>load<i32>(excSpiking + (<usize>a << 2)), 0);
  copyI32(prevExc, excSpiking, nExc);
  nExcPrev = nExc;
  nInhPrev = nInh;
  now++;
  return inputOn ? nExc : 0;
}

/** A short list copy: memory.copy is a call out of the module in V8, dear at one or two entries a step. */
// @ts-ignore: decorator
@inline function copyI32(dst: usize, src: usize, n: i32): void {
  for (let a = 0; a < n; a++) store<i32>(dst + (<usize>a << 2), load<i32>(src + (<usize>a << 2)));
}

function gatherRowsInto(): void {
  flushPlasticity();
  gatherRows(nrows);
}

function recordStep(t: i32, nExc: i32, nInh: i32, nVoltage: i32): void {
  for (let a = 0; a < nExc && recordedExc < RECORD_CAPACITY; a++) {
    store<i32>(recExc + (<usize>recordedExc << 3), t);
    store<i32>(recExc + (<usize>recordedExc << 3) + 4, load<i32>(excSpiking + (<usize>a << 2)));
    recordedExc++;
  }
  for (let a = 0; a < nInh && recordedInh < RECORD_CAPACITY; a++) {
    store<i32>(recInh + (<usize>recordedInh << 3), t);
    store<i32>(recInh + (<usize>recordedInh << 3) + 4, load<i32>(inhSpiking + (<usize>a << 2)));
    recordedInh++;
  }
  for (let q = 0; q < nVoltage; q++) {
    const j = <usize>load<i32>(voltageNeurons + (<usize>q << 2));
    const o = recVoltage + ((<usize>(t * MAX_VOLTAGE_NEURONS + q)) << 3);
    store<f32>(o, load<f32>(v + (j << 2)));
    store<f32>(o + 4, exc.threshold + load<f32>(theta + (j << 2)));
  }
}

function endLearningSample(): void {
  if (norm > 0) {
    needClamp = normalizeColumns(normalizeAll);
    normalizeAll = false;
  } else {
    flushPlasticity();
  }
  if (resetBetweenSamples && restSteps > 0) {
    // Between reset samples only θ's decay survives.
    const d = exc.thetaDecay;
    for (let j = 0; j < neurons; j++) {
      const p = theta + (<usize>j << 2);
      let th = load<f32>(p);
      for (let k = 0; k < restSteps; k++) th = th * d;
      store<f32>(p, th);
    }
  }
}

export function recordedExcCount(): i32 { return recordedExc; }
export function recordedInhCount(): i32 { return recordedInh; }
/** Bookkeeping flags a checkpoint saves: bit 0 needClamp, bit 1 normalizeAll. */
export function flags(): i32 { return (needClamp ? 1 : 0) | (normalizeAll ? 2 : 0); }
export function setFlags(f: i32): void {
  needClamp = (f & 1) != 0;
  normalizeAll = (f & 2) != 0;
}

// ---- state carried between samples (resetBetweenSamples = false) ----
// Everything a later sample depends on besides weights, θ and the PRNG: potentials,
// conductances, traces, the inhibitory active set, spikes of the last step and the delay lines.

const SCALARS: i32 = 8;

function regionCount(): i32 { return 20; }

function regionPtr(k: i32): usize {
  switch (k) {
    case 0: return v; case 1: return refractory; case 2: return ge; case 3: return gi;
    case 4: return hV; case 5: return hRefractory; case 6: return hGe; case 7: return hGi;
    case 8: return hActive; case 9: return hMember; case 10: return post1; case 11: return post2;
    case 12: return postActive; case 13: return postMember; case 14: return preLast; case 15: return preTrace;
    case 16: return preActive; case 17: return preMember; case 18: return ring; case 19: return synInput;
  }
  return 0;
}

function regionBytes(k: i32): i32 {
  const s = stride << 2;
  if (k <= 8 || k == 10 || k == 11 || k == 12) return s;
  if (k == 9 || k == 13) return stride;
  if (k == 14 || k == 15 || k == 16) return inputs << 2;
  if (k == 17) return inputs;
  if (k == 19) return s;
  return ringSlots * s;
}

export function carriedStateBytes(): i32 {
  let bytes = SCALARS * 4 + (stride << 3); // scalars, prevExc and inhSpiking
  for (let k = 0; k < regionCount(); k++) bytes += regionBytes(k);
  return bytes;
}

export function saveCarriedState(dst: usize): void {
  store<i32>(dst, now);
  store<i32>(dst + 4, nrows);
  store<i32>(dst + 8, nExcPrev);
  store<i32>(dst + 12, nInhPrev);
  store<i32>(dst + 16, hSize);
  store<i32>(dst + 20, postActiveCount);
  store<i32>(dst + 24, preActiveCount);
  store<i32>(dst + 28, inputGathered ? 1 : 0);
  let p = dst + <usize>(SCALARS * 4);
  memory.copy(p, prevExc, <usize>stride << 2);
  p += <usize>stride << 2;
  memory.copy(p, inhSpiking, <usize>stride << 2);
  p += <usize>stride << 2;
  for (let k = 0; k < regionCount(); k++) {
    const b = <usize>regionBytes(k);
    if (b > 0) memory.copy(p, regionPtr(k), b);
    p += b;
  }
}

export function loadCarriedState(src: usize): void {
  now = load<i32>(src);
  nrows = load<i32>(src + 4);
  nExcPrev = load<i32>(src + 8);
  nInhPrev = load<i32>(src + 12);
  hSize = load<i32>(src + 16);
  setActiveCounts(load<i32>(src + 20), load<i32>(src + 24));
  inputGathered = load<i32>(src + 28) != 0;
  let p = src + <usize>(SCALARS * 4);
  memory.copy(prevExc, p, <usize>stride << 2);
  p += <usize>stride << 2;
  memory.copy(inhSpiking, p, <usize>stride << 2);
  p += <usize>stride << 2;
  for (let k = 0; k < regionCount(); k++) {
    const b = <usize>regionBytes(k);
    if (b > 0) memory.copy(regionPtr(k), p, b);
    p += b;
  }
}

/** Scratch for the host (checkpoint blobs, prepared spike trains); reallocated on growth. */
export function scratch(bytes: i32): usize {
  return heap.alloc(<usize>max(bytes, 16));
}
