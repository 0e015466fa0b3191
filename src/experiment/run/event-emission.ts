/**
 * Turns what the loop does into the events of events.ts, at the cadences of the definition's
 * `stream` settings: spike rasters and voltages of every `spikesEvery`-th sample, progress every
 * `progressEvery` samples (and at a phase's end), weight snapshots every `weightsEvery` training
 * samples, window metrics, checkpoints and the final result.
 */
import type { EmitFn, ExperimentResult, Phase } from '../events.js';
import type { ExperimentDefinition } from '../schema.js';
import { createRecording, type SampleRecording } from './engine-access.js';
import type { WindowSummary } from './labelling-windows.js';

export class ExperimentEvents {
  constructor(
    private readonly emit: EmitFn,
    private readonly stream: ExperimentDefinition['stream'],
    /** Simulation steps per sample, input and excitatory layer sizes. */
    private readonly shape: { steps: number; inputs: number; neurons: number },
  ) {}

  /** A recording for the `sampleIndex`-th sample of a phase if its rasters are streamed, else null. */
  recordingFor(sampleIndex: number): SampleRecording | null {
    const every = this.stream.spikesEvery;
    return every > 0 && sampleIndex % every === 0 ? createRecording(this.stream.voltageNeurons) : null;
  }

  /** The spike rasters (three layers) and voltage traces of a recorded sample. */
  recorded(phase: Phase, sampleIndex: number, label: number, rec: SampleRecording): void {
    const { steps, inputs, neurons } = this.shape;
    const layers = [
      ['input', rec.input, inputs],
      ['excitatory', rec.excitatory, neurons],
      ['inhibitory', rec.inhibitory, neurons],
    ] as const;
    for (const [layer, pairs, size] of layers) {
      this.emit({ type: 'spikes', phase, sampleIndex, label, layer, steps, neurons: size, data: Uint32Array.from(pairs) });
    }
    if (rec.voltageNeurons.length > 0) {
      this.emit({
        type: 'voltage',
        phase,
        sampleIndex,
        steps,
        neurons: rec.voltageNeurons,
        voltage: Float32Array.from(rec.voltage),
        threshold: Float32Array.from(rec.threshold),
      });
    }
  }

  windowClosed(epoch: number, samplesSeen: number, w: WindowSummary, samplesPerSec: number, thetaMean: number): void {
    this.emit({ type: 'metrics', phase: 'train', epoch, samplesSeen, accuracy: w.accuracy, spikesPerSample: w.spikesPerSample, samplesPerSec, thetaMean });
  }

  progressDue(done: number, total: number): boolean {
    return done % this.stream.progressEvery === 0 || done === total;
  }

  progress(phase: Phase, epoch: number, done: number, total: number, samplesPerSec: number): void {
    this.emit({ type: 'progress', phase, epoch, done, total, samplesPerSec, etaSec: (total - done) / samplesPerSec });
  }

  weightsDue(samplesDone: number): boolean {
    return this.stream.weightsEvery > 0 && samplesDone % this.stream.weightsEvery === 0;
  }

  weights(sampleIndex: number, data: Float32Array): void {
    this.emit({ type: 'weights', sampleIndex, shape: [this.shape.inputs, this.shape.neurons], data });
  }

  checkpoint(samplesDone: number, state: Uint8Array): void {
    this.emit({ type: 'checkpoint', samplesDone, state });
  }

  done(result: ExperimentResult, weights: Float32Array, theta: Float32Array): void {
    this.emit({ type: 'done', result, weights, theta });
  }
}
