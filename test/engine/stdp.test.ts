/**
 * Post-pre STDP on a hand-built tiny weight matrix: exactly which entries change, by how much,
 * in which float32 op order, and the clamp.
 */
import { describe, expect, it } from 'vitest';
import { adaptiveLifParams } from '../../src/engine/adaptive-lif.js';
import { createJsExcKernel, createWasmExcKernel, loadExcKernelModule, type ExcKernel } from '../../src/engine/exc-kernel.js';
import { decayFactor } from '../../src/engine/lif.js';
import { depressActiveColumns, potentiateColumn, traceTable, type PostPreParams } from '../../src/engine/stdp.js';

const f = Math.fround;
const AE = { restMv: -65, resetMv: -60, thresholdMv: -52, refractoryMs: 5, tauMs: 100, thetaPlusMv: 0.05, tauThetaMs: 1e7 };
const P: PostPreParams = { nuPre: f(1e-4), nuPost: f(1e-2), wMin: 0, wMax: 1 };
const INPUTS = 6;
const NEURONS = 5;

function bitsOf(a: Float32Array): number[] {
  return Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
}

/** w[i][j] = 0.1 + 0.01·i + 0.001·j (all distinct, well inside [0, 1]). */
function fill(k: ExcKernel): void {
  k.weights.fill(0);
  for (let i = 0; i < INPUTS; i++) for (let j = 0; j < NEURONS; j++) k.weights[i * k.stride + j] = f(0.1 + 0.01 * i + 0.001 * j);
}

async function bothKernels(): Promise<ExcKernel[]> {
  const p = adaptiveLifParams(AE, 1);
  return [createJsExcKernel(p, INPUTS, NEURONS), createWasmExcKernel(await loadExcKernelModule(), p, INPUTS, NEURONS)];
}

describe('traceTable', () => {
  it('tab[k] is k float32 multiplications of 1 by the decay, ≈ exp(−k·dt/τ)', () => {
    const d = decayFactor(1, 20);
    const tab = traceTable(d, 250);
    expect(tab.length).toBe(251);
    let x = 1;
    for (let k = 0; k <= 250; k++) {
      expect(tab[k]).toBe(x);
      expect(Math.abs(tab[k] - d ** k)).toBeLessThan(1e-6);
      x = f(x * d);
    }
    expect(Math.abs(tab[20] - Math.exp(-1))).toBeLessThan(1e-6);
  });
});

describe('depressActiveColumns', () => {
  it('w −= nuPre·xPost only at (spiking input rows × active, non-spiking columns)', async () => {
    for (const k of await bothKernels()) {
      fill(k);
      const before = Float32Array.from(k.weights);
      const postTrace = Float32Array.from([0.5, 0, 0.25, 1, 0.8]);
      const postActive = Int32Array.from([0, 2, 3, 4]); // neurons that fired this sample
      const spikingNow = Uint8Array.from([0, 0, 0, 1, 0]); // neuron 3 spikes now (handled by potentiation)
      k.setSpikingInputs(Uint16Array.from([1, 4]), 0, 2);
      depressActiveColumns(P, k, postActive, postActive.length, postTrace, spikingNow);
      for (let i = 0; i < INPUTS; i++)
        for (let j = 0; j < k.stride; j++) {
          const e = i * k.stride + j;
          if ((i === 1 || i === 4) && [0, 2, 4].includes(j)) {
            expect(k.weights[e]).toBe(f(before[e] - f(P.nuPre * postTrace[j])));
            expect(k.weights[e]).toBeLessThan(before[e]);
          } else {
            expect(bitsOf(k.weights.subarray(e, e + 1))).toEqual(bitsOf(before.subarray(e, e + 1)));
          }
        }
    }
  });

  it('clamps at wMin and does nothing without active columns', async () => {
    for (const k of await bothKernels()) {
      fill(k);
      k.weights[2 * k.stride + 1] = f(0.00003);
      const postTrace = Float32Array.from([0, 1, 0, 0, 0]);
      k.setSpikingInputs(Uint16Array.from([2]), 0, 1);
      depressActiveColumns(P, k, Int32Array.from([1]), 1, postTrace, new Uint8Array(NEURONS));
      expect(k.weights[2 * k.stride + 1]).toBe(0);
      const before = Float32Array.from(k.weights);
      depressActiveColumns(P, k, Int32Array.from([1]), 0, postTrace, new Uint8Array(NEURONS));
      // All active columns spiking now: nothing to depress here either.
      depressActiveColumns(P, k, Int32Array.from([1]), 1, postTrace, Uint8Array.from([0, 1, 0, 0, 0]));
      expect(bitsOf(k.weights)).toEqual(bitsOf(before));
    }
  });

  it('with a positive wMin the floor is wMin', async () => {
    const [k] = await bothKernels();
    fill(k);
    k.weights[3 * k.stride + 0] = f(0.05);
    k.setSpikingInputs(Uint16Array.from([3]), 0, 1);
    depressActiveColumns({ ...P, nuPre: f(0.5), wMin: f(0.04) }, k, Int32Array.from([0]), 1, Float32Array.from([1, 0, 0, 0, 0]), new Uint8Array(NEURONS));
    expect(k.weights[3 * k.stride]).toBe(f(0.04));
  });
});

