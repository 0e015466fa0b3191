/**
 * Renders the input→excitatory weight matrix as a grid of H×W "receptive
 * fields" (28×28 for MNIST) — the standard way to see what each neuron has
 * learned in the Diehl & Cook (2015) network (each field should come to look
 * like a digit). Inputs of several channels (ON/OFF events) are drawn side by
 * side within a field: channel c of pixel (y, x) at column c·W + x.
 */
import { PNG } from 'pngjs';

export interface ReceptiveFieldOptions {
  /** Side length of one square field in weights; inputs must equal side². Default 28 (unless height/width are given). */
  side?: number;
  /** Height and width of one channel of a field; inputs must equal height·width·channels. */
  height?: number;
  width?: number;
  /** Default: inputs / (height·width). */
  channels?: number;
  /** Width in output pixels of the separator lines, also drawn around the border. Default 1. */
  gap?: number;
  /** Integer nearest-neighbour magnification of each weight. Default 1. */
  scale?: number;
}

export interface GrayImage {
  width: number;
  height: number;
  /** width×height bytes, row-major, 0 = black. */
  gray: Uint8Array;
}

/**
 * Separator colour. Dark gray rather than black so a field's darkest pixels
 * (its minimum weight, drawn as 0) remain distinguishable from the grid lines.
 */
export const GAP_GRAY = 64;

/**
 * Colour of a field whose weights are all equal. Drawn black (0): a constant
 * field carries no spatial preference, and black makes dead or untrained
 * neurons stand out, whereas mid-gray would read as "moderate weights".
 */
export const CONSTANT_FIELD_GRAY = 0;

function positiveInt(name: string, v: number, min: number): number {
  if (!Number.isInteger(v) || v < min) {
    throw new RangeError(`receptiveFieldGrid: ${name} must be an integer ≥ ${min}, got ${v}`);
  }
  return v;
}

/**
 * Lay out neuron j's incoming column w(·, j) — weights are row-major
 * [inputs, neurons], w(i, j) = weights[i*neurons + j] — as cell j of a
 * near-square grid, filled left-to-right, top-to-bottom:
 *
 *   cols = ceil(sqrt(N)), rows = ceil(N / cols)
 *   width  = cols·(side·scale + gap) + gap
 *   height = rows·(side·scale + gap) + gap
 *
 * Each field is contrast-stretched independently from its own min..max to
 * 0..255: neurons normalise their total input weight, so absolute scales
 * differ little, but a shared scale would wash out weakly tuned neurons.
 * Non-finite weights are ignored for the range and drawn as 0.
 */
export function receptiveFieldGrid(
  weights: Float32Array,
  inputs: number,
  neurons: number,
  opts: ReceptiveFieldOptions = {},
): GrayImage {
  const sized = opts.height !== undefined || opts.width !== undefined;
  const side = positiveInt('side', opts.side ?? 28, 1);
  const fh = sized ? positiveInt('height', opts.height ?? 0, 1) : side;
  const fw = sized ? positiveInt('width', opts.width ?? 0, 1) : side;
  const channels = positiveInt('channels', opts.channels ?? (sized ? Math.max(1, Math.round(inputs / (fh * fw))) : 1), 1);
  const gap = positiveInt('gap', opts.gap ?? 1, 0);
  const scale = positiveInt('scale', opts.scale ?? 1, 1);
  positiveInt('neurons', neurons, 1);
  if (!sized && inputs !== side * side) {
    throw new RangeError(`receptiveFieldGrid: inputs (${inputs}) must equal side² (${side}² = ${side * side})`);
  }
  if (sized && inputs !== fh * fw * channels) {
    throw new RangeError(`receptiveFieldGrid: inputs (${inputs}) must equal height·width·channels (${fh}·${fw}·${channels})`);
  }
  // One field is fh rows of fw·channels columns.
  const rowLen = fw * channels;
  const plane = fh * fw;
  if (weights.length !== inputs * neurons) {
    throw new RangeError(
      `receptiveFieldGrid: weights has ${weights.length} entries, expected inputs×neurons = ${inputs}×${neurons}`,
    );
  }

  const cols = Math.ceil(Math.sqrt(neurons));
  const rows = Math.ceil(neurons / cols);
  const cellW = rowLen * scale;
  const cellH = fh * scale;
  const width = cols * (cellW + gap) + gap;
  const height = rows * (cellH + gap) + gap;
  const gray = new Uint8Array(width * height).fill(GAP_GRAY);
  const field = new Uint8Array(inputs);

  for (let j = 0; j < neurons; j++) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < inputs; i++) {
      const w = weights[i * neurons + j];
      if (!Number.isFinite(w)) continue;
      if (w < lo) lo = w;
      if (w > hi) hi = w;
    }
    const range = hi - lo;
    for (let i = 0; i < inputs; i++) {
      const w = weights[i * neurons + j];
      if (!(range > 0)) field[i] = CONSTANT_FIELD_GRAY;
      else if (!Number.isFinite(w)) field[i] = 0;
      else field[i] = Math.round(((w - lo) / range) * 255);
    }

    const x0 = gap + (j % cols) * (cellW + gap);
    const y0 = gap + Math.floor(j / cols) * (cellH + gap);
    for (let y = 0; y < cellH; y++) {
      const fy = Math.floor(y / scale);
      const dst = (y0 + y) * width + x0;
      for (let x = 0; x < cellW; x++) {
        const fx = Math.floor(x / scale);
        const c = Math.floor(fx / fw);
        gray[dst + x] = field[c * plane + fy * fw + (fx - c * fw)];
      }
    }
  }
  return { width, height, gray };
}

/** 8-bit grayscale PNG (colour type 0): a third the size of RGBA for the same picture. */
export function encodePngGray(img: GrayImage): Uint8Array {
  if (img.gray.length !== img.width * img.height) {
    throw new RangeError(`encodePngGray: ${img.gray.length} bytes for a ${img.width}×${img.height} image`);
  }
  const png = new PNG({ width: img.width, height: img.height });
  png.data = Buffer.from(img.gray.buffer, img.gray.byteOffset, img.gray.byteLength);
  return PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false, bitDepth: 8 });
}

export function receptiveFieldsPng(
  weights: Float32Array,
  inputs: number,
  neurons: number,
  opts?: ReceptiveFieldOptions,
): Uint8Array {
  return encodePngGray(receptiveFieldGrid(weights, inputs, neurons, opts));
}
