/** Builders of dataset files (IDX, NPY) and a synthetic 16×16 labelled set, for upload tests. */
import { createRng } from '../../src/engine/network.js';

/** IDX bytes: magic 00 00 <type> <ndims>, big-endian dims, payload. */
export function idx(dims: number[], data: Uint8Array, type = 0x08): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  out[2] = type;
  out[3] = dims.length;
  dims.forEach((d, k) => view.setUint32(4 + 4 * k, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

/** NPY 1.0 bytes of a little-endian array with the given descr ('|u1', '<f4', '<i8', …). */
export function npy(descr: string, shape: number[], payload: Uint8Array): Uint8Array {
  const tuple = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${tuple}, }`;
  const total = Math.ceil((10 + dict.length + 1) / 64) * 64;
  const header = dict + ' '.repeat(total - 10 - dict.length - 1) + '\n';
  const out = new Uint8Array(total + payload.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(payload, total);
  return out;
}

export const bytesOf = (a: Float32Array | BigInt64Array | Int32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/**
 * A 16×16, 4-class set of shapes — a box outline, a plus, an X and a filled disc — each shifted by
 * up to ±2 pixels, with Gaussian-free salt noise (5 % of pixels flipped to a random grey).
 */
export function shapes16(count: number, seed: number): { images: Uint8Array; labels: Uint8Array } {
  const S = 16;
  const images = new Uint8Array(count * S * S);
  const labels = new Uint8Array(count);
  const rng = createRng(seed);
  for (let k = 0; k < count; k++) {
    const label = k % 4;
    labels[k] = label;
    const dx = rng.below(5) - 2;
    const dy = rng.below(5) - 2;
    const img = images.subarray(k * S * S, (k + 1) * S * S);
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < S; x++) {
        const u = x - 7.5 - dx;
        const v = y - 7.5 - dy;
        let on = false;
        if (label === 0) on = Math.max(Math.abs(u), Math.abs(v)) > 4 && Math.max(Math.abs(u), Math.abs(v)) < 6;
        else if (label === 1) on = (Math.abs(u) < 1.2 && Math.abs(v) < 6) || (Math.abs(v) < 1.2 && Math.abs(u) < 6);
        else if (label === 2) on = Math.abs(Math.abs(u) - Math.abs(v)) < 1.2 && Math.abs(u) < 6;
        else on = u * u + v * v < 16;
        img[y * S + x] = on ? 255 : 0;
        if (rng.nextDouble() < 0.05) img[y * S + x] = rng.below(256);
      }
    }
  }
  return { images, labels };
}

export function form(files: Record<string, { bytes: Uint8Array; filename: string }>, fields: Record<string, string> = {}): FormData {
  const fd = new FormData();
  for (const [k, v] of Object.entries(fields)) fd.append(k, v);
  for (const [k, f] of Object.entries(files)) fd.append(k, new Blob([f.bytes]), f.filename);
  return fd;
}

/** The four IDX files of a shapes16 dataset. */
export function shapesIdx(train: number, test: number, seed = 1) {
  const tr = shapes16(train, seed);
  const te = shapes16(test, seed + 1000);
  return {
    trainImages: { bytes: idx([train, 16, 16], tr.images), filename: 'train-images-idx3-ubyte' },
    trainLabels: { bytes: idx([train], tr.labels), filename: 'train-labels-idx1-ubyte' },
    testImages: { bytes: idx([test, 16, 16], te.images), filename: 't10k-images-idx3-ubyte' },
    testLabels: { bytes: idx([test], te.labels), filename: 't10k-labels-idx1-ubyte' },
    raw: { train: tr, test: te },
  };
}
