/**
 * Data hygiene of the experiment loop, observed rather than assumed: the run gets a data source
 * whose accessors record every (split, index) they are asked for, in order, and the tests check
 * what each phase read:
 *
 *   training             only training-pool indices (never a held-out validation image, never a
 *                        test image); each epoch a permutation of the pool
 *   frozen labelling     only the first training-pool images
 *   validation           exactly the held-out training images (none of them trained on)
 *   test                 the test images, and nothing reads the test split before this phase
 *
 * Each phase reads a known number of images, in protocol order (training, labelling, validation,
 * test), so the log of image reads splits into the phases by counting.
 */
import { describe, expect, it } from 'vitest';
import type { ExperimentEvent } from '../../src/experiment/events.js';
import { resolveDefinition } from '../../src/experiment/presets.js';
import { runExperiment, type ExperimentData, type ImageSplit } from '../../src/experiment/run.js';
import type { ExperimentDefinition } from '../../src/experiment/schema.js';
import { loadMnist, type MnistSplit } from '../../src/io/mnist.js';

type SplitName = 'train' | 'test';
interface Read {
  split: SplitName;
  what: 'image' | 'label';
  index: number;
}

/** The first `count` images of an MNIST split, every access recorded in `log`. */
function tracedSplit(name: SplitName, s: MnistSplit, count: number, log: Read[]): ImageSplit {
  return {
    count,
    image(index) {
      log.push({ split: name, what: 'image', index });
      if (!(Number.isInteger(index) && index >= 0 && index < count)) throw new Error(`${name} image ${index} does not exist`);
      return s.images.subarray(index * 784, (index + 1) * 784);
    },
    label(index) {
      log.push({ split: name, what: 'label', index });
      if (!(Number.isInteger(index) && index >= 0 && index < count)) throw new Error(`${name} label ${index} does not exist`);
      return s.labels[index];
    },
  };
}

function tracedData(trainCount: number, testCount: number): { data: ExperimentData; log: Read[] } {
  const mnist = loadMnist();
  const log: Read[] = [];
  return { data: { train: tracedSplit('train', mnist.train, trainCount, log), test: tracedSplit('test', mnist.test, testCount, log) }, log };
}

const QUIET = { spikesEvery: 0, weightsEvery: 0, progressEvery: 1000 };

function definition(extra: Record<string, unknown>): ExperimentDefinition {
  return resolveDefinition({ preset: 'diehl-cook-2015', neurons: 10, seed: 3, checkpointEvery: 0, stream: QUIET, labelUpdateInterval: 100, ...extra });
}

interface Phases {
  training: Read[][];
  labelling: Read[];
  validation: Read[];
  test: Read[];
}

/** Splits the image reads into the protocol's phases by their known sizes; checks nothing is left. */
function phases(log: Read[], sizes: { perEpoch: number; epochs: number; labelling: number; validation: number; test: number }): Phases {
  const images = log.filter((r) => r.what === 'image');
  const total = sizes.perEpoch * sizes.epochs + sizes.labelling + sizes.validation + sizes.test;
  expect(images.length, 'images read by the whole run').toBe(total);
  let at = 0;
  const take = (n: number) => images.slice(at, (at += n));
  return {
    training: Array.from({ length: sizes.epochs }, () => take(sizes.perEpoch)),
    labelling: take(sizes.labelling),
    validation: take(sizes.validation),
    test: take(sizes.test),
  };
}

const indices = (reads: Read[]) => reads.map((r) => r.index);
const range = (first: number, count: number) => Array.from({ length: count }, (_, k) => first + k);
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);

/** Labels are read for exactly the images read, split by split (no label read on its own). */
function expectLabelsFollowImages(log: Read[]): void {
  for (const split of ['train', 'test'] as const) {
    const of = (what: Read['what']) => sorted(indices(log.filter((r) => r.split === split && r.what === what)));
    expect(of('label'), `${split} labels read`).toEqual(of('image'));
  }
}

/** Nothing touches the test split (image or label) before the test phase's first image. */
function expectTestSplitUntouchedBefore(log: Read[], firstTestImage: Read): void {
  const testStart = log.indexOf(firstTestImage);
  const firstTestRead = log.findIndex((r) => r.split === 'test');
  expect(firstTestRead, 'first read of the test split').toBe(testStart);
}

async function run(def: ExperimentDefinition, data: ExperimentData, opts: { emit?: (e: ExperimentEvent) => void } = {}) {
  return runExperiment(def, { data, emit: opts.emit ?? (() => {}) });
}

