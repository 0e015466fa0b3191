/**
 * The training phase: every image the schedule hands out is presented with learning on, scored
 * and added to the labelling window; window metrics, progress, weight snapshots and periodic
 * checkpoints are emitted at their cadences. A stop request ends it with a checkpoint of the
 * point where it stopped.
 */
import type { Sample } from './data-source.js';
import { checkpointDue } from './checkpoint.js';
import type { ImageSplit } from './data-source.js';
import type { ExperimentNetwork, SampleRecording } from './engine-access.js';
import type { ExperimentEvents } from './event-emission.js';
import type { LabellingWindows } from './labelling-windows.js';
import type { RunControl } from './run-control.js';
import { TrainingThroughput } from './throughput.js';
import type { TrainingSchedule } from './training-schedule.js';

export interface TrainingPhase {
  net: ExperimentNetwork;
  /** Presents one image with the re-presentation protocol; returns its spikes. */
  present(sample: Sample, learning: boolean, rec: SampleRecording | null): number;
  /** The training split; the schedule only hands out indices of its training pool. */
  images: ImageSplit;
  schedule: TrainingSchedule;
  windows: LabellingWindows;
  events: ExperimentEvents;
  control: RunControl;
  checkpointEvery: number;
  /** The whole run's state now, as a checkpoint. */
  checkpoint(): Uint8Array;
}

export interface TrainingOutcome {
  /** True if a stop request ended training early. */
  stopped: boolean;
  samples: number;
  seconds: number;
  samplesPerSec: number;
}

export function mean(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i];
  return values.length > 0 ? s / values.length : 0;
}

export async function runTrainingPhase(t: TrainingPhase): Promise<TrainingOutcome> {
  const { net, images, schedule, windows, events, control } = t;
  const throughput = new TrainingThroughput(schedule.samplesDone);
  const total = schedule.totalSamples;
  let stopped = false;
  for (let k = schedule.next(); k !== null; k = schedule.next()) {
    if (control.stopRequested()) {
      stopped = true;
      events.checkpoint(schedule.samplesDone, t.checkpoint());
      break;
    }
    const sampleIndex = schedule.samplesDone;
    const label = images.label(k);
    const rec = events.recordingFor(sampleIndex);
    t.present(images.image(k), true, rec);
    if (rec) events.recorded('train', sampleIndex, label, rec);
    windows.add(net.counts, label, net.inputSpikes, net.excSpikes);
    schedule.advance();

    const done = schedule.samplesDone;
    const epoch = schedule.epoch;
    if (windows.closesWindow(schedule.doneInEpoch, schedule.atEpochEnd)) {
      const summary = windows.close(schedule.atEpochEnd);
      events.windowClosed(epoch, done, summary, throughput.closeWindow(summary.samples), mean(net.theta));
    }
    if (events.progressDue(done, total)) events.progress('train', epoch, done, total, throughput.rate(done));
    if (events.weightsDue(done)) events.weights(done, net.denseWeights());
    if (checkpointDue(t.checkpointEvery, done, total)) events.checkpoint(done, t.checkpoint());
    await control.yieldIfDue();
  }
  return { stopped, samples: schedule.samplesDone, ...throughput.finish(schedule.samplesDone) };
}
