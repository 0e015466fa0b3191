/**
 * Orientation and direction tuning of the excitatory neurons, measured on the test set with
 * learning off: each neuron's mean spike count per stimulus angle (its tuning curve), its
 * preferred angle, and a selectivity index from the circular mean of its responses —
 *
 *   orientation (θ_k ∈ [0°, 180°)):  OSI = |Σ_k r_k·e^{2iθ_k}| / Σ_k r_k
 *   direction   (φ_k ∈ [0°, 360°)):  DSI = |Σ_k r_k·e^{iφ_k}|  / Σ_k r_k
 *
 * (1 − circular variance; 0 = untuned, 1 = responds to one angle only). The preferred angle is the
 * angle of that circular mean (halved for orientation); a silent neuron has index 0 and null
 * preference.
 */

export interface TuningResult {
  kind: 'orientation' | 'direction';
  /** The stimulus angle of each class (degrees). */
  anglesDeg: number[];
  /** neurons × classes mean spikes per test sample of that class, row-major. */
  curves: number[][];
  preferredDeg: (number | null)[];
  /** OSI or DSI per neuron. */
  selectivity: number[];
  /** Total test spikes of each neuron (which neurons are responsive). */
  spikes: number[];
}

export class TuningAccumulator {
  private readonly sums: Float64Array;
  private readonly samples: Int32Array;

  constructor(
    readonly neurons: number,
    readonly kind: 'orientation' | 'direction',
    readonly anglesDeg: number[],
  ) {
    this.sums = new Float64Array(neurons * anglesDeg.length);
    this.samples = new Int32Array(anglesDeg.length);
  }

  observe(counts: ArrayLike<number>, label: number): void {
    const k = this.anglesDeg.length;
    if (label < 0 || label >= k) return;
    this.samples[label]++;
    for (let j = 0; j < this.neurons; j++) if (counts[j] !== 0) this.sums[j * k + label] += counts[j];
  }

  result(): TuningResult {
    const k = this.anglesDeg.length;
    const curves: number[][] = [];
    const spikes: number[] = [];
    for (let j = 0; j < this.neurons; j++) {
      const row: number[] = [];
      let total = 0;
      for (let c = 0; c < k; c++) {
        total += this.sums[j * k + c];
        row.push(this.samples[c] > 0 ? this.sums[j * k + c] / this.samples[c] : 0);
      }
      curves.push(row);
      spikes.push(total);
    }
    const { preferredDeg, selectivity } = selectivityOf(curves, this.anglesDeg, this.kind);
    return { kind: this.kind, anglesDeg: this.anglesDeg.slice(), curves, preferredDeg, selectivity, spikes };
  }
}

/** OSI/DSI and preferred angle of each tuning curve (see the module comment). */
export function selectivityOf(
  curves: number[][],
  anglesDeg: number[],
  kind: 'orientation' | 'direction',
): { preferredDeg: (number | null)[]; selectivity: number[] } {
  const m = kind === 'orientation' ? 2 : 1;
  const preferredDeg: (number | null)[] = [];
  const selectivity: number[] = [];
  for (const r of curves) {
    let re = 0;
    let im = 0;
    let sum = 0;
    r.forEach((v, c) => {
      const a = (m * anglesDeg[c] * Math.PI) / 180;
      re += v * Math.cos(a);
      im += v * Math.sin(a);
      sum += v;
    });
    if (!(sum > 0)) {
      preferredDeg.push(null);
      selectivity.push(0);
      continue;
    }
    selectivity.push(Math.hypot(re, im) / sum);
    const span = 360 / m;
    let deg = (Math.atan2(im, re) * 180) / Math.PI / m;
    if (deg < 0) deg += span;
    preferredDeg.push(deg);
  }
  return { preferredDeg, selectivity };
}
