/**
 * A loaded dataset as the experiment loop reads it (run/data-source.ts `ExperimentData`): images
 * as views of H·W pixels, event streams as the per-step spike train of each sample, converted when
 * the sample is presented (events.ts) so no split is ever held twice.
 */
import type { ExperimentData, ImageSplit } from '../experiment/run/data-source.js';
import { eventsToSpikeTrain, sliceEvents } from './events.js';
import type { EventSet, LoadedDataset } from './loader.js';

export function experimentData(d: LoadedDataset, timing: { steps: number; dtMs: number }): ExperimentData {
  const pixels = d.height * d.width;
  const split = (images: Uint8Array, labels: Uint8Array, count: number, events: EventSet | undefined): ImageSplit => ({
    count,
    image: events
      ? (k) => eventsToSpikeTrain(sliceEvents(events.events, events.offsets[k], events.offsets[k + 1]), { dtMs: timing.dtMs, width: d.width, height: d.height, steps: timing.steps })
      : (k) => images.subarray(k * pixels, (k + 1) * pixels),
    label: (k) => labels[k],
  });
  return {
    train: split(d.trainImages, d.trainLabels, d.trainCount, d.trainEvents),
    test: split(d.testImages, d.testLabels, d.testCount, d.testEvents),
  };
}
