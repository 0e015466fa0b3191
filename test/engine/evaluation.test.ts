/**
 * Label assignment and voting on hand-computed examples (BindsNET assign_labels / all_activity /
 * proportion_weighting, lowest class on ties).
 */
import { describe, expect, it } from 'vitest';
import { argmax, ConfusionMatrix, LabelAssigner } from '../../src/engine/evaluation.js';

const I = (xs: number[]) => Int32Array.from(xs);

/**
 * 4 neurons, 3 classes.
 * Window 1: label 0: [2,0,0,1], [4,0,0,1]; label 1: [0,3,0,1]; label 2: [1,0,0,1]
 *   class means: c0 [3,0,0,1], c1 [0,3,0,1], c2 [1,0,0,1]
 *   rates (n × c): n0 [3,0,1], n1 [0,3,0], n2 [0,0,0], n3 [1,1,1]
 *   → assignments [0, 1, 0 (silent), 0 (three-way tie)]
 * Window 2: label 2: [0,0,5,0], [0,0,3,0]; label 1: [0,1,0,2]   (no class-0 sample)
 *   class means: c1 [0,1,0,2], c2 [0,0,4,0]
 *   rates: n0 [3,0,1], n1 [0,4,0], n2 [0,0,4], n3 [1,3,1] → assignments [0, 1, 2, 1]
 *   proportions: n0 [.75,0,.25], n1 [0,1,0], n2 [0,0,1], n3 [.2,.6,.2]
 */
function twoWindows(): LabelAssigner {
  const a = new LabelAssigner(4, 3);
  a.observe(I([2, 0, 0, 1]), 0);
  a.observe(I([4, 0, 0, 1]), 0);
  a.observe(I([0, 3, 0, 1]), 1);
  a.observe(I([1, 0, 0, 1]), 2);
  a.assign();
  a.observe(I([0, 0, 5, 0]), 2);
  a.observe(I([0, 0, 3, 0]), 2);
  a.observe(I([0, 1, 0, 2]), 1);
  a.assign();
  return a;
}

function close(a: ArrayLike<number>, b: number[], eps = 1e-12): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < b.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(eps);
}

describe('LabelAssigner.assign', () => {
  it('starts unassigned (−1) and predicts class 0 with no votes', () => {
    const a = new LabelAssigner(3, 10);
    expect(Array.from(a.assignments)).toEqual([-1, -1, -1]);
    expect(a.predictAllActivity(I([5, 5, 5]))).toBe(0);
    expect(a.predictProportion(I([5, 5, 5]))).toBe(0);
  });

  it('first window: argmax of per-class mean rates, lowest class on ties, silent neuron → class 0', () => {
    const a = new LabelAssigner(4, 3);
    a.observe(I([2, 0, 0, 1]), 0);
    a.observe(I([4, 0, 0, 1]), 0);
    a.observe(I([0, 3, 0, 1]), 1);
    a.observe(I([1, 0, 0, 1]), 2);
    a.assign();
    close(a.rates, [3, 0, 1, 0, 3, 0, 0, 0, 0, 1, 1, 1]);
    expect(Array.from(a.assignments)).toEqual([0, 1, 0, 0]);
    close(a.proportions, [0.75, 0, 0.25, 0, 1, 0, 0, 0, 0, 1 / 3, 1 / 3, 1 / 3]);
    expect(Array.from(a.perClass)).toEqual([3, 1, 0]);
    expect(a.assignmentsMade).toBe(1);
    // The window was consumed.
    expect(Array.from(a.windowSums).every((x) => x === 0)).toBe(true);
    expect(Array.from(a.windowCounts).every((x) => x === 0)).toBe(true);
  });

  it('rates accumulate across windows (alpha = 1); classes absent from a window keep their rates', () => {
    const a = twoWindows();
    close(a.rates, [3, 0, 1, 0, 4, 0, 0, 0, 4, 1, 3, 1]);
    expect(Array.from(a.assignments)).toEqual([0, 1, 2, 1]);
    close(a.proportions, [0.75, 0, 0.25, 0, 1, 0, 0, 0, 1, 0.2, 0.6, 0.2]);
    expect(Array.from(a.perClass)).toEqual([1, 2, 1]);
    expect(a.assignmentsMade).toBe(2);
  });

  it('proportion rows sum to 1, or 0 for a neuron that never fired', () => {
    const a = new LabelAssigner(5, 10);
    a.observe(I([1, 0, 7, 0, 2]), 3);
    a.observe(I([0, 0, 1, 0, 2]), 8);
    a.observe(I([4, 0, 0, 0, 2]), 8);
    a.assign();
    for (let j = 0; j < 5; j++) {
      let s = 0;
      for (let c = 0; c < 10; c++) s += a.proportions[j * 10 + c];
      expect(Math.abs(s - ([1, 3].includes(j) ? 0 : 1))).toBeLessThan(1e-12);
    }
    // n0: c3 rate 1, c8 rate 2 → 8; n2: 7 vs 0.5 → 3; n4: 2 vs 2 → tie → 3; silent → 0.
    expect(Array.from(a.assignments)).toEqual([8, 0, 3, 0, 3]);
  });

  it('clearWindow discards the window without assigning', () => {
    const a = twoWindows();
    const rates = Array.from(a.rates);
    a.observe(I([9, 9, 9, 9]), 0);
    a.clearWindow();
    a.assign();
    expect(Array.from(a.rates)).toEqual(rates);
  });
});

