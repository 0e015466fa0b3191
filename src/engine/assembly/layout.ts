/**
 * Where everything lives in linear memory. `allocate` carves every array once per network; the
 * host (src/engine/network.ts) reads the addresses of the arrays it shares from these exported
 * globals, so the layout is defined here only.
 *
 * Rows of the excitatory layer are padded to `stride` neurons (a multiple of 16) for SIMD;
 * padding neurons have θ = +∞ and never spike.
 */
import { allocZeroed } from './memory';

export const BLOCK: i32 = 16;
/** Entries of one intensity's guide table in the interval encoder. */
export const GUIDE: i32 = 256;
/** Recorded spikes per layer and sample at most (pairs step, neuron). */
export const RECORD_CAPACITY: i32 = 1 << 16;
export const MAX_VOLTAGE_NEURONS: i32 = 16;

export let inputs: i32 = 0;
export let neurons: i32 = 0;
export let stride: i32 = 0;
export let steps: i32 = 0;
/** Slots of the delay ring (max delay + 2), or 0 without delays. */
export let ringSlots: i32 = 0;
/** Entries of the nearest-trace table: trace after k steps = table[k], 0 from the end on. */
export let traceTableLength: i32 = 0;

// shared with the host
export let weights: usize = 0; // f32 [inputs × stride]
export let delays: usize = 0; // u8 [inputs × stride], extra delay steps D_ij
export let theta: usize = 0; // f32 [stride]
export let counts: usize = 0; // i32 [stride], spikes per neuron in the sample
export let image: usize = 0; // u8 [inputs]
export let cdf: usize = 0; // f64 [256 × (steps + 2)]
export let guide: usize = 0; // u16 [256 × GUIDE]
export let trainCount: usize = 0; // i32 [steps]
export let trainIndex: usize = 0; // u16 [inputs × steps], step t at t·bucket
export let active: usize = 0; // u16 [inputs], non-zero pixels
export let recExc: usize = 0; // i32 [2 × RECORD_CAPACITY]
export let recInh: usize = 0;
export let recVoltage: usize = 0; // f32 [steps × MAX_VOLTAGE_NEURONS × 2] (v, threshold + θ)
export let voltageNeurons: usize = 0; // i32 [MAX_VOLTAGE_NEURONS]
export let preTraceTable: usize = 0; // f32 [traceTableLength]

// excitatory layer state
export let v: usize = 0;
export let refractory: usize = 0;
export let ge: usize = 0;
export let gi: usize = 0;
export let extra: usize = 0; // f32: −wIE for neurons whose inhibitory partner spiked at t−1
export let inhSelf: usize = 0; // i32 mask, same neurons (conductance synapses)
export let synInput: usize = 0; // f32 [stride], input of the step when not fused
export let ring: usize = 0; // f32 [ringSlots × stride]
/** Threads one network may run on (threads.ts); each has its own slot table for the scatter. */
export const MAX_THREADS: i32 = 32;
export let slotTables: usize = 0; // i32 [MAX_THREADS × ringSlots], threads.ts: scatterRange
export let crossed: usize = 0; // i32 [stride]
export let excSpiking: usize = 0;
export let prevExc: usize = 0;
export let spikingNow: usize = 0; // u8 [stride]
export let post1: usize = 0; // f32 [stride] first post trace
export let post2: usize = 0; // f32 [stride] second post trace (diehl-cook)
export let post2Before: usize = 0; // f32 [stride]
export let postActive: usize = 0; // i32 [stride] neurons with a non-zero post trace
export let postMember: usize = 0; // u8 [stride]
export let touched: usize = 0; // i32 [stride] columns changed by plasticity in this sample
export let touchedMember: usize = 0; // u8 [stride]
export let depColumns: usize = 0; // i32 [stride]
export let depAmounts: usize = 0; // f32 [stride]
export let potColumns: usize = 0; // i32 [stride] columns spiking at the planned step
export let potAmounts: usize = 0; // f32 [stride] their depression amount y1·coefficient
export let potY2: usize = 0; // f32 [stride] their second trace before the spike
export let rows: usize = 0; // i32 [inputs]: addresses of the weight rows of the inputs spiking now
// input traces
export let preLast: usize = 0; // i32 [inputs], step of the last spike, −1 never
export let preTrace: usize = 0; // f32 [inputs], explicit (all-to-all) traces
export let preActive: usize = 0; // i32 [inputs], inputs with a non-zero trace
export let preMember: usize = 0; // u8 [inputs]
// inhibitory layer state
export let hV: usize = 0;
export let hRefractory: usize = 0;
export let hGe: usize = 0;
export let hGi: usize = 0;
export let hInput: usize = 0; // f32, arrivals from the excitatory layer this step
export let hActive: usize = 0; // i32 neurons away from rest
export let hMember: usize = 0; // u8
export let inhSpiking: usize = 0; // i32

