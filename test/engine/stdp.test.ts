/**
 * Post-pre STDP (BindsNET PostPre) in the kernel on a hand-built tiny weight matrix: exactly which
 * entries change, by how much, in which float32 op order, and the clamp.
 *
 * Six "learning" inputs (0–5) have small weights w[i][j] = 0.1 + 0.01·i + 0.001·j; five "driver"
 * inputs (6–10) make neuron j cross at step s by spiking at s − 1 with weight 1 (the threshold is
 * 1 mV above rest). Traces τ = 20 ms; nuPre = 1e-4, nuPost = 1e-2.
 */
import { describe, expect, it } from 'vitest';
import type { PlasticitySpec } from '../../src/engine/spec.js';
import { decayFactor } from '../../src/engine/spec.js';
import { bits, f, run, spikeTrain, tinyNet, trace } from './tiny.js';

const L = 6;
const N = 5;
const DRIVER = L;
const nuPre = f(1e-4);
const nuPost = f(1e-2);
const POST_PRE: PlasticitySpec = { rule: 'post-pre', nuPre: 1e-4, nuPost: 1e-2 };
const d = decayFactor(1, 20);

function w0(i: number, j: number): number {
  return f(0.1 + 0.01 * i + 0.001 * j);
}

interface Setup {
  steps: number;
  pre: [number, number][]; // (step, learning input)
  post: [number, number][]; // (step, neuron): its driver spikes the step before
  plasticity?: PlasticitySpec;
  wMin?: number;
  wMax?: number;
  set?: [number, number, number][]; // (i, j, w) overrides
}

function simulate(s: Setup): { before: Float32Array; after: Float32Array; exc: number[] } {
  const wMin = s.wMin ?? 0;
  const weights = Array.from({ length: L + N }, (_, i) =>
    Array.from({ length: N }, (_, j) => (i < L ? w0(i, j) : i - DRIVER === j ? 1 : wMin)),
  );
  for (const [i, j, w] of s.set ?? []) weights[i][j] = w;
  const net = tinyNet(
    {
      inputs: L + N,
      neurons: N,
      steps: s.steps,
      excitatory: { thresholdMv: -64, resetMv: -65 },
      dense: { init: { dist: 'constant', value: wMin }, wMin, wMax: s.wMax ?? 1, plasticity: s.plasticity ?? POST_PRE },
    },
    weights,
  );
  const before = net.denseWeights();
  const events: [number, number][] = [...s.pre, ...s.post.map(([t, j]) => [t - 1, DRIVER + j] as [number, number])];
  const rec = run(net, spikeTrain(s.steps, events), true, []);
  return { before, after: net.denseWeights(), exc: rec.excitatory };
}

const at = (w: Float32Array, i: number, j: number) => w[i * N + j];
const sameBitsAt = (a: Float32Array, b: Float32Array, i: number, j: number) => bits(a)[i * N + j] === bits(b)[i * N + j];

describe('post-pre depression (pre spike)', () => {
  it('w −= nuPre·y_j only at (inputs spiking now × columns with a post trace that do not spike now)', () => {
    const t = 20;
    const posts: [number, number][] = [
      [5, 0],
      [12, 2],
      [17, 4],
      [t, 3],
    ];
    const { before, after, exc } = simulate({ steps: t + 1, pre: [[t, 1], [t, 4]], post: posts });
    expect(exc).toEqual([5, 0, 12, 2, 17, 4, 20, 3]);
    const last = new Map(posts.map(([s, j]) => [j, s]));
    for (let i = 0; i < L; i++)
      for (let j = 0; j < N; j++) {
        const w = at(before, i, j);
        if ((i === 1 || i === 4) && [0, 2, 4].includes(j)) {
          const y = trace(d, t - last.get(j)!);
          expect(at(after, i, j)).toBe(f(w - f(y * nuPre)));
          expect(at(after, i, j)).toBeLessThan(w);
        } else if ((i === 1 || i === 4) && j === 3) {
          // Spiking now: depressed once (y = 1) inside the potentiation, then potentiated (x = 1).
          expect(at(after, i, j)).toBe(f(f(w - nuPre) + nuPost));
        } else {
          expect(sameBitsAt(after, before, i, j), `w[${i}][${j}]`).toBe(true);
        }
      }
  });

  it('clamps at wMin, and does nothing while no neuron has a post trace', () => {
    const a = simulate({ steps: 12, pre: [[11, 2]], post: [[4, 1]], set: [[2, 1, f(0.00003)]] });
    expect(at(a.after, 2, 1)).toBe(0);
    // Input spikes before any post spike: no depression anywhere.
    const b = simulate({ steps: 12, pre: [[1, 0], [2, 3], [3, 5]], post: [] });
    for (let i = 0; i < L; i++) for (let j = 0; j < N; j++) expect(sameBitsAt(b.after, b.before, i, j)).toBe(true);
  });

  it('with a positive wMin the floor is wMin', () => {
    const { after } = simulate({
      steps: 8,
      pre: [[7, 3]],
      post: [[2, 0]],
      plasticity: { rule: 'post-pre', nuPre: 0.5, nuPost: 1e-2 },
      wMin: 0.04,
      set: [[3, 0, f(0.05)]],
    });
    expect(at(after, 3, 0)).toBe(f(0.04));
  });
});

