/**
 * One network on several threads (the shared-memory build, engine-threads.wasm). Thread 0 runs
 * the whole sample loop; helper threads, each with its own instance of the module on the same
 * memory, own a contiguous share of the excitatory layer (whole 16-neuron blocks) and the weight
 * columns of those neurons. A job on the layer is the excitatory update, the scatter of this
 * step's input spikes into the delay lines, the reset at a sample's start, or the normalization
 * after a learning sample; every job first applies the plasticity thread 0 planned for the last
 * step (plasticity.ts) to the thread's own columns, so a column stays in the cache of the core
 * that sums it. Every neuron and weight is computed by exactly the code of the single-thread path,
 * and the crossing lists are joined in thread order, which is neuron order: the results are the
 * same bits for any thread count. The serial rest (encoding, the inhibitory layer, traces, every
 * random draw) stays on thread 0.
 *
 * Hand-off: thread 0 writes a job, then bumps `seq`; each helper answers on its own cache line
 * with `done = seq`. Wasm atomics are sequentially consistent, so the plain stores before a bump
 * or an answer are visible to whoever reads it. Waiters spin for a while, then sleep: a sleeper
 * raises its flag, reads the word again and only then waits, and the other side notifies when
 * it sees the flag, so no wake-up is lost. Sleeping and waking go through the host (JS
 * Atomics.wait/notify): V8's baseline compiler in Node 20 (Liftoff) hangs in the module's own
 * memory.atomic.wait32 here, while the optimizing tier does not.
 */
import { allocZeroed } from './memory';
import { adoptArrays, delays, MAX_THREADS, neurons, ring, ringSlots, slotTables, stride, weights } from './layout';
import { adoptLayers, norm } from './params';
import { resetNeurons, stepExcBuffered, stepExcFused } from './neurons';
import {
  applyPlasticity, normalizeRange, planDep, planDone, planNow, planPending, planPot, planRows, preActiveCount, touchedCount,
} from './plasticity';

/** Sleeps while the i32 at `ptr` equals `expected` (at most a second); the host's Atomics.wait. */
// @ts-ignore: decorator
@external('env', 'sleepWhile') declare function sleepWhile(ptr: usize, expected: i32): void;
/** Wakes the threads sleeping on `ptr`; the host's Atomics.notify. */
// @ts-ignore: decorator
@external('env', 'wake') declare function wake(ptr: usize): void;

export { MAX_THREADS };
const LINE: usize = 64;

const JOB_EXC: i32 = 1;
const JOB_SCATTER: i32 = 2;
const JOB_EXIT: i32 = 3;
const JOB_FLUSH: i32 = 4;
const JOB_NORMALIZE: i32 = 5;
const JOB_RESET: i32 = 6;
/** Set in KIND on the first job after thread 0 ran alone: helpers wait with the full spin again. */
const TRIAL: i32 = 1 << 8;

// Control block, one cache line per writer and purpose: a line that a thread polls is written
// once per hand-off (a store into a line another core is polling costs a round trip each).
// Line 0: SEQ (thread 0 bumps, helpers poll). Line 1: the job (thread 0 writes it before the bump).
// Line 2: thread 0's flags. Lines 3 + 2h and 4 + 2h: helper h's answer (polled) and its result.
const SEQ: usize = 0;
const JOB: usize = LINE;
const KIND: usize = JOB;
const NROWS: usize = JOB + 4;
const UNIFORM: usize = JOB + 8;
const HSELF: usize = JOB + 12;
const FLAGS: usize = JOB + 16; // bit 0 learning, bit 1 inhibition, bit 2 fused
const INPUT: usize = JOB + 20;
const SCATTER_LIST: usize = JOB + 24;
const SCATTER_COUNT: usize = JOB + 28;
const SCATTER_NEXT: usize = JOB + 32;
const SHARE0: usize = JOB + 36; // blocks of thread 0's share
// The planned plasticity every job applies first (both counts 0: none), and what to normalize.
const PLAN_DEP: usize = JOB + 40;
const PLAN_POT: usize = JOB + 44;
const PLAN_NOW: usize = JOB + 48;
const PLAN_ROWS: usize = JOB + 52;
const PLAN_PRE: usize = JOB + 56;
const NORM_COUNT: usize = JOB + 60; // touched columns, −1: every column
const MAIN_SLEEPING: usize = 2 * LINE;
const FAILED: usize = 2 * LINE + 4;
// In helper h's answer line:
const DONE: usize = 0;
const SLEEPING: usize = 4;
const READY: usize = 8;
// In helper h's result line:
const COUNT: usize = LINE;
/** Where thread 0 leaves its layout for helpers to adopt: count, crossedBy, arrays, then layers. */
const LAYOUT: usize = LINE * (3 + 2 * <usize>MAX_THREADS);
const ADOPT_LAYERS: usize = 8 + 256;