export function allocate(nInputs: i32, nNeurons: i32, nSteps: i32, slots: i32, tableLength: i32): void {
  inputs = nInputs;
  neurons = nNeurons;
  stride = ((nNeurons + BLOCK - 1) / BLOCK) * BLOCK;
  steps = nSteps;
  ringSlots = slots;
  traceTableLength = tableLength;
  const s = stride << 2;
  const sb = stride;
  weights = allocZeroed(nInputs * s);
  delays = slots > 0 ? allocZeroed(nInputs * stride) : 0;
  theta = allocZeroed(s);
  counts = allocZeroed(s);
  image = allocZeroed(nInputs);
  cdf = allocZeroed(256 * (nSteps + 2) * 8);
  guide = allocZeroed(256 * GUIDE * 2);
  trainCount = allocZeroed(nSteps * 4);
  trainIndex = allocZeroed(nInputs * nSteps * 2);
  active = allocZeroed(nInputs * 2);
  recExc = allocZeroed(RECORD_CAPACITY * 8);
  recInh = allocZeroed(RECORD_CAPACITY * 8);
  recVoltage = allocZeroed(nSteps * MAX_VOLTAGE_NEURONS * 8);
  voltageNeurons = allocZeroed(MAX_VOLTAGE_NEURONS * 4);
  preTraceTable = allocZeroed(tableLength * 4);
  v = allocZeroed(s);
  refractory = allocZeroed(s);
  ge = allocZeroed(s);
  gi = allocZeroed(s);
  extra = allocZeroed(s);
  inhSelf = allocZeroed(s);
  synInput = allocZeroed(s);
  ring = slots > 0 ? allocZeroed(slots * s) : 0;
  slotTables = slots > 0 ? allocZeroed(MAX_THREADS * slots * 4) : 0;
  crossed = allocZeroed(s);
  excSpiking = allocZeroed(s);
  prevExc = allocZeroed(s);
  spikingNow = allocZeroed(sb);
  post1 = allocZeroed(s);
  post2 = allocZeroed(s);
  post2Before = allocZeroed(s);
  postActive = allocZeroed(s);
  postMember = allocZeroed(sb);
  touched = allocZeroed(s);
  touchedMember = allocZeroed(sb);
  depColumns = allocZeroed(s);
  depAmounts = allocZeroed(s);
  potColumns = allocZeroed(s);
  potAmounts = allocZeroed(s);
  potY2 = allocZeroed(s);
  rows = allocZeroed(nInputs * 4);
  preLast = allocZeroed(nInputs * 4);
  preTrace = allocZeroed(nInputs * 4);
  preActive = allocZeroed(nInputs * 4);
  preMember = allocZeroed(nInputs);
  hV = allocZeroed(s);
  hRefractory = allocZeroed(s);
  hGe = allocZeroed(s);
  hGi = allocZeroed(s);
  hInput = allocZeroed(s);
  hActive = allocZeroed(s);
  hMember = allocZeroed(sb);
  inhSpiking = allocZeroed(s);
  for (let i = 0; i < nInputs; i++) store<i32>(preLast + (<usize>i << 2), -1);
}

/**
 * What a helper thread's share of a step reads (threads.ts: its neurons' update and delay lines, its
 * columns' plasticity and normalization): thread 0 saves it at `p`, helpers
 * load it, so every instance on the shared memory sees one layout.
 */
export function adoptArrays(p: usize, save: bool): void {
  if (save) {
    store<i32>(p, stride, 0);
    store<i32>(p, neurons, 4);
    store<i32>(p, ringSlots, 8);
    store<usize>(p, rows, 12);
    store<usize>(p, v, 16);
    store<usize>(p, refractory, 20);
    store<usize>(p, theta, 24);
    store<usize>(p, extra, 28);
    store<usize>(p, ge, 32);
    store<usize>(p, gi, 36);
    store<usize>(p, inhSelf, 40);
    store<usize>(p, synInput, 44);
    store<usize>(p, weights, 48);
    store<usize>(p, delays, 52);
    store<usize>(p, ring, 56);
    store<i32>(p, inputs, 60);
    store<i32>(p, traceTableLength, 64);
    store<usize>(p, preTraceTable, 68);
    store<usize>(p, preLast, 72);
    store<usize>(p, preTrace, 76);
    store<usize>(p, preActive, 80);
    store<usize>(p, depColumns, 84);
    store<usize>(p, depAmounts, 88);
    store<usize>(p, potColumns, 92);
    store<usize>(p, potAmounts, 96);
    store<usize>(p, potY2, 100);
    store<usize>(p, touched, 104);
    store<usize>(p, slotTables, 108);
    return;
  }
  stride = load<i32>(p, 0);
  neurons = load<i32>(p, 4);
  ringSlots = load<i32>(p, 8);
  rows = load<usize>(p, 12);
  v = load<usize>(p, 16);
  refractory = load<usize>(p, 20);
  theta = load<usize>(p, 24);
  extra = load<usize>(p, 28);
  ge = load<usize>(p, 32);
  gi = load<usize>(p, 36);
  inhSelf = load<usize>(p, 40);
  synInput = load<usize>(p, 44);
  weights = load<usize>(p, 48);
  delays = load<usize>(p, 52);
  ring = load<usize>(p, 56);
  inputs = load<i32>(p, 60);
  traceTableLength = load<i32>(p, 64);
  preTraceTable = load<usize>(p, 68);
  preLast = load<usize>(p, 72);
  preTrace = load<usize>(p, 76);
  preActive = load<usize>(p, 80);
  depColumns = load<usize>(p, 84);
  depAmounts = load<usize>(p, 88);
  potColumns = load<usize>(p, 92);
  potAmounts = load<usize>(p, 96);
  potY2 = load<usize>(p, 100);
  touched = load<usize>(p, 104);
  slotTables = load<usize>(p, 108);
}
