/**
 * The excitatory layer's per-step kernel: the event-driven dense input current (the sum of the
 * weight rows of the inputs that spiked at t−1) fused with the adaptive-LIF update, plus the STDP
 * depression of those same rows (post-pre rule, see stdp.ts).
 *
 * These are the engine's hot loops (~3,200 rows × N weights per sample), so they come in two
 * implementations that produce bit-identical results:
 * - `wasm`: hand-written WebAssembly SIMD (f32x4, 16 neurons per block held in registers while
 *   the rows stream through), compiled from the WAT below at start-up with wabt;
 * - `js`: the same arithmetic in plain TypeScript (float32 rounding via Math.fround), the
 *   readable reference the tests compare the WASM kernel against.
 *
 * Both sum rows in float32, in spike order, from zero; then x = (Σ + extra[j]) + uniform, where
 * `uniform` carries all-but-self inhibition and `extra` its per-neuron correction. Arrays are
 * padded to a multiple of 16 neurons (`stride`); padding lanes have θ = +∞ and never spike.
 */
import { stepAdaptiveLif, type AdaptiveLifParams, type AdaptiveLifState } from './adaptive-lif.js';

export interface ExcKernel {
  readonly kind: 'wasm' | 'js';
  readonly stride: number;
  /** [inputs, stride] weights; columns ≥ neurons are padding. */
  readonly weights: Float32Array;
  readonly state: AdaptiveLifState;
  /** Per-neuron input added this step (all-but-self correction); the caller clears it. */
  readonly extra: Float32Array;
  /** Crossing neurons of the last step. */
  readonly crossed: Int32Array;
  /** Columns (neuron indices) and amounts for `depress`. */
  readonly depColumns: Int32Array;
  readonly depAmounts: Float32Array;
  /** Records the inputs spiking now, `index[start..start+count)`: depressed now, input next step. */
  setSpikingInputs(index: Uint16Array, start: number, count: number): void;
  /** One step with input from the inputs of the last `setSpikingInputs`. Returns the crossings. */
  step(uniform: number, learning: boolean): number;
  /** w[i, depColumns[a]] = max'(w − depAmounts[a], wMin) for the spiking inputs i, a < columns. */
  depress(columns: number, wMin: number): void;
}

export const BLOCK = 16;

export function paddedStride(neurons: number): number {
  return Math.ceil(neurons / BLOCK) * BLOCK;
}

export function createJsExcKernel(p: AdaptiveLifParams, inputs: number, neurons: number): ExcKernel {
  const stride = paddedStride(neurons);
  const weights = new Float32Array(inputs * stride);
  const state: AdaptiveLifState = { v: new Float32Array(stride), refractory: new Float32Array(stride), theta: new Float32Array(stride) };
  const extra = new Float32Array(stride);
  const crossed = new Int32Array(stride);
  const depColumns = new Int32Array(stride);
  const depAmounts = new Float32Array(stride);
  const rows = new Int32Array(inputs);
  let nrows = 0;
  const acc = new Float32Array(stride);
  const f = Math.fround;
  state.theta.fill(Infinity, neurons);
  return {
    kind: 'js',
    stride,
    weights,
    state,
    extra,
    crossed,
    depColumns,
    depAmounts,
    setSpikingInputs(index, start, count) {
      for (let r = 0; r < count; r++) rows[r] = index[start + r] * stride;
      nrows = count;
    },
    step(uniform, learning) {
      acc.fill(0);
      for (let r = 0; r < nrows; r++) {
        const base = rows[r];
        for (let j = 0; j < stride; j++) acc[j] = f(acc[j] + weights[base + j]);
      }
      return stepAdaptiveLif(p, state, acc, extra, f(uniform), learning, crossed);
    },
    depress(columns, wMin) {
      const lo = f(wMin);
      for (let r = 0; r < nrows; r++) {
        const base = rows[r];
        for (let a = 0; a < columns; a++) {
          const e = base + depColumns[a];
          const w = f(weights[e] - depAmounts[a]);
          weights[e] = w < lo ? lo : w;
        }
      }
    },
  };
}