export let threadCount: i32 = 1;
let ctrl: usize = 0;
/** Helper h's crossing list: crossedBy + h · stride · 4. */
let crossedBy: usize = 0;
let seqSeen: i32 = 0;

/** Seconds asleep without an answer after which the partner is taken for dead (a step takes µs). */
const WAIT_LIMIT: i32 = 60;

/**
 * Spins before sleeping: at most SPINS, long enough to cover the serial part of a step; at least
 * MIN_SPINS. A wait that ends asleep quarters this thread's spin limit, one answered while spinning
 * raises it by an eighth: when the partner is not running (more runnable threads than cores) a
 * spinning waiter only holds the core it needs, so the waiter soon sleeps at once.
 *
 * Once the cores are free again, hand-offs that take more than MIN_SPINS polls would keep the
 * limit at its floor (every wait sleeps, none raises it): a 6,400-neuron run on 2 threads stayed
 * at half speed for good after a burst of other work. So every `probeEvery`-th wait spins up to
 * SPINS: answered within HEALTHY polls, the partner is running and the full limit comes back;
 * otherwise (still oversubscribed) probes become twice as rare, up to one in MAX_PROBE_EVERY.
 */
const SPINS: i32 = 1 << 20;
const MIN_SPINS: i32 = 1 << 10;
/** A partner that answers within this many polls is running (a descheduled one takes a time slice, ~2^20). */
const HEALTHY: i32 = 1 << 16;
const MIN_PROBE_EVERY: i32 = 1 << 6;
const MAX_PROBE_EVERY: i32 = 1 << 16;
let spinLimit: i32 = SPINS;
let probeEvery: i32 = MIN_PROBE_EVERY;
let sinceProbe: i32 = 0;
/** Whether the last `awaitChange` had to sleep. */
let lastWaitSlept: bool = false;

/** The full spin again (the start of a trial after thread 0 ran alone). */
function spinFully(): void {
  spinLimit = SPINS;
  probeEvery = MIN_PROBE_EVERY;
  sinceProbe = 0;
}

/**
 * Solo mode. With more runnable threads than cores (another process beside a 2-thread run on 2
 * cores), a helper is often not running when thread 0 hands it a share, and every step then waits
 * for the scheduler: a 1,600-neuron run fell from 1,460 to 146 samples/s beside one busy process,
 * a tenth of what one thread alone gets. When thread 0 had to sleep for a helper in more than a
 * quarter of a window's steps, it runs the next `soloBudget` jobs on the whole layer itself
 * (the single-thread path: same bits, as for any split) while the helpers sleep, then tries the
 * helpers again; a failed trial doubles the budget (up to MAX_SOLO_JOBS), a good window resets it.
 */
const MIN_SOLO_JOBS: i32 = 1 << 10;
const MAX_SOLO_JOBS: i32 = 1 << 18;
let soloLeft: i32 = 0;
let soloBudget: i32 = MIN_SOLO_JOBS;
/** Steps of the current window in which thread 0 slept waiting for a helper. */
let sleptJobs: i32 = 0;
/** The next job is the first after a spell alone (KIND carries TRIAL). */
let trialStart: bool = false;

/** True while thread 0 runs jobs alone: one thread, or solo mode (which counts its jobs down). */
// @ts-ignore: decorator
@inline function alone(): bool {
  if (threadCount == 1) return true;
  if (soloLeft == 0) return false;
  if (--soloLeft == 0) {
    // The trial that follows waits with the full spin: after a long busy spell the spin limit is at
    // its floor and probes are rare, and a trial whose waits all sleep would look oversubscribed
    // even with free cores (no waits happen while alone, so probes would never come round).
    spinFully();
    trialStart = true;
  }
  return true;
}

