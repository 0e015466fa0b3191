/**
 * The sweep coordinator: submits a sweep's trials as ordinary experiments (through the
 * ExperimentService, so they take the same runner: embedded pool or BullMQ), listens to
 * experiment status changes, and when a stage is over applies successive halving (the best
 * `keep` fraction of points, by mean objective over their seeds, is rerun from scratch with the
 * next rung's training size — same definition and seed, so a rerun is deterministic), or, after
 * the last stage, chooses the best trial and only then reports its test accuracy.
 *
 * It holds no state of its own: everything is derived from the store (`advance` re-reads it), on
 * start, on every status change of a trial, and every `tickMs` (missed events, other API
 * instances). Stage moves, final statuses and trial submissions are compare-and-set / claimed in
 * the store, so several API instances can run coordinators over one database.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { InvalidInput, NotFound } from '../domain-errors.js';
import type { ExperimentDefinition } from '../experiment/schema.js';
import type { ExperimentRecord } from '../store/store.js';
import { survivors, trialDefinition, type SweepPlan } from './expand.js';
import type { SweepRequest } from './schema.js';
import type { BestTrial, SweepRecord, SweepStore, TrialRow } from './store.js';

const finished = new Set(['completed', 'failed', 'cancelled']);

export interface CoordinatorLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** The slice of ExperimentService the coordinator uses (kept narrow so the service can change). */
export interface TrialOwner {
  id: string;
  name: string;
  admin: boolean;
}

export interface TrialService {
  /** Submits as the sweep's owner (so the owner's quotas apply and the trial is the owner's). */
  submit(definition: ExperimentDefinition, owner: TrialOwner | null): Promise<{ id: string }>;
  cancel(id: string): Promise<unknown>;
  delete(id: string): Promise<void>;
}

export interface StatusSource {
  onStatus(listener: (record: ExperimentRecord) => void): () => void;
}

/** What the sweep stream sends: a trial changed, or the sweep did (stage, status, best). */
export type SweepEvent =
  | { type: 'trial'; sweepId: string; experimentId: string; status: string }
  | { type: 'sweep'; sweepId: string; status: string; stage: number; best: BestTrial | null };

