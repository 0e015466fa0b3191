/**
 * Initial state of the dense input connection: weights and per-synapse delays, row-major
 * [inputs, stride] (row i = the outgoing synapses of input i; `stride` ≥ neurons pads rows for
 * the kernel's SIMD blocks, padding stays 0). Drawn from the network's PRNG in row-major order.
 */
import type { WeightInit } from './spec.js';

/** Uniform draws use 24-bit floats like `torch.rand`, scaled in float32. */
export function initWeights(weights: Float32Array, pre: number, neurons: number, stride: number, init: WeightInit, next24: () => number): void {
  const low = Math.fround(init.low ?? 0);
  const span = Math.fround((init.high ?? 0.3) - low);
  for (let i = 0; i < pre; i++)
    for (let j = 0; j < neurons; j++)
      weights[i * stride + j] = init.dist === 'constant' ? Math.fround(init.value ?? 0) : Math.fround(Math.fround(span * next24()) + low);
}

/** Extra delay of each synapse in steps: round(u · (max − min)/dt + min/dt), u uniform in [0, 1). */
export function initDelays(
  delays: Uint8Array,
  pre: number,
  neurons: number,
  stride: number,
  range: { minMs: number; maxMs: number },
  dtMs: number,
  next24: () => number,
): void {
  const lo = range.minMs / dtMs;
  const span = (range.maxMs - range.minMs) / dtMs;
  for (let i = 0; i < pre; i++) for (let j = 0; j < neurons; j++) delays[i * stride + j] = Math.round(next24() * span + lo);
}
