/**
 * Input encoders against the laws they claim to sample, driven through the kernel: the spikes
 * are the recorded input of `Network.runSample` on an image (a network whose excitatory layer
 * never spikes, so nothing but the encoder draws from the PRNG).
 *
 * `bindsnet-poisson` is checked against (a) an exact computation of the renewal-process count law
 * (the interval pmf convolved with itself, no sampling) and (b) a direct simulation of BindsNET's
 * algorithm with an independent Poisson sampler and RNG written here. `bernoulli` against the
 * binomial/geometric laws, `latency` against its closed form. Statistical bounds are 5 sigma.
 */
import { describe, expect, it } from 'vitest';
import { pixelRateHz } from '../../src/engine/interval-tables.js';
import { createRecording, Network } from '../../src/engine/network.js';
import type { EncoderType } from '../../src/engine/spec.js';
import { tinySpec } from './tiny.js';

const f = Math.fround;
const T = 250;
const INPUTS = 784;

/** Rate (Hz) and mean interval λ (steps) as BindsNET computes them in float32 (dt = 1 ms). */
function rateOf(pixel: number, maxRate = 128): number {
  return f(f(pixel / 255) * maxRate);
}
function lambdaOf(pixel: number, maxRate = 128): number {
  return f(f(1 / rateOf(pixel, maxRate)) * 1000);
}

/** Poisson(λ) pmf in log space with log k! as an explicit sum (independent of the engine's lgamma). */
function poissonPmf(lambda: number, kMax: number): Float64Array {
  const p = new Float64Array(kMax + 1);
  let logFact = 0;
  for (let k = 0; k <= kMax; k++) {
    if (k > 0) logFact += Math.log(k);
    p[k] = Math.exp(-lambda + k * Math.log(lambda) - logFact);
  }
  return p;
}

/** pmf of the BindsNET interval K' = max(K, 1), K ~ Poisson(λ), on 0..kMax (q[0] = 0). */
function intervalPmf(lambda: number, kMax: number): Float64Array {
  const q = poissonPmf(lambda, kMax);
  q[1] += q[0];
  q[0] = 0;
  return q;
}

/**
 * Exact mean and variance of the number of renewals with cumulative time ≤ T for i.i.d. intervals
 * with pmf q: P(N ≥ n) = P(S_n ≤ T), S_n the n-fold convolution, restricted to [0, T].
 */
function renewalCountMoments(q: Float64Array, steps: number): { mean: number; variance: number; pAny: number } {
  let dist = new Float64Array(steps + 1);
  for (let s = 1; s <= steps; s++) dist[s] = q[s];
  let mean = 0;
  let second = 0;
  let pAny = 0;
  for (let n = 1; n <= steps; n++) {
    let tail = 0;
    for (let s = 0; s <= steps; s++) tail += dist[s];
    if (n === 1) pAny = tail;
    mean += tail;
    second += (2 * n - 1) * tail; // E[N²] = Σ (2n−1) P(N ≥ n)
    if (tail < 1e-18) break;
    const next = new Float64Array(steps + 1);
    for (let s = 0; s <= steps; s++) {
      if (dist[s] === 0) continue;
      for (let k = 1; s + k <= steps; k++) next[s + k] += dist[s] * q[k];
    }
    dist = next;
  }
  return { mean, variance: second - mean * mean, pAny };
}

/** Independent uniform source for the reference simulation (mulberry32). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Knuth's multiplicative Poisson sampler (fine for λ up to a few hundred in doubles). */
function samplePoisson(lambda: number, u: () => number): number {
  const L = Math.exp(-lambda);
  let k = 0;
  let p = 1;
  do {
    k++;
    p *= u();
  } while (p > L);
  return k - 1;
}

/** BindsNET `poisson` for one input: time+1 intervals, 0 → 1, cumsum, spikes at c−1 for c ≤ T. */
function simulateBindsnetTrain(lambda: number, steps: number, u: () => number): number[] {
  const out: number[] = [];
  let c = 0;
  for (let n = 0; n < steps + 1; n++) {
    let k = samplePoisson(lambda, u);
    if (k === 0) k = 1;
    c += k;
    if (c > steps) break;
    out.push(c - 1);
  }
  return out;
}

/** An encoder: a 784-input network with zero weights (its neurons never spike). */
function encoderNet(type: EncoderType, seed: number, maxRateHz = 128, steps = T): Network {
  return new Network(tinySpec({ inputs: INPUTS, neurons: 1, steps, seed, encoder: { type, maxRateHz } }));
}