describe('data hygiene: which images each phase reads (traced data source)', () => {
  // 400 training images: the last 100 held out for validation, so the training pool is 0..299.
  const TRAIN_IMAGES = 400;
  const VALIDATION = 100;
  const POOL = TRAIN_IMAGES - VALIDATION;

  it('training-window labelling, 2 epochs over the whole pool: training reads only pool images, validation exactly the held-out ones, test images only in the test phase', async () => {
    const { data, log } = tracedData(TRAIN_IMAGES, 80);
    const def = definition({ train: POOL, validation: VALIDATION, test: 60, epochs: 2 });
    const result = await run(def, data);
    expect(result.cancelled).toBe(false);
    expect(result.validation.samples).toBe(VALIDATION);

    const p = phases(log, { perEpoch: POOL, epochs: 2, labelling: 0, validation: VALIDATION, test: 60 });
    for (const [e, epoch] of p.training.entries()) {
      expect(epoch.every((r) => r.split === 'train'), `epoch ${e} reads only training images`).toBe(true);
      // The whole pool once per epoch: every pool image, no held-out one.
      expect(sorted(indices(epoch)), `epoch ${e} is a permutation of the pool`).toEqual(range(0, POOL));
    }
    expect(indices(p.training[0])).not.toEqual(range(0, POOL)); // shuffled
    expect(p.validation.every((r) => r.split === 'train')).toBe(true);
    expect(indices(p.validation), 'validation reads exactly the held-out images').toEqual(range(POOL, VALIDATION));
    expect(p.test.every((r) => r.split === 'test')).toBe(true);
    expect(indices(p.test)).toEqual(range(0, 60));
    expectTestSplitUntouchedBefore(log, p.test[0]);
    expectLabelsFollowImages(log);
  });

  it('frozen-pass labelling: the labelling pass reads the first pool images, never held-out or test ones', async () => {
    const { data, log } = tracedData(TRAIN_IMAGES, 80);
    const def = definition({ train: 250, validation: VALIDATION, test: 50, assignment: 'frozen-pass', labelSamples: 200 });
    const result = await run(def, data);
    expect(result.cancelled).toBe(false);

    const p = phases(log, { perEpoch: 250, epochs: 1, labelling: 200, validation: VALIDATION, test: 50 });
    expect(p.training[0].every((r) => r.split === 'train' && r.index < POOL), 'training reads only pool images').toBe(true);
    expect(new Set(indices(p.training[0])).size).toBe(250);
    expect(p.labelling.every((r) => r.split === 'train'), 'the labelling pass reads training images only').toBe(true);
    expect(indices(p.labelling)).toEqual(range(0, 200));
    expect(indices(p.validation)).toEqual(range(POOL, VALIDATION));
    expect(p.validation.every((r) => r.split === 'train')).toBe(true);
    expect(p.test.every((r) => r.split === 'test')).toBe(true);
    expectTestSplitUntouchedBefore(log, p.test[0]);
    expectLabelsFollowImages(log);
  });

  it('frozen-pass labelling asked for more images than the pool has stops at the pool (no held-out image is used for labels)', async () => {
    const { data, log } = tracedData(TRAIN_IMAGES, 80);
    const def = definition({ train: 100, validation: VALIDATION, test: 20, assignment: 'frozen-pass', labelSamples: 5000 });
    await run(def, data);
    const p = phases(log, { perEpoch: 100, epochs: 1, labelling: POOL, validation: VALIDATION, test: 20 });
    expect(p.labelling.every((r) => r.split === 'train')).toBe(true);
    expect(indices(p.labelling)).toEqual(range(0, POOL));
    expect(indices(p.validation)).toEqual(range(POOL, VALIDATION));
    expectTestSplitUntouchedBefore(log, p.test[0]);
  });

  it('without test images the test split is never read; without validation nothing is held out', async () => {
    const { data, log } = tracedData(TRAIN_IMAGES, 80);
    await run(definition({ train: TRAIN_IMAGES, validation: 0, test: 0, assignment: 'frozen-pass', labelSamples: 50 }), data);
    expect(log.some((r) => r.split === 'test')).toBe(false);
    const p = phases(log, { perEpoch: TRAIN_IMAGES, epochs: 1, labelling: 50, validation: 0, test: 0 });
    expect(sorted(indices(p.training[0]))).toEqual(range(0, TRAIN_IMAGES));
  });

  it('a definition needing more images than the source has is refused before anything is read', async () => {
    const { data, log } = tracedData(TRAIN_IMAGES, 80);
    await expect(run(definition({ train: POOL + 1, validation: VALIDATION, test: 10 }), data)).rejects.toThrow(/exceeds/);
    await expect(run(definition({ train: 10, validation: 0, test: 81 }), data)).rejects.toThrow(/exceeds/);
    expect(log).toEqual([]);
  });

  it('the injected source is the whole input: a traced MNIST gives the same run as the default loader', async () => {
    const mnist = loadMnist();
    const { data, log } = tracedData(mnist.train.count, mnist.test.count);
    const def = definition({ train: 120, validation: 30, test: 30, assignment: 'frozen-pass', labelSamples: 40 });
    const traced = await run(def, data);
    const plain = await runExperiment(def, { emit: () => {} });
    expect(traced.weightsSha256).toBe(plain.weightsSha256);
    expect(traced.accuracy).toEqual(plain.accuracy);
    expect(traced.validation).toEqual(plain.validation);
    expect(traced.assignments).toEqual(plain.assignments);
    const p = phases(log, { perEpoch: 120, epochs: 1, labelling: 40, validation: 30, test: 30 });
    expect(p.training[0].every((r) => r.split === 'train' && r.index < 60000 - 30)).toBe(true);
    expect(p.labelling.every((r) => r.split === 'train')).toBe(true);
    expect(indices(p.labelling)).toEqual(range(0, 40));
    expect(p.validation.every((r) => r.split === 'train')).toBe(true);
    expect(indices(p.validation)).toEqual(range(60000 - 30, 30));
    expectTestSplitUntouchedBefore(log, p.test[0]);
    expectLabelsFollowImages(log);
  });
});