describe('LabelAssigner predictions', () => {
  it('all-activity: argmax over classes of (spikes of neurons assigned to c)/(#assigned)', () => {
    const a = twoWindows(); // assignments [0,1,2,1], perClass [1,2,1]
    const votes = new Float64Array(3);
    expect(a.predictAllActivity(I([1, 2, 0, 4]), votes)).toBe(1);
    close(votes, [1, 3, 0]);
    expect(a.predictAllActivity(I([3, 0, 0, 2]), votes)).toBe(0);
    close(votes, [3, 1, 0]);
    expect(a.predictAllActivity(I([0, 0, 1, 0]), votes)).toBe(2);
    close(votes, [0, 0, 1]);
    // Tie 2 = (2+2)/2 = 2 → lowest class.
    expect(a.predictAllActivity(I([2, 2, 2, 2]), votes)).toBe(0);
    close(votes, [2, 2, 2]);
    // Silent sample → class 0.
    expect(a.predictAllActivity(I([0, 0, 0, 0]), votes)).toBe(0);
  });

  it('proportion weighting: each neuron votes counts·proportions[n, assigned], averaged per class', () => {
    const a = twoWindows(); // proportions n0 .75, n1 1, n2 1, n3 .6 at their assigned classes
    const votes = new Float64Array(3);
    expect(a.predictProportion(I([1, 2, 0, 4]), votes)).toBe(1);
    close(votes, [0.75, (2 + 4 * 0.6) / 2, 0]);
    // All-activity tie 2 = (0+4)/2 → lowest class.
    expect(a.predictAllActivity(I([2, 0, 0, 4]), votes)).toBe(0);
    close(votes, [2, 2, 0]);
    expect(a.predictAllActivity(I([3, 0, 0, 5]), votes)).toBe(0); // 3 vs 2.5
    expect(a.predictProportion(I([3, 0, 0, 5]), votes)).toBe(0);
    close(votes, [2.25, 1.5, 0]);
    // Where the two rules disagree.
    expect(a.predictAllActivity(I([4, 0, 0, 9]), votes)).toBe(1); // 4 vs 4.5
    expect(a.predictProportion(I([4, 0, 0, 9]), votes)).toBe(0); // 3 vs 2.7
    close(votes, [3, 2.7, 0]);
  });

  it('load restores assignments/proportions and recounts perClass (−1 = unassigned)', () => {
    const a = new LabelAssigner(3, 2);
    a.load([1, -1, 1], [0, 1, 0, 0, 0.3, 0.7]);
    expect(Array.from(a.perClass)).toEqual([0, 2]);
    const votes = new Float64Array(2);
    expect(a.predictAllActivity(I([2, 100, 4]), votes)).toBe(1);
    close(votes, [0, 3]);
    expect(a.predictProportion(I([2, 100, 4]), votes)).toBe(1);
    close(votes, [0, (2 * 1 + 4 * 0.7) / 2]);
  });
});

describe('LabelAssigner state', () => {
  it('setState(getState()) continues exactly as the original: mid-window, after assignments', () => {
    const a = twoWindows();
    a.observe(I([1, 2, 0, 0]), 1); // an open window
    const s = a.getState();
    expect(s.assignmentsMade).toBe(2);
    const b = new LabelAssigner(4, 3);
    b.setState(s);
    for (const x of [a, b]) {
      x.observe(I([0, 0, 1, 3]), 0);
      x.assign();
    }
    expect(b.getState()).toEqual(a.getState());
    expect(Array.from(b.perClass)).toEqual(Array.from(a.perClass));
    for (const counts of [I([3, 0, 0, 0]), I([0, 2, 1, 4]), I([1, 1, 1, 1])]) {
      expect(b.predictAllActivity(counts)).toBe(a.predictAllActivity(counts));
      expect(b.predictProportion(counts)).toBe(a.predictProportion(counts));
    }
  });

  it('getState copies: the state does not change with the assigner', () => {
    const a = twoWindows();
    const s = a.getState();
    const rates = Array.from(s.rates);
    a.observe(I([9, 9, 9, 9]), 0);
    a.assign();
    expect(Array.from(s.rates)).toEqual(rates);
    expect(s.assignmentsMade).toBe(2);
  });

  it('the fresh state restores the unassigned assigner (−1, no votes)', () => {
    const b = twoWindows();
    b.setState(new LabelAssigner(4, 3).getState());
    expect(Array.from(b.assignments)).toEqual([-1, -1, -1, -1]);
    expect(Array.from(b.perClass)).toEqual([0, 0, 0]);
    expect(b.assignmentsMade).toBe(0);
  });

  it('refuses a state of another size', () => {
    expect(() => new LabelAssigner(5, 3).setState(twoWindows().getState())).toThrow(/rates: expected 15 values, got 12/);
  });
});

describe('argmax', () => {
  it('returns the first index of the maximum', () => {
    expect(argmax([1, 3, 3, 2])).toBe(1);
    expect(argmax([0, 0, 0])).toBe(0);
    expect(argmax([-5, -1, -3])).toBe(1);
    expect(argmax(Float64Array.of(7))).toBe(0);
  });
});

describe('ConfusionMatrix', () => {
  it('counts [truth][predicted], accuracy = correct/total', () => {
    const m = new ConfusionMatrix(3);
    expect(m.accuracy).toBe(0);
    const pairs: [number, number][] = [
      [0, 0],
      [0, 1],
      [1, 1],
      [2, 2],
      [2, 0],
      [2, 2],
      [1, 1],
    ];
    for (const [t, p] of pairs) m.add(t, p);
    expect(m.total).toBe(7);
    expect(m.correct).toBe(5);
    expect(m.accuracy).toBeCloseTo(5 / 7, 15);
    expect(m.toRows()).toEqual([
      [1, 1, 0],
      [0, 2, 0],
      [1, 0, 2],
    ]);
    const d = new ConfusionMatrix();
    expect(d.toRows().length).toBe(10);
    expect(d.toRows().every((r) => r.length === 10 && r.every((x) => x === 0))).toBe(true);
  });
});
