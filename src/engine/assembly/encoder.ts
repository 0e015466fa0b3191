/**
 * Rate and latency encoding of `image` (intensities 0..255) into the sample's input spike train:
 * step t holds trainCount[t] input indices at trainIndex[t·bucket …], bucket = number of non-zero
 * pixels (the only inputs that can spike), which `encode` returns through `activeCount`.
 *
 * Interval encoders (`bindsnet-poisson` renewal process, `poisson` process) invert the
 * per-intensity interval CDF the host tabulated (interval-tables.ts): one 32-bit uniform per
 * interval, a guide table for the start of the search; the cumulative times c ∈ [1, T] are
 * spikes at c − 1.
 * Latency: one spike per non-zero pixel at step round((1 − pixel/255)·(T − 1)).
 */
import { drawOf, next0, next1, next2, next3, rngWord, setRng } from './prng';
import { active, cdf, GUIDE, guide, image, trainCount, trainIndex } from './layout';

export let activeCount: i32 = 0;

export function encodedActiveCount(): i32 {
  return activeCount;
}

function listActive(n: i32): i32 {
  let m = 0;
  for (let i = 0; i < n; i++) {
    if (load<u8>(image + <usize>i) != 0) {
      store<u16>(active + (<usize>m << 1), <u16>i);
      m++;
    }
  }
  activeCount = m;
  return m;
}

/** Encodes with the interval tables; returns the number of spikes. */
export function encodeIntervals(n: i32, nSteps: i32): i32 {
  const m = listActive(n);
  // Each step's slot holds its bucket's next free address while encoding, its count after.
  const bucketBytes = <usize>m << 1;
  for (let t = 0; t < nSteps; t++) store<i32>(trainCount + (<usize>t << 2), <i32>(trainIndex + <usize>t * bucketBytes));
  const width8 = <usize>(nSteps + 2) << 3;
  let total = 0;
  // The stream's state in locals for the loop (one draw per interval), stored back after it.
  let a = rngWord(0), b = rngWord(1), c0 = rngWord(2), d = rngWord(3);
  for (let q = 0; q < m; q++) {
    const i = <i32>load<u16>(active + (<usize>q << 1));
    const pixel = <usize>load<u8>(image + <usize>i);
    const row = cdf + pixel * width8;
    const g = guide + ((pixel * <usize>GUIDE) << 1);
    let c = 0;
    while (true) {
      const u = drawOf(b);
      const a1 = next0(a, b, d), b1 = next1(a, b, c0), c1 = next2(a, b, c0);
      d = next3(b, d);
      a = a1;
      b = b1;
      c0 = c1;
      let k = <i32>load<u16>(g + (<usize>(u >>> 24) << 1));
      const uf = <f64>u;
      while (uf >= load<f64>(row + (<usize>k << 3))) k++;
      c += k;
      if (c > nSteps) break;
      const slot = trainCount + (<usize>(c - 1) << 2);
      const at = load<i32>(slot);
      store<u16>(<usize>at, <u16>i);
      store<i32>(slot, at + 2);
    }
  }
  setRng(a, b, c0, d);
  for (let t = 0; t < nSteps; t++) {
    const slot = trainCount + (<usize>t << 2);
    const cnt = (load<i32>(slot) - <i32>(trainIndex + <usize>t * bucketBytes)) >> 1;
    store<i32>(slot, cnt);
    total += cnt;
  }
  return total;
}

/** Latency code: brighter pixels earlier. Returns the number of spikes. */
export function encodeLatency(n: i32, nSteps: i32): i32 {
  const m = listActive(n);
  memory.fill(trainCount, 0, <usize>nSteps << 2);
  for (let q = 0; q < m; q++) {
    const i = <i32>load<u16>(active + (<usize>q << 1));
    const pixel = <f64>load<u8>(image + <usize>i);
    const t = <i32>Math.round((1 - pixel / 255) * <f64>(nSteps - 1));
    const slot = trainCount + (<usize>t << 2);
    const cnt = load<i32>(slot);
    store<u16>(trainIndex + (<usize>(t * m + cnt) << 1), <u16>i);
    store<i32>(slot, cnt + 1);
  }
  return m;
}
