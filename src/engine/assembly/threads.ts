/**
 * One network on several threads (the threaded build, dist/kernel/engine-threads.wasm: the same
 * source on a shared memory). Thread 0 runs the sample loop; threads 1… each own a contiguous
 * range of 16-neuron blocks of the excitatory layer and, once per step, update it (input sum,
 * neuron update, spike test) and, with delays, scatter the step's input spikes into their part of
 * the delay lines. Everything else — encoding, one-spike choice, the inhibitory layer,
 * plasticity, normalization, the random stream — stays on thread 0, and thread 0 lists the
 * crossings of every range in ascending order, so the result is the same bits whatever the
 * thread count.
 *
 * Synchronisation per phase: thread 0 writes the phase's command into `control`, bumps the epoch
 * (sequentially consistent, so the command is visible), does its own range and spins until every
 * helper has counted itself done. A helper spins on the epoch for a while, then sleeps on it.
 */
import { control, crossed, delays, neurons, ring, ringSlots, rows, setControl, setThreadSlot, stride, threadSlot, THREAD_SLOTS, weights } from './layout';
import { gatherRows, stepExcBuffered, stepExcFused } from './neurons';

// control block (layout.ts allocates CONTROL_BYTES, 64-byte aligned): the command thread 0
// writes every phase on one cache line, each helper's answer on its own.
const EPOCH: usize = 0;
const EXIT: usize = 4;
const SLEEPING: usize = 8;
const MODE: usize = 12;
const NROWS: usize = 16;
const UNIFORM: usize = 20; // f32
const H_SELF: usize = 24; // f32
const FLAGS: usize = 28; // bit 0 learning, bit 1 inhibition
const INPUT: usize = 32; // input buffer (buffered modes)
const SCATTER_NEXT: usize = 36; // first ring slot of a scatter
const THREADS: usize = 40;
/** Thread 0 sleeps on a helper's slot (the helper is late): that helper wakes it. */
const MAIN_WAITING: usize = 64;
/** A helper trapped (a bug): thread 0 stops waiting for it and traps too. */
const FAILED: usize = 68;
/** Helpers that have adopted the layout and entered their loop. */
const READY: usize = 72;
/**
 * One cache line per helper w at SLOTS + 64·w: the epoch it finished, then its crossings. Thread
 * 0 reads each helper's line once per phase; nothing else is shared per phase but the command.
 */
const SLOTS: usize = 128;
/** Helpers' copy of thread 0's layout, written by `publishLayout` (THREAD_SLOTS i32). */
const LAYOUT: usize = 128 + 64 * 32;
const MAX_THREADS: i32 = 32;

export const MODE_FUSED: i32 = 0;
/** Sum the input rows into synInput, then update. */
export const MODE_GATHER: i32 = 1;
/** The input is already in the buffer at INPUT. */
export const MODE_INPUT: i32 = 2;
/** As MODE_INPUT, then clear the buffer (a consumed delay-ring slot). */
export const MODE_INPUT_CLEAR: i32 = 3;
export const MODE_SCATTER: i32 = 4;

/** Threads of this network (1: everything on thread 0, no helper). */
export let threadCount: i32 = 1;
/** This instance's range of the excitatory layer, in bytes of an f32 [stride] array. */
let rangeStart: usize = 0;
let rangeEnd: usize = 0;
// Spinning before sleeping: up to about a millisecond, longer than thread 0 spends between two
// phases of a sample, so helpers sleep only between samples that take long on the host. When a
// wait had to sleep anyway (more threads than free cores: the partner is descheduled), the limit
// halves, down to a few microseconds, so that the spinning thread gives its core to the one it
// waits for; phases that finish without sleeping double it again.
const MAX_SPINS: i32 = 1 << 20;
const MIN_SPINS: i32 = 1 << 10;
let spinLimit: i32 = MAX_SPINS;

// @ts-ignore: decorator
@inline function slept(): void {
  spinLimit = max(MIN_SPINS, spinLimit >> 1);
}

// @ts-ignore: decorator
@inline function didNotSleep(): void {
  spinLimit = min(MAX_SPINS, spinLimit << 1);
}

