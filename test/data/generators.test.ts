/**
 * The built-in generators: seeded and reproducible, balanced, and what they claim to draw —
 * checked statistically (bars lie along their labelled orientation; moving bars sweep in their
 * labelled direction, ON before OFF).
 */
import { describe, expect, it } from 'vitest';
import { movingBarDurationMs, movingBars, orientationOf, orientedBars, type MovingBarsParams, type OrientedBarsParams } from '../../src/data/generators.js';

const bars: OrientedBarsParams = { side: 16, orientations: 8, pattern: 'bar', barWidth: 2, jitter: 2, noise: 0.1, dataSeed: 5 };

/** Orientation (radians, [0, π)) of an image's principal axis: the intensity-weighted second moments. */
function principalAxis(img: Uint8Array, side: number): number {
  let m = 0, sx = 0, sy = 0;
  for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) { const w = img[y * side + x]; m += w; sx += w * x; sy += w * y; }
  const cx = sx / m, cy = sy / m;
  let xx = 0, yy = 0, xy = 0;
  for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) {
    const w = img[y * side + x];
    xx += w * (x - cx) ** 2; yy += w * (y - cy) ** 2; xy += w * (x - cx) * (y - cy);
  }
  const a = 0.5 * Math.atan2(2 * xy, xx - yy);
  return (a + Math.PI) % Math.PI;
}

const angleGap = (a: number, b: number) => { const d = Math.abs(a - b) % Math.PI; return Math.min(d, Math.PI - d); };

describe('oriented bars', () => {
  it('is reproducible from its seed, and a sample does not depend on how many are generated', () => {
    const a = orientedBars(bars, 'train', 50);
    const b = orientedBars(bars, 'train', 80);
    expect(Buffer.compare(Buffer.from(a.images), Buffer.from(b.images.subarray(0, a.images.length)))).toBe(0);
    expect(Buffer.compare(Buffer.from(a.images), Buffer.from(orientedBars({ ...bars, dataSeed: 6 }, 'train', 50).images))).not.toBe(0);
    expect(Buffer.compare(Buffer.from(a.images), Buffer.from(orientedBars(bars, 'test', 50).images))).not.toBe(0);
    expect(Array.from(a.labels.subarray(0, 10))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 0, 1]);
  });

  it('draws each bar along its labelled orientation (principal axis within 6° for ≥ 95 % of 800 noisy samples)', () => {
    const n = 800;
    const set = orientedBars({ ...bars, noise: 0.05 }, 'train', n);
    let close = 0;
    for (let k = 0; k < n; k++) {
      const axis = principalAxis(set.images.subarray(k * 256, (k + 1) * 256), 16);
      if (angleGap(axis, orientationOf(set.labels[k], 8)) < (6 * Math.PI) / 180) close++;
    }
    expect(close / n).toBeGreaterThanOrEqual(0.95);
    // And with the labels shifted by one orientation (22.5° off) almost none match: the check can fail.
    let shifted = 0;
    for (let k = 0; k < n; k++) {
      const axis = principalAxis(set.images.subarray(k * 256, (k + 1) * 256), 16);
      if (angleGap(axis, orientationOf((set.labels[k] + 1) % 8, 8)) < (6 * Math.PI) / 180) shifted++;
    }
    expect(shifted / n).toBeLessThan(0.05);
  });

  it('adds noise with the requested spread: background pixels have mean ≈ 0.4·σ·255 (half-normal, clipped at 0)', () => {
    const sigma = 0.1;
    const set = orientedBars({ ...bars, barWidth: 1, noise: sigma, jitter: 0 }, 'train', 200);
    // Horizontal bars (label 0) through the centre leave the top and bottom rows as background.
    let sum = 0, count = 0;
    for (let k = 0; k < 200; k += 8) for (let x = 0; x < 16; x++) for (const y of [0, 15]) { sum += set.images[k * 256 + y * 16 + x]; count++; }
    const expected = 255 * sigma * (1 / Math.sqrt(2 * Math.PI)); // E[max(0, N(0, σ²))] = σ/√(2π)
    expect(sum / count).toBeGreaterThan(expected * 0.8);
    expect(sum / count).toBeLessThan(expected * 1.2);
  });
});

