/**
 * Diehl & Cook's re-presentation protocol: a sample that drew fewer than `belowSpikes` excitatory
 * spikes is presented again with the input rate raised by `rateStepHz` per repeat, up to
 * `maxRepeats` times (training and evaluation alike). A recording keeps only the last
 * presentation.
 */
import type { ExperimentDefinition } from '../schema.js';
import type { Sample } from './data-source.js';
import type { ExperimentNetwork, SampleRecording } from './engine-access.js';

export type Represent = ExperimentDefinition['represent'];

/** Presents `image` (repeating it while it stays quiet); returns the last presentation's spikes. */
export function presentWithRepeats(net: ExperimentNetwork, represent: Represent, image: Sample, learning: boolean, rec: SampleRecording | null): number {
  let spikes = net.runSample(image, learning, rec);
  // An event stream has no rate to raise: it is presented once, as recorded.
  if (!(image instanceof Uint8Array)) return spikes;
  for (let repeat = 1; spikes < represent.belowSpikes && repeat <= represent.maxRepeats; repeat++) {
    if (rec) rec.input.length = rec.excitatory.length = rec.inhibitory.length = rec.voltage.length = rec.threshold.length = 0;
    spikes = net.runSample(image, learning, rec, repeat * represent.rateStepHz);
  }
  return spikes;
}
