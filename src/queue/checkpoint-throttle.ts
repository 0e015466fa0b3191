/**
 * Backpressure on checkpoint writes: at most one checkpoint waits to be written per job (a newer
 * one replaces it: latest wins), and two writes of one job are at least `minIntervalMs` apart.
 * So a definition that checkpoints every sample cannot queue gigabytes of states behind a slow
 * store, and a cancel or the final result never waits behind a backlog of checkpoints. The
 * stopping point of a shutdown is still written: `writeNow` takes the waiting one at once.
 * Writes go on the job's write chain, in order with its other writes.
 */
import type { ExperimentStore } from '../store/store.js';
import type { JobWriteChains } from './job-write-chains.js';

interface PendingCheckpoint {
  /** The latest checkpoint not yet written (null: none waiting). */
  latest: { samplesDone: number; state: Uint8Array } | null;
  savedAt: number;
  timer?: NodeJS.Timeout;
  /** A write is queued on the job's chain and will take `latest` when it runs. */
  queued: boolean;
}

export class CheckpointThrottle {
  private readonly pending = new Map<string, PendingCheckpoint>();
  /** Checkpoints replaced before they were written (for /metrics and tests). */
  dropped = 0;
  written = 0;

  constructor(
    /** Read at each write (not bound once), so whoever holds the store sees every write. */
    private readonly store: Pick<ExperimentStore, 'saveCheckpoint'>,
    private readonly writes: JobWriteChains,
    private readonly minIntervalMs = 0,
  ) {}

  /** Latest wins: replaces a waiting checkpoint, and schedules a write no sooner than the minimum interval. */
  offer(id: string, samplesDone: number, state: Uint8Array): void {
    let c = this.pending.get(id);
    if (!c) {
      c = { latest: null, savedAt: 0, queued: false };
      this.pending.set(id, c);
    }
    if (c.latest) this.dropped++;
    c.latest = { samplesDone, state };
    this.schedule(id, c);
  }

  /** Writes the waiting checkpoint of a job now (shutdown, settle: the stopping point must be stored). */
  writeNow(id: string): void {
    const c = this.pending.get(id);
    if (c?.latest) this.schedule(id, c, true);
  }

  /** The run ended: its checkpoints are of no use any more (the store's finish deletes the stored one). */
  discard(id: string): void {
    const c = this.pending.get(id);
    if (!c) return;
    clearTimeout(c.timer);
    if (c.latest) this.dropped++;
    this.pending.delete(id);
  }

  /** Forgets a job whose last waiting checkpoint has been written (its run failed). */
  release(id: string): void {
    this.pending.delete(id);
  }

  /** Forgets a job's bookkeeping when nothing of it waits any more (after its writes settled). */
  releaseIfIdle(id: string): void {
    const c = this.pending.get(id);
    if (c && !c.latest && !c.timer && !c.queued) this.pending.delete(id);
  }

  /** Jobs with checkpoint bookkeeping (flush writes each one's waiting checkpoint). */
  jobs(): string[] {
    return [...this.pending.keys()];
  }

  private schedule(id: string, c: PendingCheckpoint, now = false): void {
    if (c.queued || !c.latest) return;
    if (c.timer && !now) return;
    clearTimeout(c.timer);
    c.timer = undefined;
    const wait = now ? 0 : c.savedAt + this.minIntervalMs - Date.now();
    if (wait > 0) {
      c.timer = setTimeout(() => {
        c.timer = undefined;
        this.schedule(id, c);
      }, wait);
      c.timer.unref();
      return;
    }
    c.queued = true;
    this.writes.enqueue(id, async () => {
      c.queued = false;
      const latest = c.latest;
      c.latest = null;
      if (!latest || this.pending.get(id) !== c) return;
      try {
        await this.store.saveCheckpoint(id, latest.samplesDone, latest.state);
        this.written++;
      } finally {
        c.savedAt = Date.now();
        // One arrived while this one was being written: its turn comes after the interval.
        if (c.latest) this.schedule(id, c);
      }
    });
  }
}
