/**
 * Built-in datasets generated from a seed (no download): the founding description's own
 * experiments, oriented bars (its Figure 1: a network learning the orientations of its input) and
 * moving bars as DVS-like address-events (its references [3], [4]).
 *
 * Every sample is drawn from its own PRNG seeded by (dataSeed, split, index), so a sample does not
 * depend on how many others were generated: `train: 1000` and `train: 2000` share their first 1000.
 * Labels are balanced (sample k has class k mod K); the run shuffles training order itself.
 */
import { createRng } from '../engine/network.js';
import type { Prng } from '../engine/prng.js';
import type { EventStream } from './events.js';

export type Split = 'train' | 'test';

/** A 32-bit mix of the seed, split and index (splitmix-like) so neighbouring samples get unrelated streams. */
function sampleSeed(dataSeed: number, split: Split, index: number): number {
  let h = (dataSeed ^ (split === 'train' ? 0x3c6ef372 : 0xa54ff53a)) >>> 0;
  h = Math.imul(h ^ (index + 0x9e3779b9), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

function gaussian(rng: Prng): number {
  // Box–Muller; 1 − u keeps the log argument in (0, 1].
  const u = 1 - rng.nextDouble();
  const v = rng.nextDouble();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

export interface OrientedBarsParams {
  side: number;
  orientations: number;
  pattern: 'bar' | 'grating';
  barWidth: number;
  jitter: number;
  noise: number;
  dataSeed: number;
}

export interface GeneratedImages {
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
}

/** Orientation of class c in radians: c·π/K (0 = horizontal bar, increasing counter-clockwise). */
export const orientationOf = (c: number, k: number) => (c * Math.PI) / k;

/** One oriented-bar image into `out` (side² bytes). */
export function drawOrientedBar(p: OrientedBarsParams, label: number, rng: Prng, out: Uint8Array): void {
  const { side, barWidth, jitter, noise } = p;
  const theta = orientationOf(label, p.orientations);
  // Signed distance from the bar's centre line, measured along its normal (−sinθ, cosθ).
  const nx = -Math.sin(theta);
  const ny = Math.cos(theta);
  const offset = (rng.nextDouble() * 2 - 1) * jitter;
  const phase = rng.nextDouble() * 2 * Math.PI;
  const c = (side - 1) / 2;
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const d = (x - c) * nx + (y - c) * ny - offset;
      let v: number;
      if (p.pattern === 'bar') {
        // Anti-aliased: full inside the bar, a one-pixel linear ramp at its edges.
        v = Math.min(1, Math.max(0, barWidth / 2 + 0.5 - Math.abs(d)));
      } else {
        v = 0.5 + 0.5 * Math.cos((2 * Math.PI * d) / Math.max(barWidth, 2) + phase);
      }
      if (noise > 0) v += noise * gaussian(rng);
      out[y * side + x] = Math.round(Math.min(1, Math.max(0, v)) * 255);
    }
  }
}

export function orientedBars(p: OrientedBarsParams, split: Split, count: number): GeneratedImages {
  const n = p.side * p.side;
  const images = new Uint8Array(count * n);
  const labels = new Uint8Array(count);
  const rng = createRng(0);
  for (let k = 0; k < count; k++) {
    const label = k % p.orientations;
    labels[k] = label;
    rng.seed(sampleSeed(p.dataSeed, split, k));
    drawOrientedBar(p, label, rng, images.subarray(k * n, (k + 1) * n));
  }
  return { images, labels, count };
}

export interface MovingBarsParams {
  side: number;
  directions: number;
  barWidth: number;
  /** Pixels per ms. */
  speed: number;
  eventProbability: number;
  noiseHz: number;
  dataSeed: number;
}

/** Direction of class c in radians: c·2π/K (0 = moving towards +x, increasing counter-clockwise in image coordinates). */
export const directionOf = (c: number, k: number) => (2 * Math.PI * c) / k;

/** Time (ms) a bar needs to cross the whole field: the field's diagonal plus the bar's width. */
export function movingBarDurationMs(p: Pick<MovingBarsParams, 'side' | 'barWidth' | 'speed'>): number {
  const radius = (Math.SQRT2 * (p.side - 1)) / 2;
  return (2 * radius + p.barWidth) / p.speed;
}

/**
 * A bright bar of width `barWidth` sweeping across the field in direction `label`: each pixel its
 * leading edge reaches emits an ON event (polarity 1), and an OFF event (polarity 0) when the
 * trailing edge leaves it, each kept with probability `eventProbability` and jittered by up to
 * ±0.5 ms; plus uniform noise events at `noiseHz` per pixel. Sorted by time.
 */
export function movingBarEvents(p: MovingBarsParams, label: number, rng: Prng): EventStream {
  const { side, speed, barWidth } = p;
  const phi = directionOf(label, p.directions);
  const ux = Math.cos(phi);
  const uy = Math.sin(phi);
  const c = (side - 1) / 2;
  const radius = (Math.SQRT2 * (side - 1)) / 2;
  const durationMs = movingBarDurationMs(p);
  const xs: number[] = [];
  const ys: number[] = [];
  const ts: number[] = [];
  const ps: number[] = [];
  const push = (x: number, y: number, tMs: number, pol: number) => {
    const t = Math.min(durationMs, Math.max(0, tMs));
    xs.push(x);
    ys.push(y);
    ts.push(Math.round(t * 1000));
    ps.push(pol);
  };
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const proj = (x - c) * ux + (y - c) * uy;
      const tOn = (proj + radius) / speed;
      const tOff = tOn + barWidth / speed;
      if (rng.nextDouble() < p.eventProbability) push(x, y, tOn + rng.nextDouble() - 0.5, 1);
      if (rng.nextDouble() < p.eventProbability) push(x, y, tOff + rng.nextDouble() - 0.5, 0);
    }
  }
  // Noise: the expected count side²·noiseHz·duration, drawn as a Poisson by counting exponential gaps.
  const rate = (side * side * p.noiseHz * durationMs) / 1000;
  if (rate > 0) {
    for (let acc = -Math.log(1 - rng.nextDouble()); acc < rate; acc += -Math.log(1 - rng.nextDouble())) {
      push(rng.below(side), rng.below(side), rng.nextDouble() * durationMs, rng.below(2));
    }
  }
  const order = ts.map((_, i) => i).sort((a, b) => ts[a] - ts[b] || a - b);
  return {
    x: Uint16Array.from(order, (i) => xs[i]),
    y: Uint16Array.from(order, (i) => ys[i]),
    tUs: Uint32Array.from(order, (i) => ts[i]),
    p: Uint8Array.from(order, (i) => ps[i]),
  };
}

export function movingBars(p: MovingBarsParams, split: Split, count: number): { samples: EventStream[]; labels: Uint8Array } {
  const samples: EventStream[] = [];
  const labels = new Uint8Array(count);
  const rng = createRng(0);
  for (let k = 0; k < count; k++) {
    labels[k] = k % p.directions;
    rng.seed(sampleSeed(p.dataSeed, split, k));
    samples.push(movingBarEvents(p, labels[k], rng));
  }
  return { samples, labels };
}