/** Encodes `image` once; returns the recorded (step, input) pairs. */
function encode(net: Network, image: Uint8Array, extraRateHz = 0): number[] {
  const rec = createRecording([]);
  net.runSample(image, false, rec, extraRateHz);
  expect(rec.excitatory).toEqual([]);
  return rec.input;
}

/** Spike steps of every input, checking the invariants on the way. */
function spikeTimes(pairs: number[], image: Uint8Array, steps = T): number[][] {
  const times: number[][] = Array.from({ length: INPUTS }, () => []);
  let prevT = -1;
  let prev = -1;
  for (let a = 0; a < pairs.length; a += 2) {
    const [t, i] = [pairs[a], pairs[a + 1]];
    if (t < prevT || t >= steps) throw new Error(`step ${t} out of order or range`);
    if (t !== prevT) prev = -1;
    // Ascending within a step (hence distinct: at most one spike per input per step).
    if (!(i > prev)) throw new Error(`step ${t}: not strictly ascending (${prev} then ${i})`);
    if (image[i] === 0) throw new Error(`zero pixel ${i} spiked at step ${t}`);
    times[i].push(t);
    prevT = t;
    prev = i;
  }
  return times;
}

function uniformImage(v: number): Uint8Array {
  return new Uint8Array(INPUTS).fill(v);
}

function moments(xs: number[]): { mean: number; variance: number } {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
  return { mean, variance };
}

/** Counts and first-spike cumulative times (step+1) of `reps` encodes of a uniform image. */
function collect(type: 'bindsnet-poisson' | 'bernoulli' | 'poisson', pixel: number, reps: number, seed: number, maxRate = 128) {
  const net = encoderNet(type, seed, maxRate);
  const img = uniformImage(pixel);
  const counts: number[] = [];
  const first: number[] = [];
  const all: number[][] = [];
  for (let r = 0; r < reps; r++) {
    const pairs = encode(net, img);
    expect(net.inputSpikes).toBe(pairs.length / 2);
    const times = spikeTimes(pairs, img);
    for (const ts of times) {
      counts.push(ts.length);
      if (ts.length > 0) first.push(ts[0] + 1);
      all.push(ts);
    }
  }
  return { counts, first, all };
}

describe('pixelRateHz', () => {
  it('computes fl32(fl32(pixel/255)·maxRate)', () => {
    expect(pixelRateHz(255, 128)).toBe(128);
    expect(pixelRateHz(0, 128)).toBe(0);
    for (const v of [1, 7, 8, 100, 128, 254]) expect(pixelRateHz(v, 128)).toBe(f(f(v / 255) * 128));
    // Strictly increasing in the pixel value.
    for (let v = 1; v < 256; v++) expect(pixelRateHz(v, 128)).toBeGreaterThan(pixelRateHz(v - 1, 128));
  });
});

