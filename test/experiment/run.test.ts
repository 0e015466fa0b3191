/**
 * runExperiment end to end on small MNIST subsets: learning quality, determinism, checkpoint /
 * resume (bit-identical weights, also across an epoch boundary), cancellation, event streams.
 */
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeSnapshot } from '../../src/engine/snapshot.js';
import type {
  CheckpointEvent,
  DoneEvent,
  ExperimentEvent,
  ExperimentResult,
  ProgressEvent,
  SpikesEvent,
  VoltageEvent,
  WeightsEvent,
  WindowMetricsEvent,
} from '../../src/experiment/events.js';
import { resolveDefinition } from '../../src/experiment/presets.js';
import { classify, runExperiment, weightsSha256, type RunOptions } from '../../src/experiment/run.js';
import type { ExperimentDefinition } from '../../src/experiment/schema.js';

const QUIET = { spikesEvery: 0, weightsEvery: 0, progressEvery: 1000 };

function def(extra: Record<string, unknown>): ExperimentDefinition {
  return resolveDefinition({ preset: 'diehl-cook-2015', checkpointEvery: 0, stream: QUIET, ...extra });
}

async function run(d: ExperimentDefinition, opts: Partial<RunOptions> = {}): Promise<{ result: ExperimentResult; events: ExperimentEvent[] }> {
  const events: ExperimentEvent[] = [];
  const result = await runExperiment(d, { emit: (e) => events.push(e), ...opts });
  return { result, events };
}

function ofType<K extends ExperimentEvent['type']>(events: ExperimentEvent[], type: K): Extract<ExperimentEvent, { type: K }>[] {
  return events.filter((e) => e.type === type) as Extract<ExperimentEvent, { type: K }>[];
}

