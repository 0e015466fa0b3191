/**
 * The excitatory kernel: the WASM SIMD kernel and the plain-JS reference must be bit-identical,
 * and both must compute the documented input current (float32 sum of the spiking inputs' rows,
 * in spike order, then (Σ + extra) + uniform).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { adaptiveLifParams, type AdaptiveLifParams } from '../../src/engine/adaptive-lif.js';
import { BLOCK, createJsExcKernel, createWasmExcKernel, loadExcKernelModule, paddedStride, type ExcKernel } from '../../src/engine/exc-kernel.js';

const f = Math.fround;
const AE = { restMv: -65, resetMv: -60, thresholdMv: -52, refractoryMs: 5, tauMs: 100, thetaPlusMv: 0.05, tauThetaMs: 1e7 };

let mod: WebAssembly.Module;
beforeAll(async () => {
  mod = await loadExcKernelModule();
});

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

function u32(a: Float32Array | Int32Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length);
}

function firstDiff(a: Uint32Array, b: Uint32Array): number {
  if (a.length !== b.length) return -2;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

function kernels(p: AdaptiveLifParams, inputs: number, neurons: number): [ExcKernel, ExcKernel] {
  return [createJsExcKernel(p, inputs, neurons), createWasmExcKernel(mod, p, inputs, neurons)];
}

describe('paddedStride', () => {
  it('rounds up to a multiple of 16', () => {
    expect(BLOCK).toBe(16);
    expect(paddedStride(1)).toBe(16);
    expect(paddedStride(16)).toBe(16);
    expect(paddedStride(17)).toBe(32);
    expect(paddedStride(100)).toBe(112);
  });
});

describe('exc kernels: structure', () => {
  it('both kernels start at the same state with θ = +∞ on padding lanes', () => {
    const p = adaptiveLifParams(AE, 1);
    const [js, wasm] = kernels(p, 20, 37);
    for (const k of [js, wasm]) {
      expect(k.stride).toBe(48);
      expect(k.weights.length).toBe(20 * 48);
      for (let j = 0; j < 48; j++) expect(k.state.theta[j]).toBe(j < 37 ? 0 : Infinity);
    }
    expect(js.kind).toBe('js');
    expect(wasm.kind).toBe('wasm');
  });
});

describe('exc kernels: input current', () => {
  it('equals the float32 sum of the selected weight rows, in spike order, then + extra + uniform', () => {
    // rest = 0 and an unreachable threshold make v after one step from rest equal to the input exactly.
    const p = adaptiveLifParams({ ...AE, restMv: 0, resetMv: 0, thresholdMv: 1e30 }, 1);
    const inputs = 40;
    const neurons = 21;
    const rnd = lcg(5);
    for (const k of kernels(p, inputs, neurons)) {
      const stride = k.stride;
      for (let e = 0; e < inputs * stride; e++) k.weights[e] = f(rnd() * 3 - 1);
      const rows = Uint16Array.from([7, 3, 39, 0, 12, 3 + 8, 25]);
      for (const [extraVal, uniform] of [
        [0, 0],
        [0.37, -1.25],
      ]) {
        k.state.v.fill(0);
        k.state.refractory.fill(0);
        k.extra.fill(0);
        k.extra[4] = f(extraVal);
        k.setSpikingInputs(Uint16Array.from([999, ...rows]), 1, rows.length); // start offset honoured
        expect(k.step(uniform, false)).toBe(0);
        for (let j = 0; j < neurons; j++) {
          let acc = 0;
          for (const r of rows) acc = f(acc + k.weights[r * stride + j]);
          const want = f(f(acc + (j === 4 ? f(extraVal) : 0)) + f(uniform));
          expect(k.state.v[j]).toBe(want);
          // And it is the real sum to float32 accuracy.
          let exact = 0;
          for (const r of rows) exact += k.weights[r * stride + j];
          exact += (j === 4 ? f(extraVal) : 0) + uniform;
          expect(Math.abs(k.state.v[j] - exact)).toBeLessThan(1e-5);
        }
      }
      // No spiking inputs: no current (v stays at rest = 0).
      k.state.v.fill(0);
      k.extra.fill(0);
      k.setSpikingInputs(new Uint16Array(0), 0, 0);
      k.step(0, false);
      for (let j = 0; j < neurons; j++) expect(k.state.v[j]).toBe(0);
    }
  });
});

describe('exc kernels: depress', () => {
  it('subtracts depAmounts[a] from column depColumns[a] of the spiking rows only, clamped below at wMin', () => {
    const p = adaptiveLifParams(AE, 1);
    const inputs = 10;
    const rnd = lcg(8);
    for (const k of kernels(p, inputs, 20)) {
      const stride = k.stride;
      for (let e = 0; e < inputs * stride; e++) k.weights[e] = f(rnd() * 0.01);
      k.weights[2 * stride + 5] = f(0.00001); // will clamp to wMin
      const before = Float32Array.from(k.weights);
      k.setSpikingInputs(Uint16Array.from([2, 6]), 0, 2);
      k.depColumns.set([5, 11, 19]);
      k.depAmounts.set([f(0.001), f(0.0002), f(0.003)]);
      k.depress(3, 0);
      for (let i = 0; i < inputs; i++)
        for (let j = 0; j < stride; j++) {
          const e = i * stride + j;
          const a = [5, 11, 19].indexOf(j);
          if ((i === 2 || i === 6) && a >= 0) {
            const w = f(before[e] - k.depAmounts[a]);
            expect(k.weights[e]).toBe(w < 0 ? 0 : w);
          } else {
            expect(u32(k.weights.subarray(e, e + 1))[0]).toBe(u32(before.subarray(e, e + 1))[0]);
          }
        }
      expect(k.weights[2 * stride + 5]).toBe(0);
    }
  });
});

describe('exc kernels: WASM ≡ JS', () => {
  function compare(js: ExcKernel, wasm: ExcKernel, where: string): void {
    const checks: [string, Uint32Array, Uint32Array][] = [
      ['v', u32(js.state.v), u32(wasm.state.v)],
      ['theta', u32(js.state.theta), u32(wasm.state.theta)],
      ['refractory', u32(js.state.refractory), u32(wasm.state.refractory)],
      ['weights', u32(js.weights), u32(wasm.weights)],
    ];
    for (const [name, a, b] of checks) {
      const d = firstDiff(a, b);
      if (d !== -1) throw new Error(`${where}: ${name} differs at ${d}`);
    }
  }

  for (const [neurons, inputs, seed] of [
    [37, 60, 1],
    [16, 30, 2],
    [100, 120, 3],
  ] as const) {
    it(`bit-identical v, θ, refractory, crossings and weights over random steps (N=${neurons})`, () => {
      const p = adaptiveLifParams(AE, 1);
      const [js, wasm] = kernels(p, inputs, neurons);
      const stride = js.stride;
      expect(wasm.stride).toBe(stride);
      const rnd = lcg(seed * 7919);
      for (let e = 0; e < inputs * stride; e++) {
        const j = e % stride;
        const w = j < neurons ? f(rnd() < 0.05 ? rnd() * 0.002 : rnd()) : 0; // some near the floor
        js.weights[e] = w;
        wasm.weights[e] = w;
      }
      const index = new Uint16Array(inputs);
      let totalCrossings = 0;
      let multiCrossSteps = 0;
      for (let t = 0; t < 3000; t++) {
        // Random spiking rows (each input with probability 0.25), random order.
        let m = 0;
        for (let i = 0; i < inputs; i++) if (rnd() < 0.25) index[m++] = i;
        for (let a = m - 1; a > 0; a--) {
          const b = Math.floor(rnd() * (a + 1));
          const tmp = index[a];
          index[a] = index[b];
          index[b] = tmp;
        }
        // Random all-but-self inhibition: c spikes → uniform −120·c, extra +120 on those.
        const c = rnd() < 0.02 ? 1 + Math.floor(rnd() * 2) : 0;
        const inh: number[] = [];
        for (let a = 0; a < c; a++) inh.push(Math.floor(rnd() * neurons));
        for (const j of inh) {
          js.extra[j] = 120;
          wasm.extra[j] = 120;
        }
        const learning = rnd() < 0.7;
        const nj = js.step(-120 * c, learning);
        const nw = wasm.step(-120 * c, learning);
        for (const j of inh) {
          js.extra[j] = 0;
          wasm.extra[j] = 0;
        }
        expect(nw).toBe(nj);
        const cj = Array.from(js.crossed.subarray(0, nj));
        const cw = Array.from(wasm.crossed.subarray(0, nw));
        if (cj.join() !== cw.join()) throw new Error(`step ${t}: crossings ${cj} vs ${cw}`);
        for (let a = 0; a < nj; a++) {
          if (cj[a] >= neurons) throw new Error(`padding lane ${cj[a]} crossed`);
          if (a > 0 && !(cj[a] > cj[a - 1])) throw new Error('crossings not ascending');
        }
        totalCrossings += nj;
        if (nj > 1) multiCrossSteps++;
        // This step's spiking inputs: next step's current and this step's depression.
        js.setSpikingInputs(index, 0, m);
        wasm.setSpikingInputs(index, 0, m);
        if (rnd() < 0.5) {
          const cols = 1 + Math.floor(rnd() * Math.min(neurons, 8));
          const used = new Set<number>();
          let a = 0;
          while (a < cols) {
            const j = Math.floor(rnd() * neurons);
            if (used.has(j)) continue;
            used.add(j);
            const amount = f(rnd() * 0.004);
            js.depColumns[a] = j;
            wasm.depColumns[a] = j;
            js.depAmounts[a] = amount;
            wasm.depAmounts[a] = amount;
            a++;
          }
          js.depress(cols, 0);
          wasm.depress(cols, 0);
        }
        compare(js, wasm, `step ${t}`);
      }
      // The random drive really exercised spiking, multi-crossings and the weight floor.
      expect(totalCrossings).toBeGreaterThan(100);
      expect(multiCrossSteps).toBeGreaterThan(5);
      expect(js.weights.some((w, e) => e % stride < neurons && w === 0)).toBe(true);
      // Padding columns untouched, padding θ still +∞.
      for (let e = 0; e < inputs * stride; e++) if (e % stride >= neurons) expect(js.weights[e]).toBe(0);
      for (let j = neurons; j < stride; j++) {
        expect(js.state.theta[j]).toBe(Infinity);
        expect(wasm.state.theta[j]).toBe(Infinity);
      }
      // θ grew for the neurons that fired.
      expect(Math.max(...js.state.theta.subarray(0, neurons))).toBeGreaterThan(0);
    });
  }
});
