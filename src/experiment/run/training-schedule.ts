/**
 * Which training image comes next: `epochs` epochs of `perEpoch` images each, every epoch taking
 * the first `perEpoch` entries of a fresh Fisher–Yates shuffle of the training pool (drawn from
 * the network's PRNG when the epoch begins), or the pool in order without shuffling.
 */
import type { StatePart } from './state-part.js';

export interface ScheduleShape {
  epochs: number;
  perEpoch: number;
  poolSize: number;
  shuffle: boolean;
}

/** Fisher–Yates shuffle of 0..n−1; `below(k)` draws uniformly from 0..k−1. */
export function shuffledIndices(n: number, below: (k: number) => number): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = below(i + 1);
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

export class TrainingSchedule {
  private epochIndex = 0;
  /** Samples of the current epoch already trained on. */
  private stepInEpoch = 0;
  /** The current epoch's pool order; null until the epoch begins. */
  private order: Uint32Array | null = null;

  constructor(
    private readonly shape: ScheduleShape,
    private readonly below: (k: number) => number,
  ) {}

  get epoch(): number {
    return this.epochIndex;
  }
  /** Training samples done, all epochs. */
  get samplesDone(): number {
    return this.epochIndex * this.shape.perEpoch + this.stepInEpoch;
  }
  get totalSamples(): number {
    return this.shape.epochs * this.shape.perEpoch;
  }
  /** True right after the last sample of an epoch. */
  get atEpochEnd(): boolean {
    return this.stepInEpoch === this.shape.perEpoch;
  }
  /** Samples done in the current epoch. */
  get doneInEpoch(): number {
    return this.stepInEpoch;
  }

  /**
   * The pool index of the next training image, beginning the next epoch (and drawing its order)
   * when the current one is used up; null when every epoch is done.
   */
  next(): number | null {
    const { epochs, perEpoch, poolSize, shuffle } = this.shape;
    while (this.epochIndex < epochs) {
      if (this.stepInEpoch < perEpoch) {
        this.order ??= shuffle ? shuffledIndices(poolSize, this.below) : Uint32Array.from({ length: poolSize }, (_, i) => i);
        return this.order[this.stepInEpoch];
      }
      this.epochIndex++;
      this.stepInEpoch = 0;
      this.order = null;
    }
    return null;
  }

  /** Marks the image `next()` returned as trained on. */
  advance(): void {
    this.stepInEpoch++;
  }

  encodeState(): StatePart {
    return {
      meta: { epoch: this.epochIndex, step: this.stepInEpoch, hasOrder: this.order !== null },
      arrays: { order: this.order ?? new Uint32Array(0) },
    };
  }

  decodeState({ meta, arrays }: StatePart): void {
    this.epochIndex = meta.epoch as number;
    this.stepInEpoch = meta.step as number;
    this.order = meta.hasOrder ? (arrays.order as Uint32Array).slice() : null;
    if (this.order && this.order.length !== this.shape.poolSize) throw new Error(`checkpoint: epoch order has ${this.order.length} entries, expected ${this.shape.poolSize}`);
  }
}
