/**
 * The engine's hot loops, in two implementations that produce bit-identical results:
 * - `js`: plain TypeScript (float32 rounding via Math.fround), the readable reference;
 * - `wasm`: hand-written WebAssembly with SIMD, compiled from the WAT below at start-up (wabt).
 *
 * Per step, the excitatory layer's input current (the sum of the weight rows of the inputs that
 * spiked at t−1, ~13 rows × N per step) is fused with the adaptive-LIF update: rows are summed in
 * float32, in spike order, from zero; then x = (Σ + extra[j]) + uniform, where `uniform` carries
 * all-but-self inhibition and `extra` its per-neuron correction. `depress` applies the STDP
 * depression of the rows spiking now. Arrays are padded to a multiple of 16 neurons (`stride`);
 * padding lanes have θ = +∞ and never spike.
 *
 * The WASM kernel can also run a whole sample (`runSample`: the step order of network.ts, with
 * one_spike, traces, the event-driven inhibitory layer and both STDP terms), so the only calls
 * across the JS/WASM boundary are one per sample. network.ts keeps the TypeScript loop as the
 * reference and for samples whose rasters are recorded; the tests hold the two to the same bits.
 */
import { stepAdaptiveLif, type AdaptiveLifParams, type AdaptiveLifState } from './adaptive-lif.js';
import { layoutKernel, viewKernelArrays, type KernelArrays } from './kernel-layout.js';
import { GUIDE } from './encoders.js';
import type { LifParams } from './lif.js';

export interface SampleLoopParams {
  inhibitory: LifParams | null;
  excToInh: number;
  inhToExc: number;
  /** Post-synaptic trace decay per step (float32). */
  postTraceDecay: number;
  /** Float32 STDP parameters, or null without plasticity. */
  stdp: { nuPre: number; nuPost: number; wMin: number; wMax: number } | null;
  oneSpikePerStep: boolean;
}

export interface ExcKernel {
  readonly kind: 'wasm' | 'js';
  readonly stride: number;
  /** Every per-sample array of the network (see kernel-layout.ts). */
  readonly arrays: KernelArrays;
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
  /** w[i, depColumns[a]] = max(w − depAmounts[a], wMin) for the spiking inputs i, a < columns. */
  depress(columns: number, wMin: number): void;
  /**
   * Runs all steps of the encoded sample in `arrays` (WASM only; null for the JS kernel).
   * `scalars` carries the PRNG state and set sizes in and out. Returns the excitatory spikes.
   */
  readonly runSample: ((steps: number, bucket: number, activeCount: number, learning: boolean) => number) | null;
  /**
   * Encodes `arrays.image` with the interval tables in `arrays.cdf`/`guide`, exactly as
   * encoders.ts does (WASM only): the PRNG state comes from and returns to `scalars`, the number
   * of non-zero pixels (the bucket stride) goes to `scalars[Scalar.activeCount]`. Returns the spikes.
   */
  readonly encode: ((inputs: number, steps: number) => number) | null;
  /** Parameters of the whole-sample loop (the WASM kernel keeps them in its memory). */
  configureSampleLoop(p: SampleLoopParams): void;
}

export const BLOCK = 16;

export function paddedStride(neurons: number): number {
  return Math.ceil(neurons / BLOCK) * BLOCK;
}

function excState(a: KernelArrays): AdaptiveLifState {
  return { v: a.v, refractory: a.refractory, theta: a.theta };
}

