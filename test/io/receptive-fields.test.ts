import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import {
  CONSTANT_FIELD_GRAY,
  GAP_GRAY,
  encodePngGray,
  receptiveFieldGrid,
  receptiveFieldsPng,
} from '../../src/io/receptive-fields.js';

const INPUTS = 784;

/** Weights with w(i, j) = f(i, j), row-major [inputs, neurons]. */
function weightsFrom(neurons: number, f: (i: number, j: number) => number, inputs = INPUTS): Float32Array {
  const w = new Float32Array(inputs * neurons);
  for (let i = 0; i < inputs; i++) for (let j = 0; j < neurons; j++) w[i * neurons + j] = f(i, j);
  return w;
}

/** Neuron j prefers exactly one pixel: (r, c) = (j, 27 - j) — distinct per neuron. */
const hotPixel = (j: number): [number, number] => [j % 28, 27 - (j % 28)];
const oneHot = (neurons: number): Float32Array =>
  weightsFrom(neurons, (i, j) => {
    const [r, c] = hotPixel(j);
    return i === r * 28 + c ? 1 : 0;
  });

describe('receptiveFieldGrid', () => {
  it.each([
    [1, 1, 1],
    [2, 2, 1],
    [3, 2, 2],
    [4, 2, 2],
    [5, 3, 2],
    [10, 4, 3],
    [100, 10, 10],
    [101, 11, 10],
    [400, 20, 20],
  ])('N=%i neurons → %i cols × %i rows', (n, cols, rows) => {
    const img = receptiveFieldGrid(new Float32Array(INPUTS * n), INPUTS, n);
    expect(img.width).toBe(cols * 29 + 1);
    expect(img.height).toBe(rows * 29 + 1);
    expect(img.gray.length).toBe(img.width * img.height);
  });

  it('applies gap and scale to the size formula', () => {
    const img = receptiveFieldGrid(new Float32Array(INPUTS * 5), INPUTS, 5, { gap: 2, scale: 3 });
    expect(img.width).toBe(3 * (28 * 3 + 2) + 2);
    expect(img.height).toBe(2 * (28 * 3 + 2) + 2);
  });

  it('places each neuron’s bright pixel at its grid cell, reading columns of the row-major matrix', () => {
    const n = 7; // 3×3 grid, last two cells empty
    const img = receptiveFieldGrid(oneHot(n), INPUTS, n);
    for (let j = 0; j < n; j++) {
      const [r, c] = hotPixel(j);
      const x0 = 1 + (j % 3) * 29;
      const y0 = 1 + Math.floor(j / 3) * 29;
      for (let y = 0; y < 28; y++) {
        for (let x = 0; x < 28; x++) {
          const v = img.gray[(y0 + y) * img.width + x0 + x];
          expect(v, `neuron ${j} pixel (${y}, ${x})`).toBe(y === r && x === c ? 255 : 0);
        }
      }
    }
  });

  it('draws gap lines, the outer border and unused cells in the background gray', () => {
    const img = receptiveFieldGrid(oneHot(7), INPUTS, 7);
    const at = (x: number, y: number): number => img.gray[y * img.width + x];
    for (let x = 0; x < img.width; x++) {
      for (const y of [0, 29, 58, 87]) expect(at(x, y)).toBe(GAP_GRAY);
    }
    for (let y = 0; y < img.height; y++) {
      for (const x of [0, 29, 58, 87]) expect(at(x, y)).toBe(GAP_GRAY);
    }
    // Cells 7 and 8 (row 2, cols 1..2) have no neuron.
    for (let y = 59; y < 87; y++) for (let x = 30; x < 87; x++) expect(at(x, y)).toBe(GAP_GRAY);
  });

  it('scales each field from its own min..max, independently of other neurons', () => {
    // Neuron 0 spans 0..1, neuron 1 spans -10..30: both should use the full 0..255 range.
    const w = weightsFrom(2, (i, j) => (j === 0 ? i / 783 : -10 + (40 * i) / 783));
    const img = receptiveFieldGrid(w, INPUTS, 2);
    for (const j of [0, 1]) {
      const x0 = 1 + j * 29;
      const pix = (r: number, c: number): number => img.gray[(1 + r) * img.width + x0 + c];
      expect(pix(0, 0)).toBe(0);
      expect(pix(27, 27)).toBe(255);
      expect(pix(14, 0)).toBe(Math.round(((14 * 28) / 783) * 255)); // linear in between
    }
  });

  it(`draws a constant field as ${CONSTANT_FIELD_GRAY}, distinct from the background`, () => {
    const w = weightsFrom(2, (i, j) => (j === 0 ? 0.3 : i === 0 ? 1 : 0));
    const img = receptiveFieldGrid(w, INPUTS, 2);
    const cell0 = Array.from({ length: 28 * 28 }, (_, k) => img.gray[(1 + Math.floor(k / 28)) * img.width + 1 + (k % 28)]);
    expect(new Set(cell0)).toEqual(new Set([CONSTANT_FIELD_GRAY]));
    expect(CONSTANT_FIELD_GRAY).not.toBe(GAP_GRAY);
  });

  it('ignores non-finite weights when computing the range', () => {
    const w = weightsFrom(1, (i) => (i === 0 ? NaN : i === 1 ? Infinity : i === 2 ? 4 : 2));
    const img = receptiveFieldGrid(w, INPUTS, 1);
    const row0 = Array.from(img.gray.subarray(img.width + 1, img.width + 5));
    expect(row0).toEqual([0, 0, 255, 0]);
  });

  it('magnifies with scale by pixel replication', () => {
    const img = receptiveFieldGrid(oneHot(1), INPUTS, 1, { scale: 2, gap: 0 });
    const [r, c] = hotPixel(0); // (0, 27)
    expect(img.width).toBe(56);
    for (const [dy, dx] of [[0, 0], [0, 1], [1, 0], [1, 1]]) {
      expect(img.gray[(2 * r + dy) * 56 + 2 * c + dx]).toBe(255);
    }
    expect(img.gray.reduce((n, v) => n + (v === 255 ? 1 : 0), 0)).toBe(4);
  });

  it('supports other field sizes via side', () => {
    const w = weightsFrom(2, (i, j) => (i === 3 * j ? 1 : 0), 9);
    const img = receptiveFieldGrid(w, 9, 2, { side: 3 });
    expect([img.width, img.height]).toEqual([2 * 4 + 1, 4 + 1]);
    expect(img.gray[1 * img.width + 1]).toBe(255); // neuron 0, pixel (0,0)
    expect(img.gray[2 * img.width + 5]).toBe(255); // neuron 1, pixel (1,0)
  });

  it('rejects inconsistent arguments', () => {
    expect(() => receptiveFieldGrid(new Float32Array(784 * 3), 784, 4)).toThrow(/weights has 2352 entries, expected inputs×neurons = 784×4/);
    expect(() => receptiveFieldGrid(new Float32Array(100), 100, 1)).toThrow(/inputs \(100\) must equal side² \(28² = 784\)/);
    expect(() => receptiveFieldGrid(new Float32Array(0), 784, 0)).toThrow(/neurons must be an integer ≥ 1/);
    expect(() => receptiveFieldGrid(new Float32Array(784), 784, 1, { scale: 0 })).toThrow(/scale must be an integer ≥ 1/);
    expect(() => receptiveFieldGrid(new Float32Array(784), 784, 1, { gap: 1.5 })).toThrow(/gap must be an integer ≥ 0/);
  });
});