function rangeOf(w: i32, count: i32, edge: bool): usize {
  const blocks = stride >> 4;
  const b = edge ? (<i64>(w + 1) * blocks) / count : (<i64>w * blocks) / count;
  return <usize>b << 6;
}

/** Thread 0: how many threads share the network (call once, after `allocate`). */
export function setThreads(count: i32): void {
  threadCount = min(max(count, 1), MAX_THREADS);
  atomic.store<i32>(control + THREADS, threadCount);
  rangeStart = 0;
  rangeEnd = threadCount == 1 ? <usize>stride << 2 : rangeOf(0, threadCount, true);
}

/** The part of the excitatory step of the current command on bytes [start, end); returns crossings (written from crossed + start). */
function excPart(start: usize, end: usize): i32 {
  const mode = load<i32>(control + MODE);
  const nrows = load<i32>(control + NROWS);
  const uniform = load<f32>(control + UNIFORM);
  const flags = load<i32>(control + FLAGS);
  const learning = (flags & 1) != 0;
  const inhib = (flags & 2) != 0;
  const out = crossed + start;
  if (mode == MODE_FUSED) return stepExcFused(start, end, out, nrows, uniform, learning, inhib);
  if (mode == MODE_SCATTER) {
    scatterPart(start, end, nrows, load<i32>(control + SCATTER_NEXT));
    return 0;
  }
  const input = <usize>load<i32>(control + INPUT);
  if (mode == MODE_GATHER) gatherRows(start, end, nrows);
  const n = stepExcBuffered(start, end, out, input, uniform, load<f32>(control + H_SELF), learning, inhib);
  if (mode == MODE_INPUT_CLEAR) memory.fill(input + start, 0, end - start);
  return n;
}

/**
 * Runs the excitatory step (or a scatter) described by the arguments on every thread; returns the
 * crossings, listed in ascending order at `crossed`.
 */
export function runPhase(mode: i32, nrows: i32, uniform: f32, hSelf: f32, learning: bool, inhib: bool, input: usize, scatterNext: i32): i32 {
  store<i32>(control + MODE, mode);
  store<i32>(control + NROWS, nrows);
  store<f32>(control + UNIFORM, uniform);
  store<f32>(control + H_SELF, hSelf);
  store<i32>(control + FLAGS, (learning ? 1 : 0) | (inhib ? 2 : 0));
  store<i32>(control + INPUT, <i32>input);
  store<i32>(control + SCATTER_NEXT, scatterNext);
  if (threadCount == 1) return excPart(0, <usize>stride << 2);
  const epoch = atomic.load<i32>(control + EPOCH) + 1;
  atomic.store<i32>(control + EPOCH, epoch);
  if (atomic.load<i32>(control + SLEEPING) != 0) atomic.notify(control + EPOCH, threadCount - 1);
  let n = excPart(rangeStart, rangeEnd);
  let sleeps = 0;
  for (let w = 1; w < threadCount; w++) {
    const slot = control + SLOTS + (<usize>w << 6);
    let spins = 0;
    while (atomic.load<i32>(slot) != epoch) {
      // A helper that is descheduled (or still starting: a worker thread can take seconds to
      // boot on a loaded machine): stop burning the core after a while. Helpers do not die on
      // their own (a trap is reported through FAILED; terminating this thread also ends them).
      if (++spins > spinLimit) {
        if (atomic.load<i32>(control + FAILED) != 0) unreachable();
        atomic.store<i32>(control + MAIN_WAITING, 1);
        atomic.wait<i32>(slot, atomic.load<i32>(slot), 1_000_000);
        atomic.store<i32>(control + MAIN_WAITING, 0);
        sleeps++;
      }
    }
    if (mode == MODE_SCATTER) continue;
    const c = load<i32>(slot + 4);
    if (c > 0) memory.copy(crossed + (<usize>n << 2), crossed + rangeOf(w, threadCount, false), <usize>c << 2);
    n += c;
  }
  if (sleeps > 0) slept();
  else didNotSleep();
  return n;
}