/**
 * WAT of the adaptive-LIF update of the 4 neurons of accumulator $a{k} (byte offset $jb + 16k in
 * every state array), inlined 4× into the block loop (V8 does not inline WASM calls):
 *   x = (Σ + extra) + uniform;  v = decay·(v − rest) + rest;  θ ·= θdecay (learning)
 *   v += x where refractory ≤ 0;  refractory −= dt;  s = v ≥ thr + θ
 *   v[s] = reset; refractory[s] = tRef; θ[s] += θ+ (learning); append crossing indices.
 */
function update4(k: number): string {
  const o = `(i32.add (local.get $jb) (i32.const ${16 * k}))`;
  const at = (g: string) => `(i32.add (global.get ${g}) ${o})`;
  const lane = (l: number) => `
        (if (i32x4.extract_lane ${l} (local.get $s)) (then
          (i32.store (i32.add (global.get $crossed) (i32.shl (local.get $n) (i32.const 2))) (i32.add (local.get $j) (i32.const ${l})))
          (local.set $n (i32.add (local.get $n) (i32.const 1)))))`;
  return `
      (local.set $x (f32x4.add (f32x4.add (local.get $a${k}) (v128.load ${at('$extra')})) (local.get $u)))
      (local.set $v (f32x4.add (f32x4.mul (local.get $decay) (f32x4.sub (v128.load ${at('$v')}) (local.get $rest))) (local.get $rest)))
      (local.set $th (v128.load ${at('$th')}))
      (if (local.get $learning) (then (local.set $th (f32x4.mul (local.get $th) (local.get $thdecay)))))
      (local.set $rf (v128.load ${at('$rf')}))
      (local.set $v (v128.bitselect (f32x4.add (local.get $v) (local.get $x)) (local.get $v)
        (f32x4.le (local.get $rf) (v128.const f32x4 0 0 0 0))))
      (local.set $rf (f32x4.sub (local.get $rf) (local.get $dt)))
      (local.set $s (f32x4.ge (local.get $v) (f32x4.add (local.get $thr) (local.get $th))))
      (local.set $v (v128.bitselect (local.get $reset) (local.get $v) (local.get $s)))
      (local.set $rf (v128.bitselect (local.get $tref) (local.get $rf) (local.get $s)))
      (if (local.get $learning) (then
        (local.set $th (v128.bitselect (f32x4.add (local.get $th) (local.get $thplus)) (local.get $th) (local.get $s)))))
      (v128.store ${at('$v')} (local.get $v))
      (v128.store ${at('$rf')} (local.get $rf))
      (v128.store ${at('$th')} (local.get $th))
      (if (v128.any_true (local.get $s)) (then
        (local.set $j (i32.shr_u ${o} (i32.const 2)))${lane(0)}${lane(1)}${lane(2)}${lane(3)}))`;
}

/* Memory layout (bytes): W | v | refractory | theta | extra | crossed | depColumns | depAmounts | rows.
 * Globals hold the layout and the float32 parameters, set once by `init`. */
