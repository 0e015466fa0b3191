/**
 * Label assignment and vote-based classification (BindsNET `assign_labels`, `all_activity`,
 * `proportion_weighting`, as eth_mnist uses them).
 *
 * Assignment: rates[n, c] accumulates, window after window (alpha = 1, never decayed), the mean
 * spike count of neuron n over the window's samples of class c. proportions = rates / Σ_c rates
 * (0 where a neuron never fired) and each neuron is assigned argmax_c (the lowest class on ties,
 * so a silent neuron gets class 0).
 * all-activity: predict argmax_c of the mean spike count of the neurons assigned to c.
 * proportion weighting: the same with each neuron's spikes weighted by proportions[n, c].
 * Ties go to the lowest class.
 */

/**
 * Everything a LabelAssigner's future answers depend on (`perClass` follows from `assignments`).
 * The arrays are copies: the state does not change with the assigner.
 */
export interface LabelAssignerState {
  assignmentsMade: number;
  /** [neurons, classes] cumulative rates, proportions; [neurons] assignments. */
  rates: Float64Array;
  proportions: Float64Array;
  assignments: Int32Array;
  /** The open window: [classes, neurons] spike sums, [classes] sample counts. */
  windowSums: Float64Array;
  windowCounts: Int32Array;
}

export class LabelAssigner {
  readonly neurons: number;
  readonly classes: number;
  /** [neurons, classes] cumulative rates. */
  readonly rates: Float64Array;
  readonly proportions: Float64Array;
  /** −1 until the first assignment, like BindsNET's initial `-torch.ones(n)`. */
  readonly assignments: Int32Array;
  /** Neurons assigned to each class. */
  readonly perClass: Int32Array;
  /** Window accumulators: [classes, neurons] spike sums and per-class sample counts. */
  readonly windowSums: Float64Array;
  readonly windowCounts: Int32Array;
  assignmentsMade = 0;

  constructor(neurons: number, classes = 10) {
    this.neurons = neurons;
    this.classes = classes;
    this.rates = new Float64Array(neurons * classes);
    this.proportions = new Float64Array(neurons * classes);
    this.assignments = new Int32Array(neurons).fill(-1);
    this.perClass = new Int32Array(classes);
    this.windowSums = new Float64Array(classes * neurons);
    this.windowCounts = new Int32Array(classes);
  }

  /** Adds one training sample's spike counts to the current window. */
  observe(counts: Int32Array, label: number): void {
    const n = this.neurons;
    const row = label * n;
    for (let j = 0; j < n; j++) this.windowSums[row + j] += counts[j];
    this.windowCounts[label]++;
  }

  /** Folds the window into the rates, re-assigns labels and starts a new window. */
  assign(): void {
    const { neurons: n, classes: k, rates, proportions, assignments } = this;
    for (let c = 0; c < k; c++) {
      const m = this.windowCounts[c];
      if (m === 0) continue;
      for (let j = 0; j < n; j++) rates[j * k + c] += this.windowSums[c * n + j] / m;
    }
    this.perClass.fill(0);
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let c = 0; c < k; c++) sum += rates[j * k + c];
      let best = 0;
      for (let c = 0; c < k; c++) {
        const p = sum > 0 ? rates[j * k + c] / sum : 0;
        proportions[j * k + c] = p;
        if (p > proportions[j * k + best]) best = c;
      }
      assignments[j] = best;
      this.perClass[best]++;
    }
    this.clearWindow();
    this.assignmentsMade++;
  }

  clearWindow(): void {
    this.windowSums.fill(0);
    this.windowCounts.fill(0);
  }

  /** All-activity prediction; `votes` receives the per-class mean spike counts. */
  predictAllActivity(counts: Int32Array, votes: Float64Array = new Float64Array(this.classes)): number {
    votes.fill(0);
    const a = this.assignments;
    for (let j = 0; j < this.neurons; j++) if (a[j] >= 0 && counts[j] !== 0) votes[a[j]] += counts[j];
    for (let c = 0; c < this.classes; c++) votes[c] = this.perClass[c] > 0 ? votes[c] / this.perClass[c] : 0;
    return argmax(votes);
  }

  /** Proportion-weighted prediction; `votes` receives the per-class weighted means. */
  predictProportion(counts: Int32Array, votes: Float64Array = new Float64Array(this.classes)): number {
    votes.fill(0);
    const { assignments: a, proportions: p, classes: k } = this;
    for (let j = 0; j < this.neurons; j++) {
      const c = a[j];
      if (c >= 0 && counts[j] !== 0) votes[c] += counts[j] * p[j * k + c];
    }
    for (let c = 0; c < k; c++) votes[c] = this.perClass[c] > 0 ? votes[c] / this.perClass[c] : 0;
    return argmax(votes);
  }

  getState(): LabelAssignerState {
    return {
      assignmentsMade: this.assignmentsMade,
      rates: this.rates.slice(),
      proportions: this.proportions.slice(),
      assignments: this.assignments.slice(),
      windowSums: this.windowSums.slice(),
      windowCounts: this.windowCounts.slice(),
    };
  }

  /** Restores a `getState()` of an assigner of the same size. */
  setState(s: LabelAssignerState): void {
    const sizes: [string, ArrayLike<number>, number][] = [
      ['rates', s.rates, this.rates.length],
      ['proportions', s.proportions, this.proportions.length],
      ['assignments', s.assignments, this.assignments.length],
      ['windowSums', s.windowSums, this.windowSums.length],
      ['windowCounts', s.windowCounts, this.windowCounts.length],
    ];
    for (const [name, a, n] of sizes) if (a.length !== n) throw new Error(`label state ${name}: expected ${n} values, got ${a.length}`);
    this.rates.set(s.rates);
    this.windowSums.set(s.windowSums);
    this.windowCounts.set(s.windowCounts);
    this.load(s.assignments, s.proportions);
    this.assignmentsMade = s.assignmentsMade;
  }

  /** Restores assignments/proportions from a trained model (for classification). */
  load(assignments: ArrayLike<number>, proportions: ArrayLike<number>): void {
    this.assignments.set(assignments);
    this.proportions.set(proportions);
    this.perClass.fill(0);
    for (let j = 0; j < this.neurons; j++) if (this.assignments[j] >= 0) this.perClass[this.assignments[j]]++;
  }
}

/** Index of the largest value; the lowest index on ties. */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/** confusion[true][predicted]. */
export class ConfusionMatrix {
  readonly counts: Int32Array;
  total = 0;
  correct = 0;
  constructor(readonly classes = 10) {
    this.counts = new Int32Array(classes * classes);
  }
  add(truth: number, predicted: number): void {
    this.counts[truth * this.classes + predicted]++;
    this.total++;
    if (truth === predicted) this.correct++;
  }
  get accuracy(): number {
    return this.total > 0 ? this.correct / this.total : 0;
  }
  toRows(): number[][] {
    const rows: number[][] = [];
    for (let r = 0; r < this.classes; r++) rows.push(Array.from(this.counts.subarray(r * this.classes, (r + 1) * this.classes)));
    return rows;
  }
}