/** Input i's spike of this step (rows holds its weight row) reaches neuron j 1 + D_ij steps later, carrying W_ij. */
function scatterPart(start: usize, end: usize, nrows: i32, next: i32): void {
  const slotBytes = <usize>stride << 2;
  const j0 = <i32>(start >> 2);
  const j1 = min(<i32>(end >> 2), neurons);
  for (let r = 0; r < nrows; r++) {
    const row = <usize>load<i32>(rows + (<usize>r << 2));
    const i = <i32>((row - weights) / slotBytes);
    const d = delays + <usize>i * <usize>stride;
    for (let j = j0; j < j1; j++) {
      // 1 + D ≤ ringSlots − 1, so one wrap at most.
      let slot = next + <i32>load<u8>(d + <usize>j);
      if (slot >= ringSlots) slot -= ringSlots;
      const e = ring + <usize>slot * slotBytes + (<usize>j << 2);
      store<f32>(e, load<f32>(e) + load<f32>(row + (<usize>j << 2)));
    }
  }
}

/** Thread 0: copies the layout a helper needs into the control block (after `setThreads`). */
export function publishLayout(): usize {
  for (let k = 0; k < THREAD_SLOTS; k++) store<i32>(control + LAYOUT + (<usize>k << 2), <i32>threadSlot(k));
  return control;
}

/**
 * A helper instance adopts thread 0's layout. It is never started (its start function would
 * allocate over thread 0's heap), so it allocates nothing and only reads what was published.
 */
export function attachHelper(ctl: usize, w: i32): void {
  setControl(ctl);
  for (let k = 0; k < THREAD_SLOTS; k++) setThreadSlot(k, <usize>load<i32>(ctl + LAYOUT + (<usize>k << 2)));
  threadCount = atomic.load<i32>(control + THREADS);
  rangeStart = rangeOf(w, threadCount, false);
  rangeEnd = rangeOf(w, threadCount, true);
}

/** A helper's life: one part per epoch until thread 0 asks it to exit. */
export function helperLoop(w: i32): void {
  let seen = 0;
  atomic.add<i32>(control + READY, 1);
  atomic.notify(control + READY);
  while (true) {
    let spins = 0;
    let sleeps = 0;
    let e = atomic.load<i32>(control + EPOCH);
    while (e == seen) {
      if (++spins > spinLimit) {
        atomic.add<i32>(control + SLEEPING, 1);
        // Timed: a missed wake-up (seen under load, not understood) then costs a millisecond
        // instead of the run.
        atomic.wait<i32>(control + EPOCH, seen, 1_000_000);
        atomic.sub<i32>(control + SLEEPING, 1);
        spins = 0;
        sleeps++;
      }
      e = atomic.load<i32>(control + EPOCH);
    }
    if (sleeps > 0) slept();
    else didNotSleep();
    seen = e;
    if (atomic.load<i32>(control + EXIT) != 0) return;
    const slot = control + SLOTS + (<usize>w << 6);
    store<i32>(slot + 4, excPart(rangeStart, rangeEnd));
    atomic.store<i32>(slot, e);
    // A notify costs a lock even with no waiter: only when thread 0 sleeps. (If it is about to,
    // its wait sees the slot changed and returns at once.)
    if (atomic.load<i32>(control + MAIN_WAITING) != 0) atomic.notify(slot, 1);
  }
}

/** Where thread 0's host waits for its helpers to start (they count themselves in). */
export function readyAddress(): usize {
  return control + READY;
}

/** Where a helper that failed (trapped, or could not start) flags it: thread 0 then traps too. */
export function failedFlagAddress(): usize {
  return control + FAILED;
}

/** Helper w's answer line (thread 0 sleeps on it when the helper is late). */
export function answerAddress(w: i32): usize {
  return control + SLOTS + (<usize>w << 6);
}

/** Thread 0: releases the helpers (they return from `helperLoop`). */
export function stopHelpers(): void {
  atomic.store<i32>(control + EXIT, 1);
  atomic.add<i32>(control + EPOCH, 1);
  atomic.notify(control + EPOCH, MAX_THREADS);
}