const WAT = `
(module
  (import "env" "memory" (memory 1))
  (global $stride (mut i32) (i32.const 0))
  (global $v (mut i32) (i32.const 0))
  (global $rf (mut i32) (i32.const 0))
  (global $th (mut i32) (i32.const 0))
  (global $extra (mut i32) (i32.const 0))
  (global $crossed (mut i32) (i32.const 0))
  (global $rows (mut i32) (i32.const 0))
  (global $rest (mut f32) (f32.const 0))
  (global $reset (mut f32) (f32.const 0))
  (global $thr (mut f32) (f32.const 0))
  (global $tref (mut f32) (f32.const 0))
  (global $dt (mut f32) (f32.const 0))
  (global $decay (mut f32) (f32.const 0))
  (global $thdecay (mut f32) (f32.const 0))
  (global $thplus (mut f32) (f32.const 0))

  (func (export "init") (param $stride i32) (param $v i32) (param $rf i32) (param $th i32) (param $extra i32)
        (param $crossed i32) (param $rows i32) (param $rest f32) (param $reset f32) (param $thr f32) (param $tref f32)
        (param $dt f32) (param $decay f32) (param $thdecay f32) (param $thplus f32)
    (global.set $stride (local.get $stride)) (global.set $v (local.get $v)) (global.set $rf (local.get $rf))
    (global.set $th (local.get $th)) (global.set $extra (local.get $extra)) (global.set $crossed (local.get $crossed))
    (global.set $rows (local.get $rows)) (global.set $rest (local.get $rest)) (global.set $reset (local.get $reset))
    (global.set $thr (local.get $thr)) (global.set $tref (local.get $tref)) (global.set $dt (local.get $dt))
    (global.set $decay (local.get $decay)) (global.set $thdecay (local.get $thdecay)) (global.set $thplus (local.get $thplus)))

  ;; Depression of the rows at $rows: w = w - amount[a] at column cols[a], clamped below at $lo.
  (func (export "depress") (param $nrows i32) (param $cols i32) (param $amounts i32) (param $ncols i32) (param $lo f32)
    (local $r i32) (local $rend i32) (local $a i32) (local $aend i32) (local $base i32) (local $e i32) (local $w f32)
    (local.set $r (global.get $rows))
    (local.set $rend (i32.add (global.get $rows) (i32.shl (local.get $nrows) (i32.const 2))))
    (local.set $aend (i32.shl (local.get $ncols) (i32.const 2)))
    (block $rdone (loop $rloop
      (br_if $rdone (i32.ge_u (local.get $r) (local.get $rend)))
      (local.set $base (i32.load (local.get $r)))
      (local.set $a (i32.const 0))
      (block $adone (loop $aloop
        (br_if $adone (i32.ge_u (local.get $a) (local.get $aend)))
        (local.set $e (i32.add (local.get $base) (i32.shl (i32.load (i32.add (local.get $cols) (local.get $a))) (i32.const 2))))
        (local.set $w (f32.sub (f32.load (local.get $e)) (f32.load (i32.add (local.get $amounts) (local.get $a)))))
        (f32.store (local.get $e) (select (local.get $lo) (local.get $w) (f32.lt (local.get $w) (local.get $lo))))
        (local.set $a (i32.add (local.get $a) (i32.const 4)))
        (br $aloop)))
      (local.set $r (i32.add (local.get $r) (i32.const 4)))
      (br $rloop))))

  ;; One step. $nrows row byte offsets (into W) are at $rows. Returns the number of crossings.
  (func (export "step") (param $nrows i32) (param $uniform f32) (param $learning i32) (result i32)
    (local $jb i32) (local $end i32) (local $r i32) (local $p i32) (local $n i32) (local $o i32) (local $u v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $x v128) (local $v v128) (local $th v128) (local $rf v128) (local $s v128) (local $j i32)
    (local $decay v128) (local $rest v128) (local $reset v128) (local $thr v128) (local $tref v128) (local $dt v128)
    (local $thdecay v128) (local $thplus v128)
    (local.set $u (f32x4.splat (local.get $uniform)))
    (local.set $decay (f32x4.splat (global.get $decay)))
    (local.set $rest (f32x4.splat (global.get $rest)))
    (local.set $reset (f32x4.splat (global.get $reset)))
    (local.set $thr (f32x4.splat (global.get $thr)))
    (local.set $tref (f32x4.splat (global.get $tref)))
    (local.set $dt (f32x4.splat (global.get $dt)))
    (local.set $thdecay (f32x4.splat (global.get $thdecay)))
    (local.set $thplus (f32x4.splat (global.get $thplus)))
    (local.set $end (i32.shl (global.get $stride) (i32.const 2)))
    (block $done (loop $blocks
      (br_if $done (i32.ge_u (local.get $jb) (local.get $end)))
      (local.set $a0 (v128.const i32x4 0 0 0 0)) (local.set $a1 (v128.const i32x4 0 0 0 0))
      (local.set $a2 (v128.const i32x4 0 0 0 0)) (local.set $a3 (v128.const i32x4 0 0 0 0))
      (local.set $r (global.get $rows))
      (local.set $p (i32.add (global.get $rows) (i32.shl (local.get $nrows) (i32.const 2))))
      (block $rowsdone (loop $rowloop
        (br_if $rowsdone (i32.ge_u (local.get $r) (local.get $p)))
        (local.set $o (i32.add (i32.load (local.get $r)) (local.get $jb)))
        (local.set $a0 (f32x4.add (local.get $a0) (v128.load offset=0 (local.get $o))))
        (local.set $a1 (f32x4.add (local.get $a1) (v128.load offset=16 (local.get $o))))
        (local.set $a2 (f32x4.add (local.get $a2) (v128.load offset=32 (local.get $o))))
        (local.set $a3 (f32x4.add (local.get $a3) (v128.load offset=48 (local.get $o))))
        (local.set $r (i32.add (local.get $r) (i32.const 4)))
        (br $rowloop)))
${[0, 1, 2, 3].map(update4).join('\n')}
      (local.set $jb (i32.add (local.get $jb) (i32.const 64)))
      (br $blocks)))
    (local.get $n))
)`;