describe('encodePngGray / receptiveFieldsPng', () => {
  it('writes an 8-bit grayscale PNG that decodes to the same pixels', () => {
    const img = { width: 3, height: 2, gray: new Uint8Array([0, 64, 255, 10, 20, 30]) };
    const bytes = encodePngGray(img);
    expect(Array.from(bytes.subarray(0, 8))).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    // IHDR: bit depth 8, colour type 0 (grayscale).
    expect(bytes[24]).toBe(8);
    expect(bytes[25]).toBe(0);
    const png = PNG.sync.read(Buffer.from(bytes));
    expect([png.width, png.height]).toEqual([3, 2]);
    for (let k = 0; k < 6; k++) {
      expect([png.data[4 * k], png.data[4 * k + 1], png.data[4 * k + 2], png.data[4 * k + 3]]).toEqual([
        img.gray[k],
        img.gray[k],
        img.gray[k],
        255,
      ]);
    }
  });

  it('rejects a pixel buffer of the wrong size', () => {
    expect(() => encodePngGray({ width: 3, height: 3, gray: new Uint8Array(8) })).toThrow(/8 bytes for a 3×3 image/);
  });

  it('round-trips a receptive-field grid: size formula and hot pixels at the expected positions', () => {
    const n = 10; // 4 cols × 3 rows
    const scale = 2;
    const gap = 1;
    const png = PNG.sync.read(Buffer.from(receptiveFieldsPng(oneHot(n), INPUTS, n, { scale, gap })));
    const cell = 28 * scale;
    expect(png.width).toBe(4 * (cell + gap) + gap);
    expect(png.height).toBe(3 * (cell + gap) + gap);
    const red = (x: number, y: number): number => png.data[4 * (y * png.width + x)];

    let bright = 0;
    for (let k = 0; k < png.width * png.height; k++) if (png.data[4 * k] === 255) bright++;
    expect(bright).toBe(n * scale * scale);

    for (let j = 0; j < n; j++) {
      const [r, c] = hotPixel(j);
      const x = gap + (j % 4) * (cell + gap) + c * scale;
      const y = gap + Math.floor(j / 4) * (cell + gap) + r * scale;
      expect(red(x, y), `neuron ${j}`).toBe(255);
      expect(red(x + 1, y + 1), `neuron ${j}`).toBe(255);
    }
    expect(red(0, 0)).toBe(GAP_GRAY);
    expect(red(png.width - 1, png.height - 1)).toBe(GAP_GRAY); // unused cell 11
  });
});