/** Thread 0: runs the next `jobs` jobs alone (tests check that switching changes no bit). */
export function runAlone(jobs: i32): void {
  soloLeft = max(0, jobs);
}

/** Jobs thread 0 still runs alone. */
export function aloneLeft(): i32 {
  return soloLeft;
}

// @ts-ignore: decorator
@inline function helperLine(h: i32): usize {
  return ctrl + LINE * (3 + 2 * <usize>h);
}

/**
 * Byte offset where thread t's share of the layer starts (t = threadCount: the end). Thread 0
 * takes `share0` blocks, the helpers split the rest evenly. Which thread steps a neuron does not
 * change its bits, so the split may move freely (rebalance).
 */
// @ts-ignore: decorator
@inline function rangeStart(t: i32, share0: i32): usize {
  if (t == 0) return 0;
  const rest = <i64>((stride >> 4) - share0);
  return <usize>(<i64>share0 + (rest * <i64>(t - 1)) / <i64>(threadCount - 1)) << 6;
}

/** Thread 0's share, and how often it waited for a helper since the last rebalance. */
let share0: i32 = 0;
let jobs: i32 = 0;
let waited: i32 = 0;
const REBALANCE_JOBS: i32 = 64;

/**
 * A helper starts its share a hand-off later than thread 0 and reads the lines of the job and the
 * step's lists thread 0 has just written, and a step's plasticity falls on whoever owns the
 * spiking column, so even shares need not be balanced ones. Every REBALANCE_JOBS steps the
 * boundary moves towards the side that finished first.
 */
function rebalance(): void {
  if (sleptJobs * 4 > jobs) {
    soloLeft = soloBudget;
    soloBudget = min(MAX_SOLO_JOBS, soloBudget << 1);
  } else {
    soloBudget = MIN_SOLO_JOBS;
  }
  sleptJobs = 0;
  const blocks = stride >> 4;
  const step = max(1, blocks >> 7);
  if (waited * 5 > jobs * 3) share0 = min(blocks, share0 + step);
  else if (waited * 5 < jobs * 2) share0 = max(0, share0 - step);
  jobs = 0;
  waited = 0;
}

/**
 * Thread 0: prepares `n` threads (after `allocate`); returns the control block's address, which
 * helpers pass to `adoptLayout`.
 */
export function setThreads(n: i32): usize {
  threadCount = max(1, min(n, MAX_THREADS));
  if (threadCount == 1) return 0;
  share0 = (stride >> 4) / threadCount;
  ctrl = (allocZeroed(<i32>(LAYOUT + ADOPT_LAYERS + 2 * LINE)) + LINE - 1) & ~(LINE - 1);
  crossedBy = allocZeroed(threadCount * (stride << 2));
  const l = ctrl + LAYOUT;
  store<i32>(l, threadCount);
  store<usize>(l, crossedBy, 4);
  adoptArrays(l + 8, true);
  adoptLayers(l + ADOPT_LAYERS, true);
  return ctrl;
}

/** Helper: takes thread 0's layout, parameters and control block (it allocates nothing itself). */
export function adoptLayout(c: usize): void {
  ctrl = c;
  const l = ctrl + LAYOUT;
  threadCount = load<i32>(l);
  crossedBy = load<usize>(l, 4);
  adoptArrays(l + 8, false);
  adoptLayers(l + ADOPT_LAYERS, false);
}

// ---- waiting ----

/**
 * Waits until the i32 at `p` differs from `old`; `sleeping` is the waiter's flag. Thread 0 gives
 * up (traps) after `limit` seconds asleep; a helper (limit −1) waits as long as it takes.
 */