describe('post-pre potentiation (post spike)', () => {
  it('w += nuPost·x_i, x_i = k float32 decays of 1 after the input’s last spike, in the spiking column only', () => {
    const t = 40;
    // Input 0 and 4 never spike, 1 spiked 3 steps ago, 2 at t−25, 3 at t−1, 5 at step 0.
    const lastSpike = [-1, t - 3, t - 25, t - 1, -1, 0];
    const pre = lastSpike.flatMap((s, i) => (s >= 0 ? [[s, i] as [number, number]] : []));
    const j = 2;
    const { before, after, exc } = simulate({ steps: t + 1, pre, post: [[t, j]] });
    expect(exc).toEqual([t, j]);
    for (let i = 0; i < L; i++)
      for (let c = 0; c < N; c++) {
        if (c === j && lastSpike[i] >= 0) {
          const x = trace(d, t - lastSpike[i]);
          expect(at(after, i, c)).toBe(f(at(before, i, c) + f(nuPost * x)));
          expect(at(after, i, c)).toBeGreaterThan(at(before, i, c));
        } else {
          expect(sameBitsAt(after, before, i, c), `w[${i}][${c}]`).toBe(true);
        }
      }
    // Magnitudes: traces e^{−3/20}, e^{−25/20}, e^{−40/20}.
    expect(Math.abs(at(after, 1, j) - at(before, 1, j) - 0.01 * Math.exp(-3 / 20))).toBeLessThan(1e-8);
    expect(Math.abs(at(after, 2, j) - at(before, 2, j) - 0.01 * Math.exp(-25 / 20))).toBeLessThan(1e-8);
    expect(Math.abs(at(after, 5, j) - at(before, 5, j) - 0.01 * Math.exp(-40 / 20))).toBeLessThan(1e-8);
  });

  it('an entry both pre- and post-spiking now gets w − nuPre·1 + nuPost·1 (that op order), then clamp', () => {
    const t = 17;
    const { before, after } = simulate({ steps: t + 1, pre: [[t, 0], [t, 2], [3, 3]], post: [[t, 4]] });
    for (const i of [0, 2]) {
      expect(at(after, i, 4)).toBe(f(f(at(before, i, 4) - nuPre) + nuPost));
      expect(Math.abs(at(after, i, 4) - (at(before, i, 4) - 1e-4 + 1e-2))).toBeLessThan(1e-7);
    }
    expect(at(after, 3, 4)).toBe(f(at(before, 3, 4) + f(nuPost * trace(d, t - 3))));
    // No other column had a post trace: the pre spikes depress nothing else.
    for (let i = 0; i < L; i++) for (let j = 0; j < 4; j++) expect(sameBitsAt(after, before, i, j)).toBe(true);
  });

  it('clamps to [wMin, wMax]', () => {
    const t = 5;
    const { after } = simulate({
      steps: t + 1,
      pre: [[t - 1, 1], [t, 2]],
      post: [[t, 0]],
      // nuPre large enough to push input 2 below zero despite nuPost.
      plasticity: { rule: 'post-pre', nuPre: 0.5, nuPost: 1e-2 },
      set: [
        [1, 0, f(0.999)],
        [2, 0, f(0.00005)],
      ],
    });
    expect(at(after, 1, 0)).toBe(1);
    expect(at(after, 2, 0)).toBe(0);
    // And a custom range.
    const b = simulate({
      steps: t + 1,
      pre: [[t - 1, 1]],
      post: [[t, 1]],
      plasticity: { rule: 'post-pre', nuPre: 0, nuPost: 10 },
      wMin: 0.2,
      wMax: 0.5,
      set: [[1, 1, f(0.3)]],
    });
    expect(at(b.after, 1, 1)).toBe(f(0.5));
  });
});
