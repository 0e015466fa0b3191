/** The selectivity indices (OSI/DSI) and preferred angles of tuning curves. */
import { describe, expect, it } from 'vitest';
import { selectivityOf, TuningAccumulator } from '../../src/data/tuning.js';

const orient = [0, 45, 90, 135];
const dirs = [0, 90, 180, 270];

describe('selectivity', () => {
  it('is 1 for a neuron answering one orientation, 0 for a flat curve, and null preference when silent', () => {
    const r = selectivityOf([[0, 0, 5, 0], [2, 2, 2, 2], [0, 0, 0, 0]], orient, 'orientation');
    expect(r.selectivity[0]).toBeCloseTo(1, 12);
    expect(r.preferredDeg[0]).toBeCloseTo(90, 9);
    expect(r.selectivity[1]).toBeCloseTo(0, 12);
    expect(r.selectivity[2]).toBe(0);
    expect(r.preferredDeg[2]).toBeNull();
  });

  it('treats opposite directions as the same orientation but not the same direction', () => {
    // Responds to 0° and 180° equally: a perfect horizontal-orientation cell, no direction preference.
    const o = selectivityOf([[3, 0, 3, 0]], [0, 45, 180, 225], 'orientation');
    expect(o.selectivity[0]).toBeCloseTo(1, 12);
    const d = selectivityOf([[3, 0, 3, 0]], dirs, 'direction');
    expect(d.selectivity[0]).toBeCloseTo(0, 12);
    const d2 = selectivityOf([[1, 4, 1, 0]], dirs, 'direction');
    // |Σ r e^{iφ}| / Σ r = |1 + 4i − 1| / 6.
    expect(d2.selectivity[0]).toBeCloseTo(4 / 6, 12);
    expect(d2.preferredDeg[0]).toBeCloseTo(90, 9);
  });

  it('wraps the preferred orientation into [0°, 180°)', () => {
    const r = selectivityOf([[1, 0, 0, 1]], orient, 'orientation');
    // 0° and 135° equally: the circular mean of 0° and 270° (doubled) is 315°, halved 157.5°.
    expect(r.preferredDeg[0]).toBeCloseTo(157.5, 9);
  });

  it('averages spike counts per sample of each class', () => {
    const acc = new TuningAccumulator(2, 'direction', dirs);
    acc.observe(Int32Array.from([2, 0]), 1);
    acc.observe(Int32Array.from([4, 1]), 1);
    acc.observe(Int32Array.from([0, 3]), 3);
    const r = acc.result();
    expect(r.curves).toEqual([[0, 3, 0, 0], [0, 0.5, 0, 3]]);
    expect(r.spikes).toEqual([6, 4]);
  });
});
