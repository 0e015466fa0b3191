/**
 * eth_mnist's labelling during training: each training sample is scored with the labels assigned
 * before its window, then added to the window; every `interval` samples of an epoch (and at the
 * epoch's end) the window closes — its accuracy and spike counts are reported — and labels are
 * re-assigned from it (cumulative rates). The last window of an epoch is scored but not used for
 * assignment, except when no assignment happened yet (runs shorter than one window), so that tiny
 * runs still get labels.
 */
import { LabelAssigner } from '../../engine/evaluation.js';
import type { StatePart } from './state-part.js';

export interface WindowSummary {
  samples: number;
  /** Fractions under the labels assigned before the window; null before any assignment. */
  accuracy: { allActivity: number | null; proportionWeighting: number | null };
  spikesPerSample: { input: number; excitatory: number };
}

export class LabellingWindows {
  readonly labels: LabelAssigner;
  private correctAllActivity = 0;
  private correctProportion = 0;
  private samples = 0;
  private inputSpikes = 0;
  private excitatorySpikes = 0;
  private readonly votes: Float64Array;

  constructor(
    neurons: number,
    /** Samples per window (labelUpdateInterval). */
    private readonly interval: number,
    /** Classes of the dataset (10 for MNIST). */
    classes = 10,
    /** False for an unlabelled dataset: every label is 0, so there is no accuracy to report. */
    private readonly labelled = true,
  ) {
    this.labels = new LabelAssigner(neurons, classes);
    this.votes = new Float64Array(classes);
  }

  /** Scores one training sample with the current labels, then adds its spikes to the window. */
  add(counts: Int32Array, label: number, inputSpikes: number, excitatorySpikes: number): void {
    if (this.labels.predictAllActivity(counts, this.votes) === label) this.correctAllActivity++;
    if (this.labels.predictProportion(counts, this.votes) === label) this.correctProportion++;
    this.samples++;
    this.inputSpikes += inputSpikes;
    this.excitatorySpikes += excitatorySpikes;
    this.labels.observe(counts, label);
  }

  /** Whether the sample that made `doneInEpoch` samples of the epoch closes a window. */
  closesWindow(doneInEpoch: number, atEpochEnd: boolean): boolean {
    return doneInEpoch % this.interval === 0 || atEpochEnd;
  }

  /** Closes the window: summarises it, then assigns labels from it unless it ends an epoch. */
  close(atEpochEnd: boolean): WindowSummary {
    const n = this.samples;
    const summary: WindowSummary = {
      samples: n,
      accuracy:
        this.labels.assignmentsMade === 0 || !this.labelled
          ? { allActivity: null, proportionWeighting: null }
          : { allActivity: this.correctAllActivity / n, proportionWeighting: this.correctProportion / n },
      spikesPerSample: { input: this.inputSpikes / n, excitatory: this.excitatorySpikes / n },
    };
    this.correctAllActivity = this.correctProportion = this.samples = this.inputSpikes = this.excitatorySpikes = 0;
    if (!atEpochEnd || this.labels.assignmentsMade === 0) this.labels.assign();
    else this.labels.clearWindow();
    return summary;
  }

  encodeState(): StatePart {
    const { assignmentsMade, ...arrays } = this.labels.getState();
    return {
      meta: {
        assignmentsMade,
        window: {
          correctAllActivity: this.correctAllActivity,
          correctProportion: this.correctProportion,
          samples: this.samples,
          inputSpikes: this.inputSpikes,
          excitatorySpikes: this.excitatorySpikes,
        },
      },
      arrays,
    };
  }

  decodeState({ meta, arrays }: StatePart): void {
    this.labels.setState({
      assignmentsMade: meta.assignmentsMade as number,
      rates: arrays.rates as Float64Array,
      proportions: arrays.proportions as Float64Array,
      assignments: arrays.assignments as Int32Array,
      windowSums: arrays.windowSums as Float64Array,
      windowCounts: arrays.windowCounts as Int32Array,
    });
    const w = meta.window as Record<string, number>;
    this.correctAllActivity = w.correctAllActivity;
    this.correctProportion = w.correctProportion;
    this.samples = w.samples;
    this.inputSpikes = w.inputSpikes;
    this.excitatorySpikes = w.excitatorySpikes;
  }
}