describe('bindsnet-poisson encoder', () => {
  const exact255 = renewalCountMoments(intervalPmf(lambdaOf(255), T), T);

  it('the analytic law matches the reference numbers (pixel 255: mean 31.6, variance 4.2)', () => {
    expect(lambdaOf(255)).toBe(7.8125);
    expect(exact255.mean).toBeGreaterThan(31.55);
    expect(exact255.mean).toBeLessThan(31.65);
    expect(exact255.variance).toBeGreaterThan(4.0);
    expect(exact255.variance).toBeLessThan(4.35);
  });

  it('a direct simulation of the BindsNET algorithm agrees with the analytic law', () => {
    const u = mulberry32(12345);
    const counts: number[] = [];
    for (let r = 0; r < 20000; r++) counts.push(simulateBindsnetTrain(lambdaOf(255), T, u).length);
    const m = moments(counts);
    const n = counts.length;
    expect(Math.abs(m.mean - exact255.mean)).toBeLessThan(5 * Math.sqrt(exact255.variance / n));
    expect(Math.abs(m.variance - exact255.variance)).toBeLessThan(0.25);
    expect(Math.abs(m.mean - 31.6)).toBeLessThan(0.1);
    expect(Math.abs(m.variance - 4.2)).toBeLessThan(0.3);
  });

  it('pixel 255: spike-count mean ≈ 31.6 and variance ≈ 4.2 (renewal law, far below Poisson variance)', () => {
    const { counts } = collect('bindsnet-poisson', 255, 40, 1);
    const n = counts.length; // 31,360 independent trains
    const m = moments(counts);
    const se = Math.sqrt(exact255.variance / n);
    expect(Math.abs(m.mean - exact255.mean)).toBeLessThan(5 * se);
    // sd of the sample variance ≈ σ²·sqrt(2/n) (≈ 0.034 here); 5 sigma with some slack for kurtosis.
    expect(Math.abs(m.variance - exact255.variance)).toBeLessThan(6 * exact255.variance * Math.sqrt(2 / n));
    // Nowhere near a Poisson process (variance = mean).
    expect(m.variance).toBeLessThan(m.mean / 5);
  });

  it('pixel 128: count mean and variance match the exact renewal law', () => {
    const exact = renewalCountMoments(intervalPmf(lambdaOf(128), T), T);
    const { counts } = collect('bindsnet-poisson', 128, 30, 2);
    const n = counts.length;
    const m = moments(counts);
    expect(Math.abs(m.mean - exact.mean)).toBeLessThan(5 * Math.sqrt(exact.variance / n));
    expect(Math.abs(m.variance - exact.variance)).toBeLessThan(6 * exact.variance * Math.sqrt(2 / n));
  });

  it('first spike comes after ≈ λ steps and its distribution is the interval pmf (χ²)', () => {
    const lambda = lambdaOf(255);
    const q = intervalPmf(lambda, T);
    const { first } = collect('bindsnet-poisson', 255, 40, 3);
    const n = first.length;
    expect(n).toBe(40 * INPUTS); // P(no spike) ≈ 0 at pixel 255
    const m = moments(first);
    const eK = lambda + Math.exp(-lambda); // E[max(K,1)]
    expect(Math.abs(m.mean - eK)).toBeLessThan(5 * Math.sqrt(lambda / n));
    // χ² over bins with ≥ 20 expected, the tails pooled.
    const hist = new Float64Array(T + 1);
    for (const c of first) hist[c]++;
    let chi2 = 0;
    let df = -1;
    let accO = 0;
    let accE = 0;
    for (let k = 1; k <= T; k++) {
      accO += hist[k];
      accE += n * q[k];
      if (accE >= 20) {
        chi2 += (accO - accE) ** 2 / accE;
        df++;
        accO = accE = 0;
      }
    }
    chi2 += accE > 0 ? (accO - accE) ** 2 / Math.max(accE, 1) : accO;
    df++;
    // Critical value far in the tail: mean df, sd sqrt(2 df); allow df + 8·sqrt(2df) + 10.
    expect(chi2).toBeLessThan(df + 8 * Math.sqrt(2 * df) + 10);
  });

  it('dim pixels: P(any spike) ≈ 0.54 for pixel 8, ≈ 0.020 for pixel 7, ~0 for pixel 6', () => {
    const reps = 40;
    const n = reps * INPUTS;
    const cases: [number, number, number][] = [
      [9, 0.97, 0.01],
      [8, 0.54, 0.01],
      [7, 0.02, 0.003],
    ];
    for (const [pixel, readme, readmeTol] of cases) {
      const exact = intervalPmf(lambdaOf(pixel), T).slice(1, T + 1).reduce((a, b) => a + b, 0);
      expect(Math.abs(exact - readme)).toBeLessThan(readmeTol);
      const { counts } = collect('bindsnet-poisson', pixel, reps, 10 + pixel);
      const any = counts.filter((c) => c > 0).length / n;
      expect(Math.abs(any - exact)).toBeLessThan(5 * Math.sqrt((exact * (1 - exact)) / n) + 1e-9);
    }
    // Pixel 6: P ≈ 1.5e-6 per train, so 31,360 trains expect 0.05 spikes.
    const six = collect('bindsnet-poisson', 6, reps, 6);
    expect(six.counts.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(2);
    // Pixels ≤ 5: probability < 1e-15.
    const five = collect('bindsnet-poisson', 5, 10, 5);
    expect(five.counts.reduce((a, b) => a + b, 0)).toBe(0);
  });

  it('high rates (λ ≈ 2): K = 0 intervals are bumped to 1 — first-interval law and count law hold', () => {
    const maxRate = 500;
    const lambda = lambdaOf(255, maxRate); // 2
    expect(lambda).toBe(2);
    const q = intervalPmf(lambda, T);
    expect(q[1]).toBeCloseTo(3 * Math.exp(-2), 12); // P(K=0) + P(K=1)
    const { counts, first } = collect('bindsnet-poisson', 255, 20, 31, maxRate);
    const n = first.length;
    for (const k of [1, 2, 3, 4]) {
      const observed = first.filter((c) => c === k).length;
      expect(Math.abs(observed - n * q[k])).toBeLessThan(5 * Math.sqrt(n * q[k] * (1 - q[k])));
    }
    const exact = renewalCountMoments(q, T);
    const m = moments(counts);
    expect(Math.abs(m.mean - exact.mean)).toBeLessThan(5 * Math.sqrt(exact.variance / counts.length));
    expect(Math.abs(m.variance - exact.variance)).toBeLessThan(6 * exact.variance * Math.sqrt(2 / counts.length));
    // Never two spikes in one step for one input, even at this rate.
    expect(Math.max(...counts)).toBeLessThanOrEqual(T);
  });

  it('zero pixels never spike; spikes are listed by step, ascending within a step, at most one per input per step', () => {
    const net = encoderNet('bindsnet-poisson', 9);
    const img = new Uint8Array(INPUTS);
    const u = mulberry32(9);
    for (let rep = 0; rep < 20; rep++) {
      for (let i = 0; i < INPUTS; i++) img[i] = u() < 0.7 ? 0 : Math.floor(u() * 256);
      const pairs = encode(net, img);
      const times = spikeTimes(pairs, img); // throws on any violation
      expect(net.inputSpikes).toBe(pairs.length / 2);
      // Every bright pixel spiked.
      for (let i = 0; i < INPUTS; i++) if (img[i] >= 100) expect(times[i].length).toBeGreaterThan(0);
    }
    // An all-zero image yields no spikes at all.
    expect(encode(net, new Uint8Array(INPUTS))).toEqual([]);
    expect(net.inputSpikes).toBe(0);
  });

  it('is deterministic for a given seed, and continues the network’s PRNG stream', () => {
    const img = uniformImage(200);
    const a = encoderNet('bindsnet-poisson', 5);
    const b = encoderNet('bindsnet-poisson', 5);
    const a1 = encode(a, img);
    expect(encode(b, img)).toEqual(a1);
    // The next sample draws on from where the last one stopped: different spikes, same law.
    const a2 = encode(a, img);
    expect(a2).not.toEqual(a1);
    expect(encode(b, img)).toEqual(a2);
    // Restoring the PRNG state restores the spikes.
    const c = encoderNet('bindsnet-poisson', 77);
    c.setState({ ...c.getState(), prng: new Uint32Array(b.rng.getState()) });
    expect(encode(c, img)).toEqual(encode(b, img));
  });

  it('re-presentation: runSample(…, extraRateHz) encodes at maxRateHz + extraRateHz', () => {
    const img = Uint8Array.from({ length: INPUTS }, (_, i) => (i * 7) % 256);
    const net = encoderNet('bindsnet-poisson', 12);
    for (const extra of [0, 32, 64, 0]) {
      const ref = encoderNet('bindsnet-poisson', 0, 128 + extra);
      ref.setState({ ...ref.getState(), prng: new Uint32Array(net.rng.getState()) });
      const want = encode(ref, img);
      expect(encode(net, img, extra)).toEqual(want);
      expect(Array.from(net.rng.getState())).toEqual(Array.from(ref.rng.getState()));
    }
    // A higher rate gives proportionally more input spikes (renewal law at 128 vs 256 Hz).
    const bright = uniformImage(255);
    let base = 0;
    let raised = 0;
    for (let k = 0; k < 5; k++) {
      base += encode(net, bright).length / 2;
      raised += encode(net, bright, 128).length / 2;
    }
    expect(raised / base).toBeGreaterThan(1.9);
    expect(raised / base).toBeLessThan(2.1);
  });
});

describe('bernoulli (poisson) encoder', () => {
  it('`poisson` and `bernoulli` are the same encoder', () => {
    const img = uniformImage(180);
    const a = encoderNet('poisson', 3);
    const b = encoderNet('bernoulli', 3);
    for (let k = 0; k < 3; k++) expect(encode(b, img)).toEqual(encode(a, img));
  });

  it('count mean ≈ 250·p and variance ≈ 250·p(1−p), p = r/1000', () => {
    for (const [pixel, seed] of [
      [255, 21],
      [60, 22],
    ]) {
      const p = rateOf(pixel) / 1000;
      const { counts } = collect('bernoulli', pixel, 30, seed);
      const n = counts.length;
      const mu = T * p;
      const v = T * p * (1 - p);
      const m = moments(counts);
      expect(Math.abs(m.mean - mu)).toBeLessThan(5 * Math.sqrt(v / n));
      expect(Math.abs(m.variance - v)).toBeLessThan(6 * v * Math.sqrt(2 / n) + 0.02 * v);
    }
  });

  it('is a Bernoulli process: per-step rate p, P(spike at t+1 | spike at t) = p, geometric intervals', () => {
    const pixel = 255;
    const p = rateOf(pixel) / 1000; // 0.128
    const { all } = collect('bernoulli', pixel, 30, 23);
    let spikes = 0;
    let pairs = 0;
    let followed = 0;
    const K = 12;
    const isiObserved = new Float64Array(K + 1);
    const isiExpected = new Float64Array(K + 1);
    for (const ts of all) {
      spikes += ts.length;
      const set = new Set(ts);
      for (const s of ts) {
        if (s + 1 < T) {
          pairs++;
          if (set.has(s + 1)) followed++;
        }
        // Given a spike at s, the next one comes k steps later with p(1−p)^(k−1) (Markov property).
        for (let k = 1; k <= K && s + k < T; k++) isiExpected[k] += p * (1 - p) ** (k - 1);
      }
      for (let a = 1; a < ts.length; a++) {
        const d = ts[a] - ts[a - 1];
        if (d <= K) isiObserved[d]++;
      }
    }
    const steps = all.length * T;
    expect(Math.abs(spikes / steps - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / steps));
    expect(Math.abs(followed / pairs - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / pairs));
    for (let k = 1; k <= K; k++) {
      const e = isiExpected[k];
      expect(Math.abs(isiObserved[k] - e)).toBeLessThan(5 * Math.sqrt(e) + 1);
    }
  });

  it('first spike time is geometric with mean ≈ 1/p', () => {
    const pixel = 40;
    const p = rateOf(pixel) / 1000; // ≈ 0.0201
    const { first, counts } = collect('bernoulli', pixel, 20, 24);
    const n = counts.length;
    const pNone = (1 - p) ** T;
    expect(Math.abs(counts.filter((c) => c === 0).length / n - pNone)).toBeLessThan(5 * Math.sqrt((pNone * (1 - pNone)) / n));
    // Mean of a geometric truncated to ≤ T.
    let num = 0;
    let den = 0;
    for (let k = 1; k <= T; k++) {
      const pk = p * (1 - p) ** (k - 1);
      num += k * pk;
      den += pk;
    }
    const mean = num / den;
    let var2 = 0;
    for (let k = 1; k <= T; k++) var2 += (k - mean) ** 2 * ((p * (1 - p) ** (k - 1)) / den);
    const m = moments(first);
    expect(Math.abs(m.mean - mean)).toBeLessThan(5 * Math.sqrt(var2 / first.length));
  });
});

describe('latency encoder', () => {
  it('exactly one spike per non-zero pixel at step round((1 − v/255)(T−1))', () => {
    for (const steps of [250, 100, 7]) {
      const net = encoderNet('latency', 1, 128, steps);
      const img = new Uint8Array(INPUTS);
      for (let i = 0; i < INPUTS; i++) img[i] = (i * 37) % 256; // every value 0..255, some zeros
      const pairs = encode(net, img);
      const times = spikeTimes(pairs, img, steps);
      let nonZero = 0;
      for (let i = 0; i < INPUTS; i++) {
        if (img[i] === 0) {
          expect(times[i]).toEqual([]);
          continue;
        }
        nonZero++;
        // Integer form: (255 − v)(T − 1)/255 is never exactly k + 1/2, so rounding is unambiguous.
        const want = Math.round(((255 - img[i]) * (steps - 1)) / 255);
        expect(times[i]).toEqual([want]);
      }
      expect(net.inputSpikes).toBe(nonZero);
      // Deterministic: no PRNG draws.
      const before = Array.from(net.rng.getState());
      encode(net, img);
      expect(Array.from(net.rng.getState())).toEqual(before);
    }
  });

  it('brighter pixels fire first: 255 at step 0, pixel 1 at round(254·249/255) = 248', () => {
    const net = encoderNet('latency', 0);
    const img = new Uint8Array(INPUTS);
    img[3] = 255;
    img[500] = 1;
    expect(encode(net, img)).toEqual([0, 3, 248, 500]);
    expect(net.inputSpikes).toBe(2);
  });
});