function awaitChange(p: usize, old: i32, sleeping: usize, limit: i32): i32 {
  lastWaitSlept = false;
  const probe = spinLimit < SPINS && ++sinceProbe >= probeEvery;
  if (probe) sinceProbe = 0;
  const spins = probe ? SPINS : spinLimit;
  for (let k = 0; k < spins; k++) {
    const x = atomic.load<i32>(p);
    if (x != old) {
      if (probe) {
        if (k < HEALTHY) {
          spinLimit = SPINS;
          probeEvery = MIN_PROBE_EVERY;
        } else {
          probeEvery = min(MAX_PROBE_EVERY, probeEvery << 1);
        }
      } else if (spins < SPINS) {
        spinLimit = min(SPINS, spins + (spins >> 3));
      }
      return x;
    }
  }
  if (probe) probeEvery = min(MAX_PROBE_EVERY, probeEvery << 1);
  else spinLimit = max(MIN_SPINS, spins >> 2);
  lastWaitSlept = true;
  // Asleep, a failed partner (FAILED, set by the host) is noticed within a second, and one that
  // vanished (a terminated thread raises nothing) after WAIT_LIMIT seconds.
  for (let slept = 0; ; slept++) {
    if (slept == limit) unreachable();
    atomic.store<i32>(sleeping, 1);
    const x = atomic.load<i32>(p);
    if (x != old) {
      atomic.store<i32>(sleeping, 0);
      return x;
    }
    sleepWhile(p, old);
    atomic.store<i32>(sleeping, 0);
    const y = atomic.load<i32>(p);
    if (y != old) return y;
    if (atomic.load<i32>(ctrl + FAILED) != 0) unreachable();
  }
  return 0;
}

/** Publishes `value` at `p` and wakes its waiter if it sleeps. */
// @ts-ignore: decorator
@inline function publish(p: usize, value: i32, sleeping: usize): void {
  atomic.store<i32>(p, value);
  if (atomic.load<i32>(sleeping) != 0) wake(p);
}

// ---- helpers ----

/** Helper h: announces that it is ready for jobs. */
export function helperStart(h: i32): void {
  seqSeen = atomic.load<i32>(ctrl + SEQ);
  publish(helperLine(h) + READY, 1, ctrl + MAIN_SLEEPING);
}

/**
 * Helper h: waits for the next job and runs its share; returns false when told to exit. The host
 * calls it in a loop: a wasm function that never returned would stay in V8's baseline tier.
 */
export function helperStep(h: i32): bool {
  const line = helperLine(h);
  seqSeen = awaitChange(ctrl + SEQ, seqSeen, line + SLEEPING, -1);
  const word = atomic.load<i32>(ctrl + KIND);
  if (word & TRIAL) {
    // Asleep through thread 0's spell alone, this helper's spin limit is at its floor; a trial
    // whose hand-offs all need a wake-up would look oversubscribed on free cores.
    spinFully();
  }
  const kind = word & (TRIAL - 1);
  if (kind == JOB_EXIT) return false;
  store<i32>(line + COUNT, runShare(h, kind, crossedBy + <usize>h * (<usize>stride << 2)));
  publish(line + DONE, seqSeen, ctrl + MAIN_SLEEPING);
  return true;
}

/**
 * Thread t's share of the current job, after the planned plasticity of its columns; an excitatory
 * step's crossings go to `out`, their count is returned (normalization: 1 if a weight left the bounds).
 */
function runShare(t: i32, kind: i32, out: usize): i32 {
  const s0 = load<i32>(ctrl + SHARE0);
  const from = rangeStart(t, s0);
  const to = rangeStart(t + 1, s0);
  const dep = load<i32>(ctrl + PLAN_DEP);
  const pot = load<i32>(ctrl + PLAN_POT);
  const j0 = <i32>(from >> 2);
  const j1 = <i32>(to >> 2);
  if ((dep | pot) != 0) {
    applyPlasticity(j0, j1, dep, pot, load<i32>(ctrl + PLAN_NOW), load<i32>(ctrl + PLAN_ROWS), load<i32>(ctrl + PLAN_PRE));
  }
  if (kind == JOB_FLUSH) return 0;
  if (kind == JOB_RESET) {
    resetNeurons(from, to);
    return 0;
  }
  if (kind == JOB_NORMALIZE) return normalizeRange(j0, j1, load<i32>(ctrl + NORM_COUNT), norm) ? 1 : 0;
  if (kind == JOB_SCATTER) {
    scatterRange(load<usize>(ctrl + SCATTER_LIST), load<i32>(ctrl + SCATTER_COUNT), load<i32>(ctrl + SCATTER_NEXT), from, to, t);
    return 0;
  }
  const flags = load<i32>(ctrl + FLAGS);
  const learning = (flags & 1) != 0;
  const inhib = (flags & 2) != 0;
  if (flags & 4) return stepExcFused(load<i32>(ctrl + NROWS), load<f32>(ctrl + UNIFORM), learning, inhib, from, to, out);
  return stepExcBuffered(load<usize>(ctrl + INPUT), load<f32>(ctrl + UNIFORM), load<f32>(ctrl + HSELF), learning, inhib, from, to, out);
}