/** `steps`: per-sample buffers' length (only the network's sample loop needs them). */
export function createJsExcKernel(p: AdaptiveLifParams, inputs: number, neurons: number, steps = 1): ExcKernel {
  const stride = paddedStride(neurons);
  const layout = layoutKernel(inputs, stride, steps);
  const arrays = viewKernelArrays(new ArrayBuffer(layout.bytes), layout);
  const { weights, extra, crossed, depColumns, depAmounts, rows } = arrays;
  const state = excState(arrays);
  let nrows = 0;
  const acc = new Float32Array(stride);
  const f = Math.fround;
  state.theta.fill(Infinity, neurons);
  return {
    kind: 'js',
    stride,
    arrays,
    weights,
    state,
    extra,
    crossed,
    depColumns,
    depAmounts,
    runSample: null,
    encode: null,
    configureSampleLoop() {},
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

/* ---- WebAssembly ----
 * Memory: a 256-byte header (array pointers and parameters, below), then the KernelArrays.
 * Functions load the pointers they need into locals once per call. */
const HEADER = 256;
const ptrSlots = [
  'weights', 'v', 'refractory', 'theta', 'extra', 'crossed', 'depColumns', 'depAmounts', 'rows', 'count', 'index',
  'active', 'lastInput', 'traceTable', 'postTrace', 'spikingNow', 'fired', 'postActive', 'counts', 'excSpiking',
  'prevExc', 'inhSpiking', 'inhV', 'inhRefractory', 'inhActiveList', 'inhActiveMember', 'inhInput', 'scalars',
  'image', 'cdf', 'guide',
] as const satisfies readonly (keyof KernelArrays)[];
const f32Slots = [
  'rest', 'reset', 'thr', 'tref', 'dt', 'decay', 'thdecay', 'thplus',
  'irest', 'ireset', 'ithr', 'itref', 'idt', 'idecay',
  'excToInh', 'negInhToExc', 'trDecay', 'nuPre', 'nuPost', 'wMin', 'wMax',
] as const;
const I32_AT = (k: number) => 4 * k;
const STRIDE_AT = I32_AT(ptrSlots.length);
const F32_BASE = STRIDE_AT + 4;
const F32_AT = (name: (typeof f32Slots)[number]) => F32_BASE + 4 * f32Slots.indexOf(name);
const INH_TO_EXC_AT = Math.ceil((F32_BASE + 4 * f32Slots.length) / 8) * 8; // f64
if (INH_TO_EXC_AT + 8 > HEADER) throw new Error('kernel header overflow');

const ptr = (name: (typeof ptrSlots)[number]) => `(i32.load offset=${I32_AT(ptrSlots.indexOf(name))} (i32.const 0))`;
const par = (name: (typeof f32Slots)[number]) => `(f32.load offset=${F32_AT(name)} (i32.const 0))`;
const STRIDE = `(i32.load offset=${STRIDE_AT} (i32.const 0))`;
/** log2 of the bytes of one intensity's guide table (GUIDE u16 entries). */
const GUIDE_SHIFT_BYTES = Math.log2(GUIDE * 2);

/** One xoshiro128** step on the state globals $r0..$r3: the output into local `out` (`tmp`: scratch). */
const xoshiro = (out: string, tmp: string) => `
    (local.set ${out} (i32.mul (i32.rotl (i32.mul (global.get $r1) (i32.const 5)) (i32.const 7)) (i32.const 9)))
    (local.set ${tmp} (i32.shl (global.get $r1) (i32.const 9)))
    (global.set $r2 (i32.xor (global.get $r2) (global.get $r0)))
    (global.set $r3 (i32.xor (global.get $r3) (global.get $r1)))
    (global.set $r1 (i32.xor (global.get $r1) (global.get $r2)))
    (global.set $r0 (i32.xor (global.get $r0) (global.get $r3)))
    (global.set $r2 (i32.xor (global.get $r2) (local.get ${tmp})))
    (global.set $r3 (i32.rotl (global.get $r3) (i32.const 11)))`;

/** i32 element address: base + 4·k. */
const at4 = (base: string, k: string) => `(i32.add ${base} (i32.shl ${k} (i32.const 2)))`;
/** for (var = 0; var < end; var++) { body } */
const forLoop = (v: string, end: string, body: string, label = v) => `
    (local.set ${v} (i32.const 0))
    (block $${label}_done (loop $${label}_loop
      (br_if $${label}_done (i32.ge_u (local.get ${v}) ${end}))
      ${body}
      (local.set ${v} (i32.add (local.get ${v}) (i32.const 1)))
      (br $${label}_loop)))`;

/**
 * The adaptive-LIF update of the 4 neurons of accumulator $a{k} (byte offset $jb + 16k in every
 * state array), inlined 4× into the block loop (V8 does not inline WASM calls):
 *   x = (Σ + extra) + uniform;  v = decay·(v − rest) + rest;  θ ·= θdecay (learning)
 *   v += x where refractory ≤ 0;  refractory −= dt;  s = v ≥ thr + θ
 *   v[s] = reset; refractory[s] = tRef; θ[s] += θ+ (learning); append crossing indices.
 */
function update4(k: number): string {
  const o = `(i32.add (local.get $jb) (i32.const ${16 * k}))`;
  const at = (p: string) => `(i32.add (local.get ${p}) ${o})`;
  const lane = (l: number) => `
        (if (i32x4.extract_lane ${l} (local.get $s)) (then
          (i32.store ${at4('(local.get $pcrossed)', '(local.get $n)')} (i32.add (local.get $j) (i32.const ${l})))
          (local.set $n (i32.add (local.get $n) (i32.const 1)))))`;
  return `
      (local.set $x (local.get $a${k}))
      (if (local.get $inhib) (then
        (local.set $x (f32x4.add (f32x4.add (local.get $x) (v128.load ${at('$pextra')})) (local.get $u)))))
      (local.set $v (f32x4.add (f32x4.mul (local.get $decay) (f32x4.sub (v128.load ${at('$pv')}) (local.get $rest))) (local.get $rest)))
      (local.set $th (v128.load ${at('$pth')}))
      (if (local.get $learning) (then (local.set $th (f32x4.mul (local.get $th) (local.get $thdecay)))))
      (local.set $rf (v128.load ${at('$prf')}))
      (local.set $v (v128.bitselect (f32x4.add (local.get $v) (local.get $x)) (local.get $v)
        (f32x4.le (local.get $rf) (v128.const f32x4 0 0 0 0))))
      (local.set $rf (f32x4.sub (local.get $rf) (local.get $dt)))
      (local.set $s (f32x4.ge (local.get $v) (f32x4.add (local.get $thr) (local.get $th))))
      (local.set $v (v128.bitselect (local.get $reset) (local.get $v) (local.get $s)))
      (local.set $rf (v128.bitselect (local.get $tref) (local.get $rf) (local.get $s)))
      (if (local.get $learning) (then
        (local.set $th (v128.bitselect (f32x4.add (local.get $th) (local.get $thplus)) (local.get $th) (local.get $s)))))
      (v128.store ${at('$pv')} (local.get $v))
      (v128.store ${at('$prf')} (local.get $rf))
      (v128.store ${at('$pth')} (local.get $th))
      (if (v128.any_true (local.get $s)) (then
        (local.set $j (i32.shr_u ${o} (i32.const 2)))${lane(0)}${lane(1)}${lane(2)}${lane(3)}))`;
}

const WAT = `
(module
  (import "env" "memory" (memory 1))
  (global $r0 (mut i32) (i32.const 0)) (global $r1 (mut i32) (i32.const 0))
  (global $r2 (mut i32) (i32.const 0)) (global $r3 (mut i32) (i32.const 0))

  ;; ---- excitatory step: gather of $nrows rows (byte offsets at rows) fused with the update ----
  ;; $inhib = 0 promises extra = 0 and uniform = 0 (no inhibitory spike at t−1): x + 0 is x, so the
  ;; two adds are skipped (bit-identical, since sums of weights are never −0).
  (func $step (export "step") (param $nrows i32) (param $uniform f32) (param $learning i32) (param $inhib i32) (result i32)
    (local $jb i32) (local $end i32) (local $r i32) (local $p i32) (local $n i32) (local $o i32) (local $u v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $x v128) (local $v v128) (local $th v128) (local $rf v128) (local $s v128) (local $j i32)
    (local $decay v128) (local $rest v128) (local $reset v128) (local $thr v128) (local $tref v128) (local $dt v128)
    (local $thdecay v128) (local $thplus v128)
    (local $pv i32) (local $prf i32) (local $pth i32) (local $pextra i32) (local $pcrossed i32) (local $prows i32)
    (local.set $pv ${ptr('v')}) (local.set $prf ${ptr('refractory')}) (local.set $pth ${ptr('theta')})
    (local.set $pextra ${ptr('extra')}) (local.set $pcrossed ${ptr('crossed')}) (local.set $prows ${ptr('rows')})
    (local.set $u (f32x4.splat (local.get $uniform)))
    (local.set $decay (f32x4.splat ${par('decay')}))
    (local.set $rest (f32x4.splat ${par('rest')}))
    (local.set $reset (f32x4.splat ${par('reset')}))
    (local.set $thr (f32x4.splat ${par('thr')}))
    (local.set $tref (f32x4.splat ${par('tref')}))
    (local.set $dt (f32x4.splat ${par('dt')}))
    (local.set $thdecay (f32x4.splat ${par('thdecay')}))
    (local.set $thplus (f32x4.splat ${par('thplus')}))
    (local.set $end (i32.shl ${STRIDE} (i32.const 2)))
    (block $done (loop $blocks
      (br_if $done (i32.ge_u (local.get $jb) (local.get $end)))
      (local.set $a0 (v128.const i32x4 0 0 0 0)) (local.set $a1 (v128.const i32x4 0 0 0 0))
      (local.set $a2 (v128.const i32x4 0 0 0 0)) (local.set $a3 (v128.const i32x4 0 0 0 0))
      (local.set $r (local.get $prows))
      (local.set $p (i32.add (local.get $prows) (i32.shl (local.get $nrows) (i32.const 2))))
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

  ;; ---- STDP depression of the rows at rows: w = max'(w − amount[a], lo) at column cols[a] ----
  (func $depress (export "depress") (param $nrows i32) (param $ncols i32) (param $lo f32)
    (local $r i32) (local $rend i32) (local $a i32) (local $aend i32) (local $base i32) (local $e i32) (local $w f32)
    (local $cols i32) (local $amounts i32)
    (local.set $cols ${ptr('depColumns')}) (local.set $amounts ${ptr('depAmounts')})
    (local.set $r ${ptr('rows')})
    (local.set $rend (i32.add (local.get $r) (i32.shl (local.get $nrows) (i32.const 2))))
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

  ;; ---- xoshiro128** on the globals (network.ts syncs them with the Prng) ----
  (func $rng (result i32)
    (local $res i32) (local $t i32)
    ${xoshiro('$res', '$t')}
    (local.get $res))

  ;; The PRNG state lives in scalars[0..3] between calls (network.ts copies it from/to the Prng).
  (func $load_rng (param $p i32)
    (global.set $r0 (i32.load offset=0 (local.get $p))) (global.set $r1 (i32.load offset=4 (local.get $p)))
    (global.set $r2 (i32.load offset=8 (local.get $p))) (global.set $r3 (i32.load offset=12 (local.get $p))))
  (func $store_rng (param $p i32)
    (i32.store offset=0 (local.get $p) (global.get $r0)) (i32.store offset=4 (local.get $p) (global.get $r1))
    (i32.store offset=8 (local.get $p) (global.get $r2)) (i32.store offset=12 (local.get $p) (global.get $r3)))

  ;; Unbiased integer in [0, n) (Lemire), exactly Prng.below.
  (func $below (param $n i32) (result i32)
    (local $m i64) (local $low i32) (local $th i32)
    (local.set $m (i64.mul (i64.extend_i32_u (call $rng)) (i64.extend_i32_u (local.get $n))))
    (local.set $low (i32.wrap_i64 (local.get $m)))
    (if (i32.lt_u (local.get $low) (local.get $n)) (then
      (local.set $th (i32.rem_u (i32.sub (i32.const 0) (local.get $n)) (local.get $n)))
      (block $ok (loop $retry
        (br_if $ok (i32.ge_u (local.get $low) (local.get $th)))
        (local.set $m (i64.mul (i64.extend_i32_u (call $rng)) (i64.extend_i32_u (local.get $n))))
        (local.set $low (i32.wrap_i64 (local.get $m)))
        (br $retry)))))
    (i32.wrap_i64 (i64.shr_u (local.get $m) (i64.const 32))))

  ;; ---- inhibitory LIF, event-driven over the active set (lif.ts stepLifActive) ----
  (func $inh_step (param $size i32) (result i64) ;; returns spikes << 32 | new size
    (local $a i32) (local $k i32) (local $n i32) (local $vk f32) (local $r f32) (local $rk f32)
    (local $pv i32) (local $prf i32) (local $plist i32) (local $pmember i32) (local $pinput i32) (local $pout i32)
    (local $rest f32) (local $reset f32) (local $thr f32) (local $tref f32) (local $dt f32) (local $d f32)
    (local.set $pv ${ptr('inhV')}) (local.set $prf ${ptr('inhRefractory')}) (local.set $plist ${ptr('inhActiveList')})
    (local.set $pmember ${ptr('inhActiveMember')}) (local.set $pinput ${ptr('inhInput')}) (local.set $pout ${ptr('inhSpiking')})
    (local.set $rest ${par('irest')}) (local.set $reset ${par('ireset')}) (local.set $thr ${par('ithr')})
    (local.set $tref ${par('itref')}) (local.set $dt ${par('idt')}) (local.set $d ${par('idecay')})
    (block $done (loop $each
      (br_if $done (i32.ge_u (local.get $a) (local.get $size)))
      (local.set $k (i32.load ${at4('(local.get $plist)', '(local.get $a)')}))
      (local.set $vk (f32.add (f32.mul (local.get $d) (f32.sub (f32.load ${at4('(local.get $pv)', '(local.get $k)')}) (local.get $rest))) (local.get $rest)))
      (local.set $r (f32.load ${at4('(local.get $prf)', '(local.get $k)')}))
      (if (f32.le (local.get $r) (f32.const 0)) (then
        (local.set $vk (f32.add (local.get $vk) (f32.load ${at4('(local.get $pinput)', '(local.get $k)')})))))
      (local.set $rk (f32.sub (local.get $r) (local.get $dt)))
      (if (f32.ge (local.get $vk) (local.get $thr)) (then
        (local.set $vk (local.get $reset))
        (local.set $rk (local.get $tref))
        (i32.store ${at4('(local.get $pout)', '(local.get $n)')} (local.get $k))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))))
      (f32.store ${at4('(local.get $pv)', '(local.get $k)')} (local.get $vk))
      (f32.store ${at4('(local.get $prf)', '(local.get $k)')} (local.get $rk))
      (if (i32.and (f32.eq (local.get $vk) (local.get $rest)) (f32.le (local.get $rk) (f32.const 0)))
        (then
          (i32.store8 (i32.add (local.get $pmember) (local.get $k)) (i32.const 0))
          (local.set $size (i32.sub (local.get $size) (i32.const 1)))
          (i32.store ${at4('(local.get $plist)', '(local.get $a)')} (i32.load ${at4('(local.get $plist)', '(local.get $size)')})))
        (else (local.set $a (i32.add (local.get $a) (i32.const 1)))))
      (br $each)))
    (i64.or (i64.shl (i64.extend_i32_u (local.get $n)) (i64.const 32)) (i64.extend_i32_u (local.get $size))))

  ;; ---- STDP potentiation of column $j at step $t (stdp.ts potentiateColumn) ----
  (func $potentiate (param $j i32) (param $activeCount i32) (param $t i32)
    (local $q i32) (local $i i32) (local $last i32) (local $e i32) (local $w f32)
    (local $pactive i32) (local $plast i32) (local $ptrace i32) (local $pw i32) (local $rowBytes i32)
    (local $nuPre f32) (local $nuPost f32) (local $lo f32) (local $hi f32)
    (local.set $pactive ${ptr('active')}) (local.set $plast ${ptr('lastInput')}) (local.set $ptrace ${ptr('traceTable')})
    (local.set $pw (i32.add ${ptr('weights')} (i32.shl (local.get $j) (i32.const 2))))
    (local.set $rowBytes (i32.shl ${STRIDE} (i32.const 2)))
    (local.set $nuPre ${par('nuPre')}) (local.set $nuPost ${par('nuPost')}) (local.set $lo ${par('wMin')}) (local.set $hi ${par('wMax')})
    ${forLoop('$q', '(local.get $activeCount)', `
      (local.set $i (i32.load16_u (i32.add (local.get $pactive) (i32.shl (local.get $q) (i32.const 1)))))
      (local.set $last (i32.load ${at4('(local.get $plast)', '(local.get $i)')}))
      (if (i32.ge_s (local.get $last) (i32.const 0)) (then
        (local.set $e (i32.add (local.get $pw) (i32.mul (local.get $i) (local.get $rowBytes))))
        (local.set $w (f32.load (local.get $e)))
        (if (i32.eq (local.get $last) (local.get $t)) (then (local.set $w (f32.sub (local.get $w) (local.get $nuPre)))))
        (local.set $w (f32.add (local.get $w)
          (f32.mul (f32.load ${at4('(local.get $ptrace)', '(i32.sub (local.get $t) (local.get $last))')}) (local.get $nuPost))))
        (local.set $w (select (local.get $lo) (select (local.get $hi) (local.get $w) (f32.gt (local.get $w) (local.get $hi)))
          (f32.lt (local.get $w) (local.get $lo))))
        (f32.store (local.get $e) (local.get $w))))`)})

  ;; ---- interval encoder (encoders.ts encodeIntervals), PRNG state in scalars ----
  (func (export "encode") (param $n i32) (param $steps i32) (result i32)
    (local $i i32) (local $m i32) (local $q i32) (local $row i32) (local $g i32) (local $c i32) (local $k i32)
    (local $u i32) (local $x i32) (local $t i32) (local $total i32) (local $cnt i32)
    (local $img i32) (local $act i32) (local $pcnt i32) (local $pidx i32) (local $pcdf i32) (local $pguide i32)
    (local $width8 i32) (local $scalars i32)
    (local.set $img ${ptr('image')}) (local.set $act ${ptr('active')}) (local.set $pcnt ${ptr('count')})
    (local.set $pidx ${ptr('index')}) (local.set $pcdf ${ptr('cdf')}) (local.set $pguide ${ptr('guide')})
    (local.set $scalars ${ptr('scalars')})
    (local.set $width8 (i32.shl (i32.add (local.get $steps) (i32.const 2)) (i32.const 3)))
    (call $load_rng (local.get $scalars))
    ${forLoop('$i', '(local.get $n)', `
      (if (i32.load8_u (i32.add (local.get $img) (local.get $i))) (then
        (i32.store16 (i32.add (local.get $act) (i32.shl (local.get $m) (i32.const 1))) (local.get $i))
        (local.set $m (i32.add (local.get $m) (i32.const 1)))))`, 'e1')}
    ${forLoop('$t', '(local.get $steps)', `(i32.store ${at4('(local.get $pcnt)', '(local.get $t)')} (i32.const 0))`, 'e2')}
    ${forLoop('$q', '(local.get $m)', `
      (local.set $i (i32.load16_u (i32.add (local.get $act) (i32.shl (local.get $q) (i32.const 1)))))
      (local.set $k (i32.load8_u (i32.add (local.get $img) (local.get $i))))
      (local.set $row (i32.add (local.get $pcdf) (i32.mul (local.get $k) (local.get $width8))))
      (local.set $g (i32.add (local.get $pguide) (i32.shl (local.get $k) (i32.const ${GUIDE_SHIFT_BYTES}))))
      (local.set $c (i32.const 0))
      (block $spikes_done (loop $spikes
        ;; xoshiro128** inlined ($rng): one draw per spike is most of the encoder's cost
        ${xoshiro('$u', '$x')}
        (local.set $k (i32.load16_u (i32.add (local.get $g) (i32.shl (i32.shr_u (local.get $u) (i32.const 24)) (i32.const 1)))))
        (block $found (loop $search
          (br_if $found (f64.lt (f64.convert_i32_u (local.get $u)) (f64.load (i32.add (local.get $row) (i32.shl (local.get $k) (i32.const 3))))))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br $search)))
        (local.set $c (i32.add (local.get $c) (local.get $k)))
        (br_if $spikes_done (i32.gt_u (local.get $c) (local.get $steps)))
        (local.set $t (i32.sub (local.get $c) (i32.const 1)))
        (local.set $cnt (i32.load ${at4('(local.get $pcnt)', '(local.get $t)')}))
        (i32.store16 (i32.add (local.get $pidx) (i32.shl (i32.add (i32.mul (local.get $t) (local.get $m)) (local.get $cnt)) (i32.const 1))) (local.get $i))
        (i32.store ${at4('(local.get $pcnt)', '(local.get $t)')} (i32.add (local.get $cnt) (i32.const 1)))
        (local.set $total (i32.add (local.get $total) (i32.const 1)))
        (br $spikes)))`, 'e3')}
    (call $store_rng (local.get $scalars))
    (i32.store offset=24 (local.get $scalars) (local.get $m))
    (local.get $total))

  ;; ---- a whole sample: network.ts runSample's loop, step for step ----
  (func (export "run_sample") (param $steps i32) (param $bucket i32) (param $activeCount i32) (param $learning i32)
    (param $stdpOn i32) (param $oneSpike i32) (param $hasInh i32) (result i32)
    (local $t i32) (local $a i32) (local $r i32) (local $k i32) (local $j i32) (local $m i32)
    (local $nrows i32) (local $nCrossed i32) (local $nExc i32) (local $nExcPrev i32) (local $nInh i32) (local $nInhPrev i32)
    (local $total i32) (local $pac i32) (local $isize i32) (local $base i32) (local $nIn i32) (local $res i64)
    (local $extra i32) (local $inhSpiking i32) (local $prevExc i32) (local $excSpiking i32) (local $crossed i32)
    (local $inhInput i32) (local $member i32) (local $list i32) (local $spikingNow i32) (local $postTrace i32)
    (local $postActive i32) (local $fired i32) (local $counts i32) (local $count i32) (local $index i32)
    (local $lastInput i32) (local $rows i32) (local $cols i32) (local $amounts i32) (local $scalars i32)
    (local $rowBytes i32) (local $wbase i32) (local $negInh f32) (local $excToInh f32) (local $trDecay f32) (local $nuPre f32) (local $wMin f32)
    (local $inhToExc f64)
    (local.set $extra ${ptr('extra')}) (local.set $inhSpiking ${ptr('inhSpiking')}) (local.set $prevExc ${ptr('prevExc')})
    (local.set $excSpiking ${ptr('excSpiking')}) (local.set $crossed ${ptr('crossed')}) (local.set $inhInput ${ptr('inhInput')})
    (local.set $member ${ptr('inhActiveMember')}) (local.set $list ${ptr('inhActiveList')}) (local.set $spikingNow ${ptr('spikingNow')})
    (local.set $postTrace ${ptr('postTrace')}) (local.set $postActive ${ptr('postActive')}) (local.set $fired ${ptr('fired')})
    (local.set $counts ${ptr('counts')}) (local.set $count ${ptr('count')}) (local.set $index ${ptr('index')})
    (local.set $lastInput ${ptr('lastInput')}) (local.set $rows ${ptr('rows')}) (local.set $cols ${ptr('depColumns')})
    (local.set $amounts ${ptr('depAmounts')}) (local.set $scalars ${ptr('scalars')})
    (local.set $rowBytes (i32.shl ${STRIDE} (i32.const 2)))
    (local.set $wbase ${ptr('weights')})
    (local.set $negInh ${par('negInhToExc')}) (local.set $excToInh ${par('excToInh')}) (local.set $trDecay ${par('trDecay')})
    (local.set $nuPre ${par('nuPre')}) (local.set $wMin ${par('wMin')})
    (local.set $inhToExc (f64.load offset=${INH_TO_EXC_AT} (i32.const 0)))
    (call $load_rng (local.get $scalars))
    (local.set $pac (i32.load offset=16 (local.get $scalars)))
    (local.set $isize (i32.load offset=20 (local.get $scalars)))
    ${forLoop('$t', '(local.get $steps)', `
      ;; 1+3. Ae from the spikes of t−1 (all-but-self inhibition: uniform part + self correction)
      ${forLoop('$a', '(local.get $nInhPrev)', `(f32.store ${at4('(local.get $extra)', `(i32.load ${at4('(local.get $inhSpiking)', '(local.get $a)')})`)} (local.get $negInh))`, 'x1')}
      (local.set $nCrossed (call $step (local.get $nrows)
        (f32.demote_f64 (f64.mul (local.get $inhToExc) (f64.convert_i32_u (local.get $nInhPrev)))) (local.get $learning)
        (i32.ne (local.get $nInhPrev) (i32.const 0))))
      ${forLoop('$a', '(local.get $nInhPrev)', `(f32.store ${at4('(local.get $extra)', `(i32.load ${at4('(local.get $inhSpiking)', '(local.get $a)')})`)} (f32.const 0))`, 'x2')}
      ;; Ai's input: Ae's spikes of t−1
      (if (local.get $hasInh) (then
        ${forLoop('$a', '(local.get $nExcPrev)', `
          (local.set $k (i32.load ${at4('(local.get $prevExc)', '(local.get $a)')}))
          (f32.store ${at4('(local.get $inhInput)', '(local.get $k)')} (local.get $excToInh))
          (if (i32.eqz (i32.load8_u (i32.add (local.get $member) (local.get $k)))) (then
            (i32.store8 (i32.add (local.get $member) (local.get $k)) (i32.const 1))
            (i32.store ${at4('(local.get $list)', '(local.get $isize)')} (local.get $k))
            (local.set $isize (i32.add (local.get $isize) (i32.const 1)))))`, 'x3')}))
      ${forLoop('$a', '(local.get $nExcPrev)', `(i32.store8 (i32.add (local.get $spikingNow) (i32.load ${at4('(local.get $prevExc)', '(local.get $a)')})) (i32.const 0))`, 'x4')}
      ;; one_spike
      (if (i32.and (i32.gt_u (local.get $nCrossed) (i32.const 1)) (local.get $oneSpike))
        (then
          (i32.store (local.get $excSpiking) (i32.load ${at4('(local.get $crossed)', '(call $below (local.get $nCrossed))')}))
          (local.set $nExc (i32.const 1)))
        (else
          ${forLoop('$a', '(local.get $nCrossed)', `(i32.store ${at4('(local.get $excSpiking)', '(local.get $a)')} (i32.load ${at4('(local.get $crossed)', '(local.get $a)')}))`, 'x5')}
          (local.set $nExc (local.get $nCrossed))))
      ;; post traces
      ${forLoop('$a', '(local.get $pac)', `
        (local.set $j (i32.load ${at4('(local.get $postActive)', '(local.get $a)')}))
        (f32.store ${at4('(local.get $postTrace)', '(local.get $j)')} (f32.mul (f32.load ${at4('(local.get $postTrace)', '(local.get $j)')}) (local.get $trDecay)))`, 'x6')}
      ${forLoop('$a', '(local.get $nExc)', `
        (local.set $j (i32.load ${at4('(local.get $excSpiking)', '(local.get $a)')}))
        (f32.store ${at4('(local.get $postTrace)', '(local.get $j)')} (f32.const 1))
        (i32.store8 (i32.add (local.get $spikingNow) (local.get $j)) (i32.const 1))
        (i32.store ${at4('(local.get $counts)', '(local.get $j)')} (i32.add (i32.load ${at4('(local.get $counts)', '(local.get $j)')}) (i32.const 1)))
        (if (i32.eqz (i32.load8_u (i32.add (local.get $fired) (local.get $j)))) (then
          (i32.store8 (i32.add (local.get $fired) (local.get $j)) (i32.const 1))
          (i32.store ${at4('(local.get $postActive)', '(local.get $pac)')} (local.get $j))
          (local.set $pac (i32.add (local.get $pac) (i32.const 1)))))`, 'x7')}
      (local.set $total (i32.add (local.get $total) (local.get $nExc)))
      ;; X: this step's input spikes
      (local.set $base (i32.mul (local.get $t) (local.get $bucket)))
      (local.set $nIn (i32.load ${at4('(local.get $count)', '(local.get $t)')}))
      ${forLoop('$r', '(local.get $nIn)', `
        (local.set $k (i32.load16_u (i32.add (local.get $index) (i32.shl (i32.add (local.get $base) (local.get $r)) (i32.const 1)))))
        (i32.store ${at4('(local.get $lastInput)', '(local.get $k)')} (local.get $t))
        (i32.store ${at4('(local.get $rows)', '(local.get $r)')} (i32.add (local.get $wbase) (i32.mul (local.get $k) (local.get $rowBytes))))`, 'x8')}
      (local.set $nrows (local.get $nIn))
      ;; Ai
      (local.set $nInh (i32.const 0))
      (if (local.get $hasInh) (then
        (local.set $res (call $inh_step (local.get $isize)))
        (local.set $isize (i32.wrap_i64 (local.get $res)))
        (local.set $nInh (i32.wrap_i64 (i64.shr_u (local.get $res) (i64.const 32))))
        ${forLoop('$a', '(local.get $nExcPrev)', `(f32.store ${at4('(local.get $inhInput)', `(i32.load ${at4('(local.get $prevExc)', '(local.get $a)')})`)} (f32.const 0))`, 'x9')}))
      ;; STDP
      (if (i32.and (local.get $stdpOn) (i32.gt_u (local.get $pac) (i32.const 0))) (then
        (if (i32.gt_u (local.get $nIn) (i32.const 0)) (then
          (local.set $m (i32.const 0))
          ${forLoop('$a', '(local.get $pac)', `
            (local.set $j (i32.load ${at4('(local.get $postActive)', '(local.get $a)')}))
            (if (i32.eqz (i32.load8_u (i32.add (local.get $spikingNow) (local.get $j)))) (then
              (i32.store ${at4('(local.get $cols)', '(local.get $m)')} (local.get $j))
              (f32.store ${at4('(local.get $amounts)', '(local.get $m)')} (f32.mul (f32.load ${at4('(local.get $postTrace)', '(local.get $j)')}) (local.get $nuPre)))
              (local.set $m (i32.add (local.get $m) (i32.const 1)))))`, 'x10')}
          (if (i32.gt_u (local.get $m) (i32.const 0)) (then (call $depress (local.get $nrows) (local.get $m) (local.get $wMin))))))
        ${forLoop('$a', '(local.get $nExc)', `(call $potentiate (i32.load ${at4('(local.get $excSpiking)', '(local.get $a)')}) (local.get $activeCount) (local.get $t))`, 'x11')}))
      ${forLoop('$a', '(local.get $nExc)', `(i32.store ${at4('(local.get $prevExc)', '(local.get $a)')} (i32.load ${at4('(local.get $excSpiking)', '(local.get $a)')}))`, 'x12')}
      (local.set $nExcPrev (local.get $nExc))
      (local.set $nInhPrev (local.get $nInh))`, 'steps')}
    ${forLoop('$a', '(local.get $nExcPrev)', `(i32.store8 (i32.add (local.get $spikingNow) (i32.load ${at4('(local.get $prevExc)', '(local.get $a)')})) (i32.const 0))`, 'x13')}
    (call $store_rng (local.get $scalars))
    (i32.store offset=16 (local.get $scalars) (local.get $pac))
    (i32.store offset=20 (local.get $scalars) (local.get $isize))
    (local.get $total))
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

/** `steps`: per-sample buffers' length (only the network's sample loop needs them). */
export function createWasmExcKernel(module: WebAssembly.Module, p: AdaptiveLifParams, inputs: number, neurons: number, steps = 1): ExcKernel {
  const stride = paddedStride(neurons);
  const layout = layoutKernel(inputs, stride, steps);
  const memory = new WebAssembly.Memory({ initial: Math.ceil((HEADER + layout.bytes) / 65536) });
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const exports = instance.exports as unknown as {
    step: (nrows: number, uniform: number, learning: number, inhib: number) => number;
    depress: (nrows: number, ncols: number, lo: number) => void;
    run_sample: (steps: number, bucket: number, activeCount: number, learning: number, stdpOn: number, oneSpike: number, hasInh: number) => number;
    encode: (inputs: number, steps: number) => number;
  };
  const buf = memory.buffer;
  const header = new DataView(buf, 0, HEADER);
  ptrSlots.forEach((name, k) => header.setInt32(I32_AT(k), HEADER + layout.offsets[name], true));
  header.setInt32(STRIDE_AT, stride, true);
  const setF32 = (name: (typeof f32Slots)[number], value: number) => header.setFloat32(F32_AT(name), value, true);
  /** The LIF parameters of the excitatory ('') or inhibitory ('i') layer. */
  const setLif = (layer: '' | 'i', q: LifParams) => {
    setF32(`${layer}rest`, q.restMv);
    setF32(`${layer}reset`, q.resetMv);
    setF32(`${layer}thr`, q.thresholdMv);
    setF32(`${layer}tref`, q.refractoryMs);
    setF32(`${layer}dt`, q.dtMs);
    setF32(`${layer}decay`, q.decay);
  };
  setLif('', p);
  setF32('thdecay', p.thetaDecay);
  setF32('thplus', p.thetaPlusMv);
  const arrays = viewKernelArrays(buf, layout, HEADER);
  const state = excState(arrays);
  state.theta.fill(Infinity, neurons);
  const rows = arrays.rows;
  const rowBytes = stride * 4;
  const weightsAddress = HEADER + layout.offsets.weights;
  const { step, depress, run_sample, encode } = exports;
  let nrows = 0;
  let loop: { stdpOn: number; oneSpike: number; hasInh: number } = { stdpOn: 0, oneSpike: 0, hasInh: 0 };
  return {
    kind: 'wasm',
    stride,
    arrays,
    weights: arrays.weights,
    state,
    extra: arrays.extra,
    crossed: arrays.crossed,
    depColumns: arrays.depColumns,
    depAmounts: arrays.depAmounts,
    setSpikingInputs(index, start, count) {
      for (let r = 0; r < count; r++) rows[r] = weightsAddress + index[start + r] * rowBytes;
      nrows = count;
    },
    step(uniform, learning) {
      return step(nrows, uniform, learning ? 1 : 0, 1);
    },
    depress(columns, wMin) {
      depress(nrows, columns, wMin);
    },
    configureSampleLoop(c) {
      const inh = c.inhibitory;
      if (inh) setLif('i', inh);
      setF32('excToInh', c.excToInh);
      setF32('negInhToExc', -c.inhToExc);
      header.setFloat64(INH_TO_EXC_AT, c.inhToExc, true);
      setF32('trDecay', c.postTraceDecay);
      if (c.stdp) {
        setF32('nuPre', c.stdp.nuPre);
        setF32('nuPost', c.stdp.nuPost);
        setF32('wMin', c.stdp.wMin);
        setF32('wMax', c.stdp.wMax);
      }
      loop = { stdpOn: c.stdp ? 1 : 0, oneSpike: c.oneSpikePerStep ? 1 : 0, hasInh: inh ? 1 : 0 };
    },
    encode,
    runSample(stepsToRun, bucket, activeCount, learning) {
      nrows = 0;
      return run_sample(stepsToRun, bucket, activeCount, learning ? 1 : 0, learning ? loop.stdpOn : 0, loop.oneSpike, loop.hasInh);
    },
  };
}