describe('moving bars', () => {
  const p: MovingBarsParams = { side: 16, directions: 8, barWidth: 2, speed: 0.1, eventProbability: 1, noiseHz: 0, dataSeed: 1 };

  it('sweeps in the labelled direction: event time grows along it (correlation > 0.95), ON before OFF', () => {
    const { samples, labels } = movingBars(p, 'train', 8);
    for (let k = 0; k < 8; k++) {
      const e = samples[k];
      const phi = (2 * Math.PI * labels[k]) / 8;
      const on: number[][] = [];
      for (let i = 0; i < e.tUs.length; i++) if (e.p[i] === 1) on.push([(e.x[i] - 7.5) * Math.cos(phi) + (e.y[i] - 7.5) * Math.sin(phi), e.tUs[i]]);
      expect(on.length).toBe(256);
      const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
      const mx = mean(on.map((r) => r[0])), mt = mean(on.map((r) => r[1]));
      let sxy = 0, sxx = 0, syy = 0;
      for (const [x, t] of on) { sxy += (x - mx) * (t - mt); sxx += (x - mx) ** 2; syy += (t - mt) ** 2; }
      expect(sxy / Math.sqrt(sxx * syy)).toBeGreaterThan(0.95);
      // Each pixel's OFF event comes barWidth/speed = 20 ms after its ON event (±1 ms jitter).
      const onAt = new Map<number, number>();
      for (let i = 0; i < e.tUs.length; i++) if (e.p[i] === 1) onAt.set(e.y[i] * 16 + e.x[i], e.tUs[i]);
      for (let i = 0; i < e.tUs.length; i++) {
        if (e.p[i] === 0) {
          const gap = e.tUs[i] - onAt.get(e.y[i] * 16 + e.x[i])!;
          expect(gap).toBeGreaterThan(18_900);
          expect(gap).toBeLessThan(21_100);
        }
      }
      // Sorted by time, within the sweep.
      for (let i = 1; i < e.tUs.length; i++) expect(e.tUs[i]).toBeGreaterThanOrEqual(e.tUs[i - 1]);
      expect(e.tUs[e.tUs.length - 1]).toBeLessThanOrEqual(movingBarDurationMs(p) * 1000);
    }
  });

  it('drops events with probability 1 − eventProbability and adds noise at noiseHz', () => {
    const { samples } = movingBars({ ...p, eventProbability: 0.5, noiseHz: 0 }, 'train', 20);
    const mean = samples.reduce((s, e) => s + e.tUs.length, 0) / 20;
    // 512 possible events at p = 0.5: mean 256, sd of the mean over 20 samples ≈ 2.5.
    expect(mean).toBeGreaterThan(246);
    expect(mean).toBeLessThan(266);
    const noisy = movingBars({ ...p, noiseHz: 20 }, 'train', 20);
    const extra = noisy.samples.reduce((s, e) => s + e.tUs.length - 512, 0) / 20;
    const expected = (256 * 20 * movingBarDurationMs(p)) / 1000;
    expect(extra).toBeGreaterThan(expected * 0.9);
    expect(extra).toBeLessThan(expected * 1.1);
  });
});

describe('generator bounds', () => {
  it('a generated set larger than 512 MiB is a definition error naming dataset.train', async () => {
    const { resolveDefinition } = await import('../../src/experiment/presets.js');
    const { compileDefinition, DefinitionError } = await import('../../src/experiment/topology.js');
    const ok = resolveDefinition({ preset: 'diehl-cook-2015', dataset: { name: 'moving-bars', side: 32, train: 10000, test: 1000 } });
    expect(() => compileDefinition(ok)).not.toThrow();
    const big = resolveDefinition({ preset: 'diehl-cook-2015', dataset: { name: 'moving-bars', side: 64, train: 60000, test: 1000 } });
    expect(() => compileDefinition(big)).toThrow(DefinitionError);
    expect(() => compileDefinition(big)).toThrow(/dataset.train: 61,000 generated 64×64 samples would take about 4289 MiB; at most 512 MiB/);
  });
});
