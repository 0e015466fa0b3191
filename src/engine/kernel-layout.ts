/**
 * Where the network's per-sample state lives: one block of memory, carved into typed arrays.
 *
 * The WebAssembly kernel runs a whole sample in its linear memory, so every array its loop touches
 * must be a view on that memory; the plain-TypeScript kernel lays out the same arrays on an
 * ArrayBuffer. Both network paths (the WASM sample loop and the TypeScript loop used for
 * recording and as the reference) therefore share one state, whichever ran the last sample.
 * Offsets are 16-byte aligned so SIMD loads never straddle.
 */
import { GUIDE } from './encoders.js';

export interface KernelArrays {
  /** [inputs, stride] dense input weights; columns ≥ neurons are padding. */
  weights: Float32Array;
  // excitatory layer
  v: Float32Array;
  refractory: Float32Array;
  theta: Float32Array;
  /** Per-neuron extra input this step (all-but-self correction). */
  extra: Float32Array;
  crossed: Int32Array;
  depColumns: Int32Array;
  depAmounts: Float32Array;
  /** Addresses (WASM) or element offsets (JS) of the weight rows of the inputs spiking now. */
  rows: Int32Array;
  // input spike train of the current sample (written by the encoder)
  count: Int32Array;
  index: Uint16Array;
  active: Uint16Array;
  lastInput: Int32Array;
  /** Input trace k steps after a spike. */
  traceTable: Float32Array;
  // excitatory spikes and traces
  postTrace: Float32Array;
  spikingNow: Uint8Array;
  fired: Uint8Array;
  postActive: Int32Array;
  counts: Int32Array;
  excSpiking: Int32Array;
  prevExc: Int32Array;
  // inhibitory layer
  inhSpiking: Int32Array;
  inhV: Float32Array;
  inhRefractory: Float32Array;
  inhActiveList: Int32Array;
  inhActiveMember: Uint8Array;
  inhInput: Float32Array;
  /** The image being encoded, and the base-rate interval tables (see encoders.ts). */
  image: Uint8Array;
  cdf: Float64Array;
  guide: Uint16Array;
  /** Scalars shared with the WASM loop: see `Scalar`. */
  scalars: Int32Array;
}

/** Slots of `KernelArrays.scalars`. */
export const Scalar = { rng0: 0, rng1: 1, rng2: 2, rng3: 3, postActiveCount: 4, inhActiveSize: 5, activeCount: 6 } as const;

type Kind = Float64ArrayConstructor | Float32ArrayConstructor | Int32ArrayConstructor | Uint16ArrayConstructor | Uint8ArrayConstructor;

export interface KernelLayout {
  bytes: number;
  offsets: Record<keyof KernelArrays, number>;
  lengths: Record<keyof KernelArrays, number>;
  kinds: Record<keyof KernelArrays, Kind>;
}

export function layoutKernel(inputs: number, stride: number, steps: number): KernelLayout {
  const spec: [keyof KernelArrays, Kind, number][] = [
    ['weights', Float32Array, inputs * stride],
    ['v', Float32Array, stride],
    ['refractory', Float32Array, stride],
    ['theta', Float32Array, stride],
    ['extra', Float32Array, stride],
    ['crossed', Int32Array, stride],
    ['depColumns', Int32Array, stride],
    ['depAmounts', Float32Array, stride],
    ['rows', Int32Array, inputs],
    ['count', Int32Array, steps],
    ['index', Uint16Array, inputs * steps],
    ['active', Uint16Array, inputs],
    ['lastInput', Int32Array, inputs],
    ['traceTable', Float32Array, steps + 1],
    ['postTrace', Float32Array, stride],
    ['spikingNow', Uint8Array, stride],
    ['fired', Uint8Array, stride],
    ['postActive', Int32Array, stride],
    ['counts', Int32Array, stride],
    ['excSpiking', Int32Array, stride],
    ['prevExc', Int32Array, stride],
    ['inhSpiking', Int32Array, stride],
    ['inhV', Float32Array, stride],
    ['inhRefractory', Float32Array, stride],
    ['inhActiveList', Int32Array, stride],
    ['inhActiveMember', Uint8Array, stride],
    ['inhInput', Float32Array, stride],
    ['image', Uint8Array, inputs],
    ['cdf', Float64Array, 256 * (steps + 2)],
    ['guide', Uint16Array, 256 * GUIDE],
    ['scalars', Int32Array, 16],
  ];
  const offsets = {} as KernelLayout['offsets'];
  const lengths = {} as KernelLayout['lengths'];
  const kinds = {} as KernelLayout['kinds'];
  let bytes = 0;
  for (const [name, kind, length] of spec) {
    offsets[name] = bytes;
    lengths[name] = length;
    kinds[name] = kind;
    bytes += Math.ceil((length * kind.BYTES_PER_ELEMENT) / 16) * 16;
  }
  return { bytes, offsets, lengths, kinds };
}

/** Views of the layout's arrays on `buffer`, starting `base` bytes in. */
export function viewKernelArrays(buffer: ArrayBuffer, layout: KernelLayout, base = 0): KernelArrays {
  const arrays = {} as Record<keyof KernelArrays, unknown>;
  for (const name of Object.keys(layout.offsets) as (keyof KernelArrays)[]) {
    arrays[name] = new layout.kinds[name](buffer, base + layout.offsets[name], layout.lengths[name]);
  }
  return arrays as KernelArrays;
}