// ---- thread 0 ----

function runJob(kind: i32): void {
  store<i32>(ctrl + KIND, trialStart ? kind | TRIAL : kind);
  trialStart = false;
  if (planPending && kind != JOB_EXIT) {
    store<i32>(ctrl + PLAN_DEP, planDep);
    store<i32>(ctrl + PLAN_POT, planPot);
    store<i32>(ctrl + PLAN_NOW, planNow);
    store<i32>(ctrl + PLAN_ROWS, planRows);
    store<i32>(ctrl + PLAN_PRE, preActiveCount);
    planDone();
  } else {
    store<i32>(ctrl + PLAN_DEP, 0);
    store<i32>(ctrl + PLAN_POT, 0);
  }
  store<i32>(ctrl + SHARE0, share0);
  const seq = atomic.load<i32>(ctrl + SEQ) + 1;
  atomic.store<i32>(ctrl + SEQ, seq);
  for (let h = 1; h < threadCount; h++) {
    if (atomic.load<i32>(helperLine(h) + SLEEPING) != 0) {
      wake(ctrl + SEQ);
      break;
    }
  }
  if (kind == JOB_EXIT) return;
  ownCount = runShare(0, kind, ownOut);
  let late = false;
  let asleep = false;
  for (let h = 1; h < threadCount; h++) {
    const done = helperLine(h) + DONE;
    if (atomic.load<i32>(done) != seq) {
      late = true;
      awaitChange(done, seq - 1, ctrl + MAIN_SLEEPING, WAIT_LIMIT);
      if (lastWaitSlept) asleep = true;
    }
  }
  if (kind == JOB_EXC) {
    jobs++;
    if (late) waited++;
    if (asleep) sleptJobs++;
    if (jobs == REBALANCE_JOBS) rebalance();
  }
}

let ownCount: i32 = 0;
let ownOut: usize = 0;

/** Thread 0 waits until every helper has started (before the first job). */
export function awaitHelpers(): void {
  for (let h = 1; h < threadCount; h++) {
    const ready = helperLine(h) + READY;
    if (atomic.load<i32>(ready) == 0) awaitChange(ready, 0, ctrl + MAIN_SLEEPING, WAIT_LIMIT);
  }
}

/**
 * The excitatory update of the whole layer, split over the threads; crossings go to `out` in
 * neuron order. `input` = 0: fused current synapses (the step's input summed from `rows`).
 */
export function excStep(fused: bool, nrows: i32, uniform: f32, hSelf: f32, learning: bool, inhib: bool, input: usize, out: usize): i32 {
  const end = <usize>stride << 2;
  if (alone()) {
    applyPlanned();
    return fused
      ? stepExcFused(nrows, uniform, learning, inhib, 0, end, out)
      : stepExcBuffered(input, uniform, hSelf, learning, inhib, 0, end, out);
  }
  store<i32>(ctrl + NROWS, nrows);
  store<f32>(ctrl + UNIFORM, uniform);
  store<f32>(ctrl + HSELF, hSelf);
  store<i32>(ctrl + FLAGS, (learning ? 1 : 0) | (inhib ? 2 : 0) | (fused ? 4 : 0));
  store<usize>(ctrl + INPUT, input);
  ownOut = out;
  runJob(JOB_EXC);
  let n = ownCount;
  for (let h = 1; h < threadCount; h++) {
    const c = load<i32>(helperLine(h) + COUNT);
    const src = crossedBy + <usize>h * (<usize>stride << 2);
    for (let a = 0; a < c; a++) store<i32>(out + (<usize>(n + a) << 2), load<i32>(src + (<usize>a << 2)));
    n += c;
  }
  return n;
}

/**
 * Input spikes `list[0..count)` (u16 indices) of this step enter the delay lines: input i reaches
 * neuron j at ring slot (next + D_ij) mod ringSlots, carrying W_ij.
 */