describe('runExperiment: end to end (30 neurons, 1,500 train, 500 test, seed 1)', () => {
  const d = resolveDefinition({
    preset: 'diehl-cook-2015',
    neurons: 30,
    train: 1500,
    test: 500,
    seed: 1,
    checkpointEvery: 0,
    stream: { progressEvery: 100, spikesEvery: 500, weightsEvery: 500, voltageNeurons: [0, 7, 29] },
  });
  let result: ExperimentResult;
  let events: ExperimentEvent[];
  beforeAll(async () => {
    ({ result, events } = await run(d));
  });

  it('learns: test accuracy far above chance (> 0.5) with both readouts', () => {
    expect(result.cancelled).toBe(false);
    expect(result.accuracy.allActivity).toBeGreaterThan(0.5);
    expect(result.accuracy.proportionWeighting).toBeGreaterThan(0.5);
    expect(result.neurons).toBe(30);
    expect(result.train.samples).toBe(1500);
    expect(result.test.samples).toBe(500);
    expect(result.spikesPerTestSample).toBeGreaterThan(0);
    expect(result.thetaMean).toBeGreaterThan(0);
  });

  it('result shapes are consistent', () => {
    for (const m of [result.confusion, result.confusionProportion]) {
      expect(m.length).toBe(10);
      expect(m.every((r) => r.length === 10)).toBe(true);
      expect(m.flat().reduce((a, b) => a + b, 0)).toBe(500);
    }
    const diag = result.confusion.reduce((a, r, i) => a + r[i], 0);
    expect(diag / 500).toBeCloseTo(result.accuracy.allActivity!, 12);
    const diagP = result.confusionProportion.reduce((a, r, i) => a + r[i], 0);
    expect(diagP / 500).toBeCloseTo(result.accuracy.proportionWeighting!, 12);
    expect(result.assignments.length).toBe(30);
    expect(result.assignments.every((c) => Number.isInteger(c) && c >= 0 && c < 10)).toBe(true);
    expect(result.proportions.length).toBe(300);
    for (let j = 0; j < 30; j++) {
      const row = result.proportions.slice(j * 10, j * 10 + 10);
      const s = row.reduce((a, b) => a + b, 0);
      expect(Math.abs(s - 1) < 1e-9 || s === 0).toBe(true);
    }
    expect(result.weightsSha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('the done event carries the result, and weightsSha256 hashes its final weights', () => {
    const done = ofType(events, 'done');
    expect(done.length).toBe(1);
    expect(events[events.length - 1]).toBe(done[0]);
    const e = done[0] as DoneEvent;
    expect(e.result).toEqual(result);
    expect(e.weights.length).toBe(784 * 30);
    expect(e.theta.length).toBe(30);
    const sha = createHash('sha256').update(new Uint8Array(e.weights.buffer, e.weights.byteOffset, e.weights.byteLength)).digest('hex');
    expect(result.weightsSha256).toBe(sha);
    expect(weightsSha256(e.weights)).toBe(sha);
    // Learned weights respect the bounds and the per-column norm.
    expect(e.weights.every((w) => w >= 0 && w <= 1)).toBe(true);
    for (let j = 0; j < 30; j++) {
      let s = 0;
      for (let i = 0; i < 784; i++) s += e.weights[i * 30 + j];
      expect(Math.abs(s - 78.4)).toBeLessThan(1e-3);
    }
  });

  it('progress events are monotone per phase and end at the totals', () => {
    const progress = ofType(events, 'progress') as ProgressEvent[];
    const train = progress.filter((p) => p.phase === 'train');
    const test = progress.filter((p) => p.phase === 'test');
    expect(train.map((p) => p.done)).toEqual(Array.from({ length: 15 }, (_, k) => 100 * (k + 1)));
    expect(train.every((p) => p.total === 1500 && p.samplesPerSec > 0 && p.etaSec >= 0)).toBe(true);
    expect(test.map((p) => p.done)).toEqual([100, 200, 300, 400, 500]);
    expect(test.every((p) => p.total === 500)).toBe(true);
    // All train progress comes before any test progress.
    const lastTrain = events.lastIndexOf(train[train.length - 1]);
    const firstTest = events.indexOf(test[0]);
    expect(lastTrain).toBeLessThan(firstTest);
  });

  it('metrics every labelUpdateInterval (250) samples', () => {
    const metrics = ofType(events, 'metrics') as WindowMetricsEvent[];
    expect(metrics.map((m) => m.samplesSeen)).toEqual([250, 500, 750, 1000, 1250, 1500]);
    for (const m of metrics) {
      expect(m.phase).toBe('train');
      expect(m.epoch).toBe(0);
      expect(m.samplesPerSec).toBeGreaterThan(0);
    }
    // Windows after the first are scored with assigned labels (the first: see the labelling tests).
    for (const m of metrics.slice(1)) {
      for (const a of [m.accuracy.allActivity, m.accuracy.proportionWeighting]) {
        expect(a).not.toBeNull();
        expect(a!).toBeGreaterThanOrEqual(0);
        expect(a!).toBeLessThanOrEqual(1);
      }
      expect(m.spikesPerSample.input).toBeGreaterThan(100);
      expect(m.spikesPerSample.excitatory).toBeGreaterThan(0);
      expect(m.thetaMean).toBeGreaterThan(0);
    }
    // Later windows, scored with learned labels, are far above chance.
    expect(metrics[metrics.length - 1].accuracy.allActivity!).toBeGreaterThan(0.3);
  });

  it('spikes and voltage events have consistent shapes', () => {
    const spikes = ofType(events, 'spikes') as SpikesEvent[];
    // Train samples 0, 500, 1000 and test sample 0, three layers each.
    expect(spikes.map((s) => `${s.phase}:${s.sampleIndex}:${s.layer}`)).toEqual(
      ['train:0', 'train:500', 'train:1000', 'test:0'].flatMap((k) => ['input', 'excitatory', 'inhibitory'].map((l) => `${k}:${l}`)),
    );
    for (const s of spikes) {
      expect(s.steps).toBe(250);
      expect(s.neurons).toBe(s.layer === 'input' ? 784 : 30);
      expect(s.data.length % 2).toBe(0);
      expect(s.label).toBeGreaterThanOrEqual(0);
      expect(s.label).toBeLessThan(10);
      for (let a = 0; a < s.data.length; a += 2) {
        if (!(s.data[a] < 250 && s.data[a + 1] < s.neurons)) throw new Error(`bad pair (${s.data[a]}, ${s.data[a + 1]})`);
        if (a > 0 && s.data[a] < s.data[a - 2]) throw new Error('pairs not sorted by step');
      }
    }
    // Inputs spike a lot; one_spike ⇒ at most one excitatory spike per step.
    for (const s of spikes.filter((x) => x.layer === 'excitatory')) {
      const steps = new Set<number>();
      for (let a = 0; a < s.data.length; a += 2) {
        expect(steps.has(s.data[a])).toBe(false);
        steps.add(s.data[a]);
      }
    }
    const voltage = ofType(events, 'voltage') as VoltageEvent[];
    expect(voltage.map((v) => `${v.phase}:${v.sampleIndex}`)).toEqual(['train:0', 'train:500', 'train:1000', 'test:0']);
    for (const v of voltage) {
      expect(v.steps).toBe(250);
      expect(v.neurons).toEqual([0, 7, 29]);
      expect(v.voltage.length).toBe(250 * 3);
      expect(v.threshold.length).toBe(250 * 3);
      expect(Array.from(v.voltage.subarray(0, 3))).toEqual([-65, -65, -65]); // step 0: rest
      expect(v.threshold.every((x) => x >= -52)).toBe(true);
    }
  });

  it('classify() with the trained model labels test images well above chance', async () => {
    const done = ofType(events, 'done')[0] as DoneEvent;
    const { loadMnist } = await import('../../src/io/mnist.js');
    const { test } = loadMnist();
    const images = Array.from({ length: 100 }, (_, k) => test.images.subarray(k * 784, (k + 1) * 784));
    const out = await classify({ definition: d, weights: done.weights, theta: done.theta, assignments: result.assignments, proportions: result.proportions }, images, 0);
    expect(out.length).toBe(100);
    const correct = out.filter((c, k) => c.label === test.labels[k]).length;
    expect(correct).toBeGreaterThan(40);
    for (const c of out) {
      expect(c.votes.length).toBe(10);
      expect(c.label).toBe(c.votes.indexOf(Math.max(...c.votes)));
      expect(c.spikes).toBeGreaterThanOrEqual(0);
    }
    await expect(classify({ definition: d, weights: done.weights, theta: done.theta, assignments: result.assignments, proportions: result.proportions }, [new Uint8Array(10)])).rejects.toThrow(/784/);
  });

  it('weights events have shape [784, N]', () => {
    const w = ofType(events, 'weights') as WeightsEvent[];
    expect(w.map((e) => e.sampleIndex)).toEqual([500, 1000, 1500]);
    for (const e of w) {
      expect(e.shape).toEqual([784, 30]);
      expect(e.data.length).toBe(784 * 30);
    }
    // The last one (after training) equals the final weights: testing does not learn.
    const done = ofType(events, 'done')[0] as DoneEvent;
    expect(weightsSha256(w[2].data)).toBe(weightsSha256(done.weights));
    expect(weightsSha256(w[0].data)).not.toBe(weightsSha256(done.weights));
  });
});

describe('runExperiment: determinism', () => {
  it('same definition and seed ⇒ identical weightsSha256; different seed ⇒ different', async () => {
    const a = await run(def({ neurons: 20, train: 300, test: 50, seed: 3 }));
    const b = await run(def({ neurons: 20, train: 300, test: 50, seed: 3 }));
    const c = await run(def({ neurons: 20, train: 300, test: 50, seed: 4 }));
    expect(b.result.weightsSha256).toBe(a.result.weightsSha256);
    expect(b.result.accuracy).toEqual(a.result.accuracy);
    expect(b.result.assignments).toEqual(a.result.assignments);
    expect(c.result.weightsSha256).not.toBe(a.result.weightsSha256);
  });
});

describe('runExperiment: labelling protocol', () => {
  it('the first window, scored before any assignment, reports accuracy null (events.ts contract)', async () => {
    // events.ts, WindowMetricsEvent.accuracy: "Accuracy of the window's samples under the labels
    // assigned before it (null before any assignment)".
    const { events } = await run(def({ neurons: 10, train: 100, test: 0, seed: 2, labelUpdateInterval: 50 }));
    const metrics = ofType(events, 'metrics') as WindowMetricsEvent[];
    expect(metrics.map((m) => m.samplesSeen)).toEqual([50, 100]);
    expect(metrics[0].accuracy).toEqual({ allActivity: null, proportionWeighting: null });
    // The second window is scored with the labels assigned after the first.
    expect(metrics[1].accuracy.allActivity).not.toBeNull();
    expect(metrics[1].accuracy.proportionWeighting).not.toBeNull();
  });

  it('spike events carry the training labels in sample order', async () => {
    const { events } = await run(def({ neurons: 10, train: 60, test: 0, seed: 2, stream: { ...QUIET, spikesEvery: 1 } }));
    const input = (ofType(events, 'spikes') as SpikesEvent[]).filter((s) => s.layer === 'input');
    expect(input.map((s) => s.sampleIndex)).toEqual(Array.from({ length: 60 }, (_, k) => k));
    const labels = input.map((s) => s.label);
    // A shuffled stream of digits: several classes appear.
    expect(new Set(labels).size).toBeGreaterThan(5);
  });

  it('the last window of an epoch is scored but not used for assignment', async () => {
    // Both runs see the same first 250 samples (same seed ⇒ same shuffle and network).
    const short = await run(def({ neurons: 10, train: 250, test: 0, seed: 8 }));
    const long = await run(def({ neurons: 10, train: 300, test: 0, seed: 8 }));
    expect(ofType(long.events, 'metrics').map((m) => (m as WindowMetricsEvent).samplesSeen)).toEqual([250, 300]);
    // short: its only window is used (no assignment would exist otherwise); long: samples
    // 250..299 form the epoch's last window, which must not change the labels.
    expect(long.result.assignments).toEqual(short.result.assignments);
    expect(long.result.proportions).toEqual(short.result.proportions);
    expect(long.result.weightsSha256).not.toBe(short.result.weightsSha256);
  });

  it('validation images are evaluated when requested', async () => {
    const { result } = await run(def({ neurons: 10, train: 100, test: 20, validation: 50, seed: 1, labelUpdateInterval: 50 }));
    expect(result.validation.samples).toBe(50);
    expect(result.validation.accuracy).not.toBeNull();
    expect(result.validation.accuracy!.allActivity).toBeGreaterThanOrEqual(0);
    expect(result.validation.accuracy!.allActivity).toBeLessThanOrEqual(1);
  });
});

describe('runExperiment: Diehl & Cook variants (frozen-pass labelling, re-presentation)', () => {
  it('frozen-pass labelling does not learn: same final weights and θ as training-window labelling', async () => {
    const windows = await run(def({ neurons: 20, train: 400, test: 200, seed: 7 }));
    const frozen = await run(def({ neurons: 20, train: 400, test: 200, seed: 7, assignment: 'frozen-pass', labelSamples: 300 }));
    expect(frozen.result.weightsSha256).toBe(windows.result.weightsSha256);
    expect(frozen.result.thetaMean).toBe(windows.result.thetaMean);
    expect(frozen.result.cancelled).toBe(false);
    expect(frozen.result.accuracy.allActivity!).toBeGreaterThan(0.3);
    expect(frozen.result.assignments.length).toBe(20);
  });

  it('stopping during the frozen labelling pass cancels the run', async () => {
    let calls = 0;
    const { result } = await run(def({ neurons: 10, train: 50, test: 20, seed: 1, assignment: 'frozen-pass', labelSamples: 100 }), {
      shouldStop: () => ++calls > 80,
    });
    expect(result.cancelled).toBe(true);
    expect(result.train.samples).toBe(50);
    expect(result.accuracy).toEqual({ allActivity: null, proportionWeighting: null });
  });

  it('classify re-presents a quiet sample at +rateStepHz per repeat, up to maxRepeats, and reports the last', async () => {
    const d = def({ neurons: 10, train: 100, test: 0, seed: 2 });
    const done = ofType((await run(d)).events, 'done')[0] as DoneEvent;
    const model = (represent: ExperimentDefinition['represent']) => ({
      definition: { ...d, represent },
      weights: done.weights,
      theta: done.theta,
      assignments: new Array(10).fill(0),
      proportions: new Array(100).fill(0.1),
    });
    const { loadMnist } = await import('../../src/io/mnist.js');
    const { Network } = await import('../../src/engine/network.js');
    const { compileDefinition } = await import('../../src/experiment/topology.js');
    const { test } = loadMnist();
    const img = test.images.subarray(0, 784);
    // belowSpikes unreachable: 1 + 3 presentations at +0, +32, +64, +96 Hz, each drawing from the stream.
    const [c] = await classify(model({ belowSpikes: 1_000_000, rateStepHz: 32, maxRepeats: 3 }), [img], 5);
    const net = new Network(compileDefinition({ ...d, seed: 5 }).spec);
    net.setState({ weights: done.weights, theta: done.theta, prng: net.rng.getState(), normalizeAll: false, needClamp: false });
    let spikes = 0;
    for (let k = 0; k <= 3; k++) spikes = net.runSample(img, false, null, 32 * k);
    expect(c.spikes).toBe(spikes);
    // Off (belowSpikes 0): a single presentation.
    const [c0] = await classify(model({ belowSpikes: 0, rateStepHz: 32, maxRepeats: 3 }), [img], 5);
    const net0 = new Network(compileDefinition({ ...d, seed: 5 }).spec);
    net0.setState({ weights: done.weights, theta: done.theta, prng: net0.rng.getState(), normalizeAll: false, needClamp: false });
    expect(c0.spikes).toBe(net0.runSample(img, false));
  });
});

describe('runExperiment: checkpoint / resume', () => {
  it('resuming from a checkpoint reproduces the uninterrupted run exactly (1 epoch)', async () => {
    const d = def({ neurons: 20, train: 300, test: 100, seed: 5, labelUpdateInterval: 50, checkpointEvery: 100 });
    const full = await run(d);
    const cps = ofType(full.events, 'checkpoint') as CheckpointEvent[];
    expect(cps.map((c) => c.samplesDone)).toEqual([100, 200]); // none at the very end
    for (const cp of cps) {
      const meta = decodeSnapshot(cp.state).meta;
      expect(meta.samplesDone).toBe(cp.samplesDone);
      const resumed = await run(d, { resumeFrom: cp.state });
      expect(resumed.result.weightsSha256).toBe(full.result.weightsSha256);
      expect(resumed.result.accuracy).toEqual(full.result.accuracy);
      expect(resumed.result.assignments).toEqual(full.result.assignments);
      expect(resumed.result.proportions).toEqual(full.result.proportions);
      expect(resumed.result.thetaMean).toBe(full.result.thetaMean);
      expect(resumed.result.train.samples).toBe(300);
      // Window metrics after the resume point are identical (window accumulators restored).
      const after = (ev: ExperimentEvent[]) =>
        (ofType(ev, 'metrics') as WindowMetricsEvent[]).filter((m) => m.samplesSeen > cp.samplesDone).map((m) => [m.samplesSeen, m.accuracy, m.spikesPerSample, m.thetaMean]);
      expect(after(resumed.events)).toEqual(after(full.events));
      // Training progress resumes where the checkpoint was taken.
      const trainDone = (ofType(resumed.events, 'progress') as ProgressEvent[]).filter((p) => p.phase === 'train').map((p) => p.done);
      expect(trainDone.every((x) => x > cp.samplesDone)).toBe(true);
    }
  });

  it('also across an epoch boundary (epochs 2)', async () => {
    const d = def({ neurons: 20, train: 150, test: 50, epochs: 2, seed: 9, labelUpdateInterval: 50, checkpointEvery: 75 });
    const full = await run(d);
    const cps = ofType(full.events, 'checkpoint') as CheckpointEvent[];
    expect(cps.map((c) => c.samplesDone)).toEqual([75, 150, 225]); // 150 = end of epoch 0
    expect(full.result.train.samples).toBe(300);
    for (const cp of cps) {
      const resumed = await run(d, { resumeFrom: cp.state });
      expect(resumed.result.weightsSha256, `resumed at ${cp.samplesDone}`).toBe(full.result.weightsSha256);
      expect(resumed.result.accuracy).toEqual(full.result.accuracy);
      expect(resumed.result.assignments).toEqual(full.result.assignments);
    }
    // Both epochs ran: each epoch's windows are reported with their epoch number.
    const metrics = ofType(full.events, 'metrics') as WindowMetricsEvent[];
    expect(metrics.map((m) => [m.epoch, m.samplesSeen])).toEqual([
      [0, 50],
      [0, 100],
      [0, 150],
      [1, 200],
      [1, 250],
      [1, 300],
    ]);
  });

  it('a checkpoint of another definition is refused', async () => {
    const d = def({ neurons: 10, train: 100, test: 0, seed: 1, checkpointEvery: 50 });
    const full = await run(d);
    const cp = ofType(full.events, 'checkpoint')[0] as CheckpointEvent;
    const other = def({ neurons: 10, train: 100, test: 0, seed: 2, checkpointEvery: 50 });
    await expect(runExperiment(other, { emit: () => {}, resumeFrom: cp.state })).rejects.toThrow(/different experiment definition/);
  });
});

describe('runExperiment: cancellation', () => {
  it('shouldStop returning true after k training samples ends the run: cancelled, accuracy null', async () => {
    let calls = 0;
    const k = 37;
    const { result, events } = await run(def({ neurons: 10, train: 200, test: 50, seed: 1 }), { shouldStop: () => ++calls > k });
    expect(result.cancelled).toBe(true);
    expect(result.train.samples).toBe(k);
    expect(result.accuracy).toEqual({ allActivity: null, proportionWeighting: null });
    expect(result.test.samples).toBe(0);
    expect(ofType(events, 'progress').filter((p) => (p as ProgressEvent).phase === 'test')).toEqual([]);
    expect(ofType(events, 'done').length).toBe(1);
  });

  it('stopping during the test phase also cancels with accuracy null', async () => {
    let calls = 0;
    const { result } = await run(def({ neurons: 10, train: 100, test: 50, seed: 1 }), { shouldStop: () => ++calls > 110 });
    expect(result.cancelled).toBe(true);
    expect(result.train.samples).toBe(100);
    expect(result.accuracy).toEqual({ allActivity: null, proportionWeighting: null });
  });
});
