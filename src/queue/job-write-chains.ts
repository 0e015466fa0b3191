/**
 * The store writes of jobs, one promise chain per job: a job's writes are applied strictly in the
 * order they were queued (so its final status never lands before its last checkpoint), while
 * different jobs' writes go on independently. A failing write is logged and does not stop the
 * writes queued after it.
 */
import type { Log } from './job-recorder.js';

export class JobWriteChains {
  private readonly chains = new Map<string, Promise<void>>();
  /** Jobs being deleted: their queued writes are skipped and no new ones are taken. */
  private readonly forgotten = new Set<string>();

  constructor(private readonly log: Log) {}

  enqueue(id: string, write: () => Promise<void>): void {
    const previous = this.chains.get(id) ?? Promise.resolve();
    const next = previous
      .then(() => (this.forgotten.has(id) ? undefined : write()))
      .catch((err: unknown) => this.log.error({ err, experimentId: id }, 'failed to record job event'));
    this.chains.set(id, next);
    void next.then(() => {
      if (this.chains.get(id) === next) this.chains.delete(id);
    });
  }

  /** Whether writes of this job are still waiting or running. */
  busy(id: string): boolean {
    return this.chains.has(id);
  }

  /** Waits until every write of one job queued so far (and any it queued in turn) is applied. */
  async settled(id: string): Promise<void> {
    for (let chain = this.chains.get(id); chain; chain = this.chains.get(id)) await chain;
  }

  /** Waits until every write of every job is applied. */
  async allSettled(): Promise<void> {
    while (this.chains.size > 0) await Promise.all([...this.chains.values()]);
  }

  forget(id: string): void {
    this.forgotten.add(id);
  }

  isForgotten(id: string): boolean {
    return this.forgotten.has(id);
  }
}