export function objectiveOf(plan: SweepPlan, t: TrialRow): number | null {
  if (t.status !== 'completed' || !t.validation || t.cancelledEarly) return null;
  const v = plan.objective === 'validation-proportion' ? t.validation.proportionWeighting : t.validation.allActivity;
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** A trial is over when its experiment finished or is gone (deleted by hand). */
export const trialOver = (t: TrialRow) => t.state === 'submitted' && (t.status === null || finished.has(t.status));

/** Points of one stage ranked by mean objective over their seeds (points without any objective last, then by index). */
export function rankPoints(plan: SweepPlan, rows: TrialRow[]): { point: number; mean: number | null }[] {
  const byPoint = new Map<number, number[]>();
  for (const t of rows) {
    const list = byPoint.get(t.point) ?? [];
    const o = objectiveOf(plan, t);
    if (o !== null) list.push(o);
    byPoint.set(t.point, list);
  }
  return [...byPoint.entries()]
    .map(([point, os]) => ({ point, mean: os.length > 0 ? os.reduce((a, b) => a + b, 0) / os.length : null }))
    .sort((a, b) => (b.mean ?? -Infinity) - (a.mean ?? -Infinity) || a.point - b.point);
}

export class SweepCoordinator {
  readonly events = new EventEmitter();
  private readonly chains = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private offStatus: (() => void) | undefined;
  private closed = false;

  constructor(
    private readonly deps: {
      store: SweepStore;
      service: TrialService;
      statuses: StatusSource;
      log: CoordinatorLog;
      tickMs: number;
      /** The principal of an owner id (its name and admin flag); null: unknown (keys removed). */
      ownerOf?: (id: string) => TrialOwner | null;
    },
  ) {
    this.events.setMaxListeners(0);
  }

  /** Re-derives every running sweep from the store, then follows status changes and ticks. */
  async start(): Promise<void> {
    this.offStatus = this.deps.statuses.onStatus((record) => void this.onExperimentStatus(record));
    await this.tick();
    this.timer = setInterval(() => void this.tick(), this.deps.tickMs);
    this.timer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    this.offStatus?.();
    await Promise.allSettled([...this.chains.values()]);
  }

  async create(request: SweepRequest, plan: SweepPlan, owner: string | null): Promise<SweepRecord> {
    const record = await this.deps.store.create({ id: randomUUID(), owner, request, plan });
    await this.advance(record.id);
    return (await this.deps.store.get(record.id)) ?? record;
  }

  /** Cancels the sweep and every unfinished trial; false if it was already over. */
  async cancel(id: string): Promise<SweepRecord | null> {
    const record = await this.deps.store.finish(id, 'cancelled', { error: null });
    await this.cancelTrials(id);
    if (record) this.emitSweep(record);
    return record;
  }

  private async cancelTrials(id: string): Promise<void> {
    await this.serialized(id, async () => {
      for (const t of await this.deps.store.trials(id)) {
        if (t.experimentId && t.status !== null && !finished.has(t.status)) {
          await this.deps.service.cancel(t.experimentId).catch((err: unknown) => {
            this.deps.log.warn({ err, experimentId: t.experimentId, sweepId: id }, 'could not cancel a sweep trial');
          });
        }
      }
    });
  }

  /** Cancels, then deletes every trial experiment and the sweep. */
  async delete(id: string): Promise<void> {
    await this.deps.store.finish(id, 'cancelled');
    await this.serialized(id, async () => {
      for (const t of await this.deps.store.trials(id)) {
        if (t.experimentId && t.status !== null) {
          await this.deps.service.delete(t.experimentId).catch((err: unknown) => {
            if (!(err instanceof NotFound)) throw err;
          });
        }
      }
      await this.deps.store.delete(id);
    });
    this.events.emit(id, { type: 'sweep', sweepId: id, status: 'deleted', stage: -1, best: null });
  }

  private async onExperimentStatus(record: ExperimentRecord): Promise<void> {
    if (this.closed) return;
    try {
      const sweepId = await this.deps.store.sweepOfExperiment(record.id);
      if (!sweepId) return;
      this.events.emit(sweepId, { type: 'trial', sweepId, experimentId: record.id, status: record.status } satisfies SweepEvent);
      if (finished.has(record.status)) await this.advance(sweepId);
    } catch (err) {
      this.deps.log.error({ err, experimentId: record.id }, 'sweep coordinator: status handling failed');
    }
  }

  private async tick(): Promise<void> {
    if (this.closed) return;
    try {
      for (const sweep of await this.deps.store.listRunning()) await this.advance(sweep.id);
    } catch (err) {
      this.deps.log.warn({ err }, 'sweep coordinator: tick failed');
    }
  }

  /** One advance at a time per sweep in this process (others are compare-and-set in the store). */
  private serialized(id: string, fn: () => Promise<void>): Promise<void> {
    const previous = this.chains.get(id) ?? Promise.resolve();
    const next = previous.then(fn, fn);
    const settled = next.catch(() => {});
    this.chains.set(id, settled);
    void settled.then(() => {
      if (this.chains.get(id) === settled) this.chains.delete(id);
    });
    return next;
  }

  /** Brings one sweep up to date with the store: submit pending trials, promote a finished stage, or finish. */
  advance(id: string): Promise<void> {
    return this.serialized(id, async () => {
      if (this.closed) return;
      const sweep = await this.deps.store.get(id);
      if (!sweep) return;
      if (sweep.status !== 'running') {
        // Finished by another API instance (or just now): tell this instance's listeners.
        this.emitSweep(sweep);
        return;
      }
      const { plan } = sweep;
      await this.submitPending(sweep);
      const rows = (await this.deps.store.trials(id)).filter((t) => t.stage === sweep.stage);
      if (rows.length === 0 || !rows.every(trialOver)) return;

      const ranked = rankPoints(plan, rows);
      const lastStage = sweep.stage >= plan.stages.length - 1;
      if (!lastStage) {
        const keepN = survivors(ranked.length, plan.keep);
        const promoted = ranked.slice(0, keepN).filter((r) => r.mean !== null).map((r) => r.point);
        if (promoted.length === 0) {
          const done = await this.deps.store.finish(id, 'failed', { error: `no trial of rung ${sweep.stage} produced a validation accuracy` });
          await this.emitLatest(id, done);
          return;
        }
        if (await this.deps.store.promote(id, sweep.stage, promoted.sort((a, b) => a - b), plan.seeds)) {
          this.deps.log.info({ sweepId: id, stage: sweep.stage + 1, promoted }, 'sweep: successive halving promoted points');
          const moved = await this.deps.store.get(id);
          if (moved) {
            this.emitSweep(moved);
            await this.submitPending(moved);
          }
        } else {
          await this.emitLatest(id, null);
        }
        return;
      }
      const best = this.chooseBest(sweep, rows, ranked);
      const done = best
        ? await this.deps.store.finish(id, 'completed', { best })
        : await this.deps.store.finish(id, 'failed', { error: 'no trial produced a validation accuracy' });
      if (done) this.deps.log.info({ sweepId: id, best: best?.experimentId }, 'sweep finished');
      await this.emitLatest(id, done);
    });
  }

  private chooseBest(sweep: SweepRecord, rows: TrialRow[], ranked: { point: number; mean: number | null }[]): BestTrial | null {
    const top = ranked[0];
    if (!top || top.mean === null) return null;
    const candidates = rows
      .filter((t) => t.point === top.point && objectiveOf(sweep.plan, t) !== null)
      .sort((a, b) => objectiveOf(sweep.plan, b)! - objectiveOf(sweep.plan, a)! || a.seedIndex - b.seedIndex);
    const t = candidates[0]!;
    return {
      point: t.point,
      seed: t.seed,
      experimentId: t.experimentId!,
      parameters: sweep.plan.points[t.point]!.parameters,
      objective: objectiveOf(sweep.plan, t)!,
      pointObjective: top.mean,
      testAccuracy: t.test ? { allActivity: t.test.allActivity ?? null, proportionWeighting: t.test.proportionWeighting ?? null } : null,
    };
  }

  private async submitPending(sweep: SweepRecord): Promise<void> {
    const claimed = await this.deps.store.claimPending(sweep.id, sweep.stage);
    const releaseFrom = async (k: number) => {
      for (const r of claimed.slice(k)) await this.deps.store.releaseClaim(sweep.id, sweep.stage, r.point, r.seedIndex);
    };
    for (const [k, c] of claimed.entries()) {
      if (this.closed) {
        await releaseFrom(k);
        return;
      }
      try {
        const definition = trialDefinition(sweep.plan, c.point, c.seedIndex, sweep.stage);
        const owner = sweep.owner === null ? null : (this.deps.ownerOf?.(sweep.owner) ?? { id: sweep.owner, name: sweep.owner, admin: false });
        const record = await this.deps.service.submit(definition, owner);
        await this.deps.store.markSubmitted(sweep.id, sweep.stage, c.point, c.seedIndex, record.id);
        this.events.emit(sweep.id, { type: 'trial', sweepId: sweep.id, experimentId: record.id, status: 'queued' } satisfies SweepEvent);
      } catch (err) {
        await releaseFrom(k);
        if (err instanceof InvalidInput || err instanceof NotFound) {
          // The service refused the trial itself (not a full queue or a quota): retrying cannot help.
          const done = await this.deps.store.finish(sweep.id, 'failed', { error: `trial (point ${c.point}, rung ${sweep.stage}) was refused: ${err.message}` });
          await this.emitLatest(sweep.id, done);
          void this.cancelTrials(sweep.id);
          return;
        }
        // The queue is full or a quota is reached: left pending, a later tick tries again.
        this.deps.log.warn({ err, sweepId: sweep.id, point: c.point }, 'sweep: could not submit a trial; will retry');
        return;
      }
    }
  }

  /** After a compare-and-set: what this instance wrote, or (another instance won) what the store holds now. */
  private async emitLatest(id: string, written: SweepRecord | null): Promise<void> {
    const record = written ?? (this.events.listenerCount(id) > 0 ? await this.deps.store.get(id) : null);
    if (record) this.emitSweep(record);
  }

  private emitSweep(record: SweepRecord): void {
    this.events.emit(record.id, {
      type: 'sweep',
      sweepId: record.id,
      status: record.status,
      stage: record.stage,
      best: record.best,
    } satisfies SweepEvent);
  }
}
