/**
 * Where a run's images come from, and which of them each phase may use.
 *
 * The loop reads images and labels only through `ExperimentData`, one accessor per split, so a
 * test can inject a source that records every index each phase reads (test/experiment/
 * data-leaks.test.ts) and another dataset only needs an adapter like `mnistData`.
 *
 * `planDataUse` is the single place that decides the index ranges: training and the frozen
 * labelling pass draw from the training pool (the training split minus the validation images held
 * out at its end), validation scores exactly the held-out images, and the test split is read by
 * the test phase alone.
 */
import type { SpikeTrainInput } from '../../engine/network.js';
import { MNIST_PIXELS, type MnistData, type MnistSplit } from '../../io/mnist.js';
import type { ExperimentDefinition } from '../schema.js';
import { dataShape } from '../topology.js';

/** What one sample presents: an image's pixels (rate-encoded by the engine) or an event stream's spike train. */
export type Sample = Uint8Array | SpikeTrainInput;

export interface ImageSplit {
  readonly count: number;
  /** The pixels of image `index` (0..count−1), a read-only view; or its spike train (event streams). */
  image(index: number): Sample;
  label(index: number): number;
}

export interface ExperimentData {
  readonly train: ImageSplit;
  readonly test: ImageSplit;
}

function splitOf(s: MnistSplit): ImageSplit {
  return {
    count: s.count,
    image: (k) => s.images.subarray(k * MNIST_PIXELS, (k + 1) * MNIST_PIXELS),
    label: (k) => s.labels[k],
  };
}

/** MNIST (io/mnist.ts) as an experiment data source. */
export function mnistData(data: MnistData): ExperimentData {
  return { train: splitOf(data.train), test: splitOf(data.test) };
}

/** A half-open range of indices of one split. */
export interface IndexRange {
  first: number;
  count: number;
}

export interface DataUse {
  /** Training draws (a permutation of) indices 0..poolSize−1 of the training split. */
  poolSize: number;
  /** Images per epoch, taken from the pool. */
  perEpoch: number;
  /** The frozen labelling pass: the first images of the pool. */
  labelling: IndexRange;
  /** Validation: the images held out at the end of the training split, never trained on. */
  validation: IndexRange;
  /** Test: the first images of the test split. */
  test: IndexRange;
}

export function planDataUse(def: ExperimentDefinition, data: ExperimentData): DataUse {
  const { train: perEpoch, validation, test } = dataShape(def.dataset);
  const poolSize = data.train.count - validation;
  if (poolSize < 0) throw new Error(`validation (${validation}) exceeds the ${data.train.count} training images`);
  if (perEpoch > poolSize) throw new Error(`train (${perEpoch}) exceeds the ${poolSize} training images not held out for validation`);
  if (test > data.test.count) throw new Error(`test (${test}) exceeds the ${data.test.count} test images`);
  return {
    poolSize,
    perEpoch,
    labelling: { first: 0, count: Math.min(def.evaluation.labelSamples, poolSize) },
    validation: { first: poolSize, count: validation },
    test: { first: 0, count: test },
  };
}
