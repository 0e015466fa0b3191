/**
 * Passes over images with learning off (weights and θ frozen): Diehl & Cook's frozen labelling
 * pass, and the scoring of validation and test images. Each reads only the index range of the
 * split it is given (data-source.ts decides the ranges).
 */
import type { Sample } from './data-source.js';
import { ConfusionMatrix, LabelAssigner } from '../../engine/evaluation.js';
import type { ImageSplit, IndexRange } from './data-source.js';
import type { SampleRecording } from './engine-access.js';
import type { RunControl } from './run-control.js';
import { Stopwatch } from './throughput.js';

export interface FrozenNetwork {
  /** Presents one sample (with the re-presentation protocol), learning off; returns its spikes. */
  present(sample: Sample, rec: SampleRecording | null): number;
  /** Spikes of each excitatory neuron in the last presentation. */
  readonly counts: Int32Array;
  readonly neurons: number;
  /** Classes of the dataset (10 for MNIST). */
  readonly classes?: number;
}

/**
 * Diehl & Cook's labelling: one pass over `range` of the (training) split; each neuron gets the
 * class it responded to most. Null if stopped.
 */
export async function frozenLabellingPass(net: FrozenNetwork, split: ImageSplit, range: IndexRange, control: RunControl): Promise<LabelAssigner | null> {
  const labels = new LabelAssigner(net.neurons, net.classes ?? 10);
  for (let k = range.first; k < range.first + range.count; k++) {
    if (control.stopRequested()) return null;
    net.present(split.image(k), null);
    labels.observe(net.counts, split.label(k));
    await control.yieldIfDue();
  }
  labels.assign();
  return labels;
}

export interface Score {
  allActivity: ConfusionMatrix;
  proportion: ConfusionMatrix;
  /** Excitatory spikes over all scored samples. */
  spikes: number;
  seconds: number;
}

/** Watches a scoring pass sample by sample (the test phase streams rasters and progress). */
export interface ScoringObserver {
  recordingFor(q: number): SampleRecording | null;
  scored(q: number, label: number, rec: SampleRecording | null, elapsedMs: number): void;
}

/** Classifies `range` of the split with `labels` (both readouts). Null if stopped. */
export async function scoreImages(
  net: FrozenNetwork,
  labels: LabelAssigner,
  split: ImageSplit,
  range: IndexRange,
  control: RunControl,
  observer: ScoringObserver | null = null,
): Promise<Score | null> {
  const allActivity = new ConfusionMatrix(labels.classes);
  const proportion = new ConfusionMatrix(labels.classes);
  const votes = new Float64Array(labels.classes);
  let spikes = 0;
  const clock = new Stopwatch();
  for (let q = 0; q < range.count; q++) {
    if (control.stopRequested()) return null;
    const k = range.first + q;
    const rec = observer ? observer.recordingFor(q) : null;
    spikes += net.present(split.image(k), rec);
    const label = split.label(k);
    allActivity.add(label, labels.predictAllActivity(net.counts, votes));
    proportion.add(label, labels.predictProportion(net.counts, votes));
    observer?.scored(q, label, rec, clock.elapsedMs());
    await control.yieldIfDue();
  }
  return { allActivity, proportion, spikes, seconds: clock.elapsedMs() / 1000 };
}