export function scatterInputs(list: usize, count: i32, next: i32): void {
  if (count == 0) return;
  if (alone()) {
    applyPlanned();
    scatterRange(list, count, next, 0, <usize>stride << 2, 0);
    return;
  }
  store<usize>(ctrl + SCATTER_LIST, list);
  store<i32>(ctrl + SCATTER_COUNT, count);
  store<i32>(ctrl + SCATTER_NEXT, next);
  runJob(JOB_SCATTER);
}

function scatterRange(list: usize, count: i32, next: i32, from: usize, to: usize, t: i32): void {
  const slotBytes = <usize>stride << 2;
  const j0 = <i32>(from >> 2);
  const j1 = min(<i32>(to >> 2), neurons);
  const j4 = j0 + ((j1 - j0) & ~3);
  // Where a delay of k steps lands in the ring this step, for every k (thread t's own table):
  // 1 + D ≤ ringSlots − 1 and next ≤ ringSlots, so one wrap at most. A synapse's entry is then
  // one table load away, with no compare and no lane extraction: whether a slot wraps is random,
  // and a branch on it mispredicted about half the time.
  const table = slotTables + ((<usize>t * <usize>ringSlots) << 2);
  for (let k = 0; k < ringSlots; k++) {
    let s = next + k;
    if (s >= ringSlots) s -= ringSlots;
    store<i32>(table + (<usize>k << 2), <i32>(ring + <usize>s * slotBytes));
  }
  for (let r = 0; r < count; r++) {
    const i = <usize>load<u16>(list + (<usize>r << 1));
    const row = weights + ((i * <usize>stride) << 2);
    const d = delays + i * <usize>stride;
    for (let j = j0; j < j4; j += 4) {
      const o = <usize>j << 2;
      const e0 = <usize>load<i32>(table + (<usize>load<u8>(d + <usize>j) << 2)) + o;
      const e1 = <usize>load<i32>(table + (<usize>load<u8>(d + <usize>j, 1) << 2)) + o;
      const e2 = <usize>load<i32>(table + (<usize>load<u8>(d + <usize>j, 2) << 2)) + o;
      const e3 = <usize>load<i32>(table + (<usize>load<u8>(d + <usize>j, 3) << 2)) + o;
      store<f32>(e0, load<f32>(e0) + load<f32>(row + o));
      store<f32>(e1, load<f32>(e1, 4) + load<f32>(row + o, 4), 4);
      store<f32>(e2, load<f32>(e2, 8) + load<f32>(row + o, 8), 8);
      store<f32>(e3, load<f32>(e3, 12) + load<f32>(row + o, 12), 12);
    }
    for (let j = j4; j < j1; j++) {
      const o = <usize>j << 2;
      const e = <usize>load<i32>(table + (<usize>load<u8>(d + <usize>j) << 2)) + o;
      store<f32>(e, load<f32>(e) + load<f32>(row + o));
    }
  }
}

/** One thread: applies the planned plasticity to every column. */
function applyPlanned(): void {
  if (!planPending) return;
  applyPlasticity(0, stride, planDep, planPot, planNow, planRows, preActiveCount);
  planDone();
}

/** Applies the planned plasticity now (before weights are read outside a job on the layer). */
export function flushPlasticity(): void {
  if (alone()) applyPlanned();
  else if (planPending) runJob(JOB_FLUSH);
}

/**
 * After a learning sample: the planned plasticity, then normalization of the touched columns
 * (`all`: of every column); true if a weight left [wMin, wMax].
 */
export function normalizeColumns(all: bool): bool {
  const count = all ? -1 : touchedCount;
  if (alone()) {
    applyPlanned();
    return normalizeRange(0, stride, count, norm);
  }
  store<i32>(ctrl + NORM_COUNT, count);
  runJob(JOB_NORMALIZE);
  let over = ownCount != 0;
  for (let h = 1; h < threadCount; h++) if (load<i32>(helperLine(h) + COUNT) != 0) over = true;
  return over;
}

/** Resting state of the excitatory neurons, each thread its own (at the start of a sample). */
export function resetLayer(): void {
  if (alone()) resetNeurons(0, <usize>stride << 2);
  else runJob(JOB_RESET);
}

/** Thread 0: tells the helpers to return. */
export function stopHelpers(): void {
  if (threadCount > 1) runJob(JOB_EXIT);
}

/** The host marks a helper that failed to start, so thread 0 stops waiting for it. */
export function failedFlag(): usize {
  return ctrl + FAILED;
}
