/**
 * The run checkpoint composed from its pieces' state codecs (src/experiment/run/checkpoint.ts):
 * each part round-trips bit for bit under its own name, a checkpoint of another definition is
 * refused, and the first (flat) checkpoint layout is still read.
 */
import { describe, expect, it } from 'vitest';
import { encodeSnapshot } from '../../src/engine/snapshot.js';
import { decodeCheckpoint, encodeCheckpoint, type CheckpointParts } from '../../src/experiment/run/checkpoint.js';
import { LabellingWindows } from '../../src/experiment/run/labelling-windows.js';
import { TrainingSchedule } from '../../src/experiment/run/training-schedule.js';

function parts(): CheckpointParts {
  return {
    network: { meta: { normalizeAll: false, needClamp: true }, arrays: { weights: Float32Array.of(0.1, NaN, -0), theta: Float32Array.of(1.5), prng: Uint32Array.of(1, 2, 3, 4) } },
    schedule: { meta: { epoch: 1, step: 7, hasOrder: true }, arrays: { order: Uint32Array.of(2, 0, 1) } },
    labelling: { meta: { assignmentsMade: 3, window: { samples: 4 } }, arrays: { rates: Float64Array.of(0.25, 1 / 3) } },
  };
}

describe('run checkpoint codec', () => {
  it('round-trips every part, arrays bit for bit', () => {
    const bytes = encodeCheckpoint({ definitionHash: 'h', samplesDone: 12, parts: parts() });
    const c = decodeCheckpoint(bytes, 'h');
    expect(c.samplesDone).toBe(12);
    const want = parts();
    for (const name of ['network', 'schedule', 'labelling'] as const) {
      expect(c.parts[name].meta).toEqual(want[name].meta);
      expect(Object.keys(c.parts[name].arrays)).toEqual(Object.keys(want[name].arrays));
      for (const [k, a] of Object.entries(want[name].arrays)) {
        const got = c.parts[name].arrays[k];
        expect(got.constructor).toBe(a.constructor);
        expect(Buffer.from(got.buffer, got.byteOffset, got.byteLength).equals(Buffer.from(a.buffer, a.byteOffset, a.byteLength))).toBe(true);
      }
    }
  });

  it('refuses a checkpoint of another definition', () => {
    const bytes = encodeCheckpoint({ definitionHash: 'h', samplesDone: 1, parts: parts() });
    expect(() => decodeCheckpoint(bytes, 'other')).toThrow(/different experiment definition/);
  });

  it('pieces restore from their own parts: schedule and labelling windows', () => {
    const below = (k: number) => (k * 7) % k; // deterministic stand-in for the PRNG
    const a = new TrainingSchedule({ epochs: 2, perEpoch: 3, poolSize: 5, shuffle: true }, below);
    a.next();
    a.advance();
    const b = new TrainingSchedule({ epochs: 2, perEpoch: 3, poolSize: 5, shuffle: true }, () => {
      throw new Error('a restored epoch must not draw a new order');
    });
    b.decodeState(a.encodeState());
    expect([b.epoch, b.samplesDone, b.next()]).toEqual([a.epoch, a.samplesDone, a.next()]);

    const w = new LabellingWindows(2, 2);
    w.add(Int32Array.of(1, 0), 3, 100, 1);
    w.add(Int32Array.of(0, 2), 5, 90, 2);
    const v = new LabellingWindows(2, 2);
    v.decodeState(w.encodeState());
    expect(v.close(false)).toEqual(w.close(false));
    expect(v.encodeState()).toEqual(w.encodeState());
  });

  it('reads the first, flat checkpoint layout', () => {
    const order = Uint32Array.of(4, 3, 2, 1, 0);
    const flat = encodeSnapshot({
      meta: {
        definitionHash: 'h',
        normalizeAll: true,
        needClamp: false,
        assignmentsMade: 2,
        progress: { epoch: 1, step: 2, windowCorrectAll: 1, windowCorrectProp: 2, windowSamples: 3, windowInputSpikes: 400, windowExcSpikes: 9 },
        samplesDone: 7,
      },
      arrays: {
        weights: Float32Array.of(0.5),
        theta: Float32Array.of(2),
        prng: Uint32Array.of(9, 8, 7, 6),
        rates: new Float64Array(20),
        proportions: new Float64Array(20),
        assignments: new Int32Array(2),
        perClass: new Int32Array(10),
        windowSums: new Float64Array(20),
        windowCounts: new Int32Array(10),
        order,
      },
    });
    const c = decodeCheckpoint(flat, 'h');
    expect(c.samplesDone).toBe(7);
    expect(c.parts.network.meta).toEqual({ normalizeAll: true, needClamp: false });
    expect(Array.from(c.parts.network.arrays.prng)).toEqual([9, 8, 7, 6]);
    const schedule = new TrainingSchedule({ epochs: 2, perEpoch: 5, poolSize: 5, shuffle: true }, () => 0);
    schedule.decodeState(c.parts.schedule);
    expect([schedule.epoch, schedule.samplesDone, schedule.next()]).toEqual([1, 7, 2]);
    const windows = new LabellingWindows(2, 10);
    windows.decodeState(c.parts.labelling);
    expect(windows.labels.assignmentsMade).toBe(2);
    expect(windows.close(false)).toEqual({
      samples: 3,
      accuracy: { allActivity: 1 / 3, proportionWeighting: 2 / 3 },
      spikesPerSample: { input: 400 / 3, excitatory: 3 },
    });
  });
});