let compiled: WebAssembly.Module | null = null;

/** Compiles the WAT once per process (wabt, ~20 ms); later calls are free. */
export async function loadExcKernelModule(): Promise<WebAssembly.Module> {
  if (compiled) return compiled;
  const { default: initWabt } = await import('wabt');
  const wabt = await initWabt();
  const parsed = wabt.parseWat('exc-kernel.wat', WAT, { simd: true });
  try {
    const { buffer } = parsed.toBinary({});
    compiled = new WebAssembly.Module(buffer);
  } finally {
    parsed.destroy();
  }
  return compiled;
}

export function createWasmExcKernel(module: WebAssembly.Module, p: AdaptiveLifParams, inputs: number, neurons: number): ExcKernel {
  const stride = paddedStride(neurons);
  const wBytes = inputs * stride * 4;
  const vecBytes = stride * 4;
  const total = wBytes + 7 * vecBytes + inputs * 4;
  const memory = new WebAssembly.Memory({ initial: Math.ceil(total / 65536) + 1 });
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const exports = instance.exports as unknown as {
    init: (...args: number[]) => void;
    step: (nrows: number, uniform: number, learning: number) => number;
    depress: (nrows: number, cols: number, amounts: number, ncols: number, lo: number) => void;
  };
  const buf = memory.buffer;
  const vOff = wBytes;
  const rfOff = vOff + vecBytes;
  const thOff = rfOff + vecBytes;
  const extraOff = thOff + vecBytes;
  const crossedOff = extraOff + vecBytes;
  const colsOff = crossedOff + vecBytes;
  const amountsOff = colsOff + vecBytes;
  const rowsOff = amountsOff + vecBytes;
  exports.init(stride, vOff, rfOff, thOff, extraOff, crossedOff, rowsOff, p.restMv, p.resetMv, p.thresholdMv, p.refractoryMs, p.dtMs, p.decay, p.thetaDecay, p.thetaPlusMv);
  const state: AdaptiveLifState = {
    v: new Float32Array(buf, vOff, stride),
    refractory: new Float32Array(buf, rfOff, stride),
    theta: new Float32Array(buf, thOff, stride),
  };
  state.theta.fill(Infinity, neurons);
  const rows = new Int32Array(buf, rowsOff, inputs);
  const rowBytes = stride * 4;
  const { step, depress } = exports;
  let nrows = 0;
  return {
    kind: 'wasm',
    stride,
    weights: new Float32Array(buf, 0, inputs * stride),
    state,
    extra: new Float32Array(buf, extraOff, stride),
    crossed: new Int32Array(buf, crossedOff, stride),
    depColumns: new Int32Array(buf, colsOff, stride),
    depAmounts: new Float32Array(buf, amountsOff, stride),
    setSpikingInputs(index, start, count) {
      for (let r = 0; r < count; r++) rows[r] = index[start + r] * rowBytes;
      nrows = count;
    },
    step(uniform, learning) {
      return step(nrows, uniform, learning ? 1 : 0);
    },
    depress(columns, wMin) {
      depress(nrows, colsOff, amountsOff, columns, wMin);
    },
  };
}
