/**
 * Binary frames of the live stream (spikes, weights, voltage). Layout is documented in
 * docs/streaming.md and openapi.yaml; keep the three in sync. All integers little-endian; the
 * payload starts at byte 36 so Float32/Uint32 views over it are aligned.
 *
 *   0  u8  version (1)          1  u8  kind (1 spikes, 2 weights, 3 voltage)
 *   2  u8  dtype (1 u32, 2 f32) 3  u8  phase (0 train, 1 test)
 *   4  u32 seq                  8  u32 sampleIndex
 *  12  u32 rows                16  u32 cols
 *  20  u32 steps               24  u32 label (0xFFFFFFFF = none)
 *  28  u8  layer (0 input, 1 excitatory, 2 inhibitory, 255 none)   29..31 reserved (0)
 *  32  u32 layerSize (spikes: neurons of the layer; otherwise 0)
 */
import type { SpikesEvent, VoltageEvent, WeightsEvent } from '../experiment/events.js';

export const FRAME_VERSION = 1;
export const HEADER_BYTES = 36;
export const FrameKind = { spikes: 1, weights: 2, voltage: 3 } as const;
export const Dtype = { uint32: 1, float32: 2 } as const;
const layerCodes = { input: 0, excitatory: 1, inhibitory: 2 } as const;
const NONE = 0xffffffff;

export interface FrameHeader {
  version: number;
  kind: number;
  dtype: number;
  phase: 'train' | 'test';
  seq: number;
  sampleIndex: number;
  rows: number;
  cols: number;
  steps: number;
  label: number | null;
  layer: 'input' | 'excitatory' | 'inhibitory' | null;
  layerSize: number;
}

function frame(header: Omit<FrameHeader, 'version'>, parts: ArrayBufferView[]): Buffer {
  const payloadBytes = parts.reduce((n, p) => n + p.byteLength, 0);
  const buf = Buffer.allocUnsafe(HEADER_BYTES + payloadBytes);
  buf.writeUInt8(FRAME_VERSION, 0);
  buf.writeUInt8(header.kind, 1);
  buf.writeUInt8(header.dtype, 2);
  buf.writeUInt8(header.phase === 'test' ? 1 : 0, 3);
  buf.writeUInt32LE(header.seq >>> 0, 4);
  buf.writeUInt32LE(header.sampleIndex >>> 0, 8);
  buf.writeUInt32LE(header.rows, 12);
  buf.writeUInt32LE(header.cols, 16);
  buf.writeUInt32LE(header.steps, 20);
  buf.writeUInt32LE(header.label === null ? NONE : header.label, 24);
  buf.writeUInt8(header.layer === null ? 255 : layerCodes[header.layer], 28);
  buf.writeUInt8(0, 29);
  buf.writeUInt16LE(0, 30);
  buf.writeUInt32LE(header.layerSize, 32);
  let offset = HEADER_BYTES;
  for (const p of parts) {
    // Typed arrays are little-endian on every platform Node supports, so bytes copy as-is.
    Buffer.from(p.buffer, p.byteOffset, p.byteLength).copy(buf, offset);
    offset += p.byteLength;
  }
  return buf;
}

/** Payload: `rows` (step, neuron) pairs as uint32, sorted by step. */
export function spikesFrame(e: SpikesEvent, seq: number): Buffer {
  return frame(
    {
      kind: FrameKind.spikes,
      dtype: Dtype.uint32,
      phase: e.phase,
      seq,
      sampleIndex: e.sampleIndex,
      rows: e.data.length / 2,
      cols: 2,
      steps: e.steps,
      label: e.label,
      layer: e.layer,
      layerSize: e.neurons,
    },
    [e.data],
  );
}

/** Payload: float32 [rows = inputs, cols = neurons], row-major (the .npy layout). */
export function weightsFrame(e: Pick<WeightsEvent, 'sampleIndex' | 'shape' | 'data'>, seq: number): Buffer {
  return frame(
    {
      kind: FrameKind.weights,
      dtype: Dtype.float32,
      phase: 'train',
      seq,
      sampleIndex: e.sampleIndex,
      rows: e.shape[0],
      cols: e.shape[1],
      steps: 0,
      label: null,
      layer: null,
      layerSize: 0,
    },
    [e.data],
  );
}

/**
 * Payload: uint32 neuron indices [cols], then float32 voltage [rows = steps, cols], then
 * float32 effective threshold [rows, cols] (mV).
 */
export function voltageFrame(e: VoltageEvent, seq: number): Buffer {
  return frame(
    {
      kind: FrameKind.voltage,
      dtype: Dtype.float32,
      phase: e.phase,
      seq,
      sampleIndex: e.sampleIndex,
      rows: e.steps,
      cols: e.neurons.length,
      steps: e.steps,
      label: null,
      layer: 'excitatory',
      layerSize: 0,
    },
    [Uint32Array.from(e.neurons), e.voltage, e.threshold],
  );
}

export function parseFrameHeader(buf: Uint8Array): FrameHeader {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const layerCode = b.readUInt8(28);
  const label = b.readUInt32LE(24);
  return {
    version: b.readUInt8(0),
    kind: b.readUInt8(1),
    dtype: b.readUInt8(2),
    phase: b.readUInt8(3) === 1 ? 'test' : 'train',
    seq: b.readUInt32LE(4),
    sampleIndex: b.readUInt32LE(8),
    rows: b.readUInt32LE(12),
    cols: b.readUInt32LE(16),
    steps: b.readUInt32LE(20),
    label: label === NONE ? null : label,
    layer: layerCode === 255 ? null : (['input', 'excitatory', 'inhibitory'] as const)[layerCode]!,
    layerSize: b.readUInt32LE(32),
  };
}