describe('potentiateColumn', () => {
  const d = decayFactor(1, 20);
  const tab = traceTable(d, 250);

  function setup() {
    const stride = 16;
    const w = new Float32Array(INPUTS * stride);
    for (let i = 0; i < INPUTS; i++) for (let j = 0; j < NEURONS; j++) w[i * stride + j] = f(0.1 + 0.01 * i + 0.001 * j);
    return { w, stride };
  }

  it('w += nuPost·xPre(t − lastSpike) in the spiking column only, for inputs with a trace', () => {
    const { w, stride } = setup();
    const before = Float32Array.from(w);
    const t = 40;
    // Input 0 never spiked (no trace), 1 spiked 3 steps ago, 2 at t−25, 3 not a candidate, 5 at 0.
    const lastSpike = Int32Array.from([-1, t - 3, t - 25, t - 1, -1, 0]);
    const candidates = Uint16Array.from([0, 1, 2, 5]);
    const j = 2;
    potentiateColumn(P, w, stride, j, candidates, candidates.length, lastSpike, tab, t, 1);
    for (let i = 0; i < INPUTS; i++)
      for (let c = 0; c < stride; c++) {
        const e = i * stride + c;
        if (c === j && (i === 1 || i === 2 || i === 5)) {
          const x = tab[t - lastSpike[i]];
          expect(w[e]).toBe(f(before[e] + f(P.nuPost * x)));
          expect(w[e]).toBeGreaterThan(before[e]);
        } else {
          expect(bitsOf(w.subarray(e, e + 1))).toEqual(bitsOf(before.subarray(e, e + 1)));
        }
      }
    // Magnitudes: trace e^{-3/20} and e^{-25/20}.
    expect(Math.abs(w[1 * stride + j] - before[1 * stride + j] - 0.01 * Math.exp(-3 / 20))).toBeLessThan(1e-8);
    expect(Math.abs(w[2 * stride + j] - before[2 * stride + j] - 0.01 * Math.exp(-25 / 20))).toBeLessThan(1e-8);
  });

  it('an entry both pre- and post-spiking now gets w − nuPre·1 + nuPost·1 (that op order), then clamp', () => {
    const { w, stride } = setup();
    const before = Float32Array.from(w);
    const t = 17;
    const lastSpike = Int32Array.from([t, -1, t, 3, -1, -1]);
    const candidates = Uint16Array.from([0, 2, 3]);
    potentiateColumn(P, w, stride, 4, candidates, candidates.length, lastSpike, tab, t, 1);
    for (const i of [0, 2]) {
      const e = i * stride + 4;
      expect(w[e]).toBe(f(f(before[e] - P.nuPre) + P.nuPost));
      expect(Math.abs(w[e] - (before[e] - 1e-4 + 1e-2))).toBeLessThan(1e-7);
    }
    expect(w[3 * stride + 4]).toBe(f(before[3 * stride + 4] + f(P.nuPost * tab[t - 3])));
  });

  it('clamps to [wMin, wMax]', () => {
    const { w, stride } = setup();
    w[1 * stride + 0] = f(0.999);
    w[2 * stride + 0] = f(0.00005);
    const t = 5;
    const lastSpike = Int32Array.from([-1, t - 1, t, -1, -1, -1]);
    // nuPre large enough to push input 2 below zero despite nuPost.
    potentiateColumn({ ...P, nuPre: f(0.5) }, w, stride, 0, Uint16Array.from([1, 2]), 2, lastSpike, tab, t, 1);
    expect(w[1 * stride]).toBe(1);
    expect(w[2 * stride]).toBe(0);
    // And a custom range.
    const { w: w2 } = setup();
    potentiateColumn({ nuPre: 0, nuPost: f(10), wMin: f(0.2), wMax: f(0.5) }, w2, stride, 1, Uint16Array.from([1]), 1, lastSpike, tab, t, 1);
    expect(w2[1 * stride + 1]).toBe(f(0.5));
  });
});
