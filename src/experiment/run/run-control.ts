/**
 * Cancellation and cooperative scheduling of a running experiment: `stopRequested()` asks the
 * caller's `shouldStop` (with the training samples done) once per sample of every phase, and
 * `yieldIfDue()` gives the event loop a turn after `yieldEveryMs` of work so async messages (a
 * cancel, a stream subscription) are seen.
 */
export class RunControl {
  private lastYield = performance.now();

  constructor(
    private readonly shouldStop: (trainSamplesDone: number) => boolean,
    private readonly trainSamplesDone: () => number,
    private readonly yieldEveryMs: number,
  ) {}

  stopRequested(): boolean {
    return this.shouldStop(this.trainSamplesDone());
  }

  async yieldIfDue(): Promise<void> {
    const now = performance.now();
    if (now - this.lastYield >= this.yieldEveryMs) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      this.lastYield = performance.now();
    }
  }
}
