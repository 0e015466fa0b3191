/** Wall-clock timing of a run's phases: samples per second, ETAs, durations. */

/** count per second over `ms` milliseconds (never divides by zero). */
export function ratePerSecond(count: number, ms: number): number {
  return (count * 1000) / Math.max(ms, 1e-3);
}

export class Stopwatch {
  private readonly startedAt = performance.now();
  elapsedMs(): number {
    return performance.now() - this.startedAt;
  }
}

/** Training throughput: overall (since this process began training) and per labelling window. */
export class TrainingThroughput {
  private readonly clock = new Stopwatch();
  private windowStartedAt = performance.now();

  /** `resumedAt`: training samples already done before this process (a resumed checkpoint). */
  constructor(private readonly resumedAt: number) {}

  /** Samples per second of the window that just closed with `samples` samples; starts the next. */
  closeWindow(samples: number): number {
    const now = performance.now();
    const rate = ratePerSecond(samples, now - this.windowStartedAt);
    this.windowStartedAt = now;
    return rate;
  }

  /** Samples per second so far, with `samplesDone` training samples done in total. */
  rate(samplesDone: number): number {
    return ratePerSecond(samplesDone - this.resumedAt, this.clock.elapsedMs());
  }

  /** Duration and rate of the whole phase (call once, when training ends). */
  finish(samplesDone: number): { seconds: number; samplesPerSec: number } {
    const seconds = this.clock.elapsedMs() / 1000;
    return { seconds, samplesPerSec: (samplesDone - this.resumedAt) / Math.max(seconds, 1e-9) };
  }
}
