/**
 * What the sweep routes do, independent of HTTP: plan a sweep (every trial of every rung checked
 * like a submitted experiment, before anything is queued) and create it, list and read the sweeps
 * a caller may see, cancel and delete them, and follow one's progress. The coordinator
 * (src/sweeps/coordinator.ts) runs them. Refusals are domain errors (src/domain-errors.ts).
 */
import type { Limits, Principal, SweepSettings } from '../config.js';
import type { ExperimentDefinition } from '../experiment/schema.js';
import { Conflict, InvalidInput, invalidInputFromZod, LimitExceeded, notFound, QueueFull } from '../domain-errors.js';
import { SweepCoordinator, type CoordinatorLog, type StatusSource, type SweepEvent, type TrialService } from '../sweeps/coordinator.js';
import { planSweep, resolveSweepBase, SweepValidationError, type SweepPlan } from '../sweeps/expand.js';
import { sweepRequestSchema, type SweepRequest } from '../sweeps/schema.js';
import type { SweepRecord, SweepStatus, SweepStore, TrialRow } from '../sweeps/store.js';
import type { ExperimentService } from './experiment-service.js';
import { checkLimits } from './limits.js';
import { canSee, ownerFilter, type RequestPrincipal } from './ownership.js';

/** A sweep and its trials, as the store holds them now. */
export interface SweepState {
  sweep: SweepRecord;
  trials: TrialRow[];
}

export interface SweepServiceDeps {
  store: SweepStore;
  /**
   * Trials are submitted, cancelled and deleted as ordinary experiments (the ExperimentService),
   * which also looks up an uploaded dataset the base names, for the sweep's owner.
   */
  experiments: TrialService & Pick<ExperimentService, 'resolveDataset'>;
  /** Experiment status changes (the JobRecorder's), which move sweeps on. */
  statuses: StatusSource;
  /** The queue's depth: a sweep whose first rung would overfill it is refused whole. */
  queue: { stats(): { queued: number } };
  limits: Limits;
  settings: SweepSettings;
  /** The configured principals: trials are submitted as the sweep's owner, under its quotas. */
  principals: Principal[];
  log: CoordinatorLog;
}

export class SweepService {
  private readonly coordinator: SweepCoordinator;

  constructor(private readonly deps: SweepServiceDeps) {
    this.coordinator = new SweepCoordinator({
      store: deps.store,
      service: deps.experiments,
      statuses: deps.statuses,
      log: deps.log,
      tickMs: deps.settings.tickMs,
      ownerOf: (id) => {
        const p = deps.principals.find((x) => x.id === id);
        return p ? { id: p.id, name: p.name, admin: p.admin } : null;
      },
    });
  }

  /** Creates the sweep tables if needed. */
  init(): Promise<void> {
    return this.deps.store.init();
  }

  /** Re-derives every running sweep from the store, then follows experiment statuses and ticks. */
  start(): Promise<void> {
    return this.coordinator.start();
  }

  close(): Promise<void> {
    return this.coordinator.close();
  }

  async create(body: unknown, principal: RequestPrincipal | null): Promise<SweepState> {
    const parsed = sweepRequestSchema.safeParse(body ?? null);
    if (!parsed.success) throw invalidInputFromZod(parsed.error);
    const plan = await this.plan(parsed.data, principal);
    const queued = this.deps.queue.stats().queued;
    const { maxQueued } = this.deps.limits;
    if (queued + plan.trialsFirstStage > maxQueued) {
      throw new QueueFull(`${plan.trialsFirstStage} trials would take the queue over MAX_QUEUED = ${maxQueued} (${queued} waiting); try later`);
    }
    return this.stateOf(await this.coordinator.create(parsed.data, plan, principal?.id ?? null));
  }

  /**
   * Every trial of every rung checked, after the base's uploaded dataset (if any) is looked up as
   * this principal: a dataset it may not see is refused like a missing one, and the trials'
   * definitions carry its id, hash and shape (each trial is checked again when it is submitted).
   */
  private async plan(request: SweepRequest, principal: RequestPrincipal | null): Promise<SweepPlan> {
    try {
      const base = resolveSweepBase(request);
      await this.resolveDatasetOf(base, 'preset' in request.base, principal);
      return planSweep(request, { maxTrials: this.deps.settings.maxTrials, check: (def) => checkLimits(def, this.deps.limits, false), base });
    } catch (err) {
      if (!(err instanceof SweepValidationError)) throw err;
      throw err.code === 'limit_exceeded' ? new LimitExceeded(err.message, err.field) : new InvalidInput(err.message, err.field);
    }
  }

  /** The experiment service's dataset lookup, its refusal naming the field inside the sweep request (`base.dataset.id`). */
  private async resolveDatasetOf(base: ExperimentDefinition, fromPreset: boolean, principal: RequestPrincipal | null): Promise<void> {
    try {
      await this.deps.experiments.resolveDataset(base, principal, fromPreset);
    } catch (err) {
      if (!(err instanceof InvalidInput) || !err.field) throw err;
      throw new InvalidInput(`base.${err.message}`, `base.${err.field}`);
    }
  }

  /** A page of the sweeps this principal may see, newest first. */
  async list(
    query: { status?: SweepStatus[]; limit: number; offset: number },
    principal: RequestPrincipal | null,
  ): Promise<{ items: SweepState[]; total: number }> {
    const page = await this.deps.store.list({ ...query, owner: ownerFilter(principal) });
    const items: SweepState[] = [];
    for (const sweep of page.items) items.push(await this.stateOf(sweep));
    return { items, total: page.total };
  }

  /** The sweep if this principal may see it; otherwise NotFound, exactly as for an unknown id. */
  async get(id: string, principal: RequestPrincipal | null): Promise<SweepState> {
    return this.stateOf(await this.visible(id, principal));
  }

  /** Cancels a running sweep and its unfinished trials. */
  async cancel(id: string, principal: RequestPrincipal | null): Promise<SweepState> {
    const sweep = await this.visible(id, principal);
    if (sweep.status !== 'running') throw new Conflict(`sweep ${sweep.id} is already ${sweep.status}`);
    await this.coordinator.cancel(sweep.id);
    return this.stateOf((await this.deps.store.get(sweep.id)) ?? sweep);
  }

  /** Deletes the sweep and its trial experiments. */
  async delete(id: string, principal: RequestPrincipal | null): Promise<void> {
    const sweep = await this.visible(id, principal);
    await this.coordinator.delete(sweep.id);
  }

  /** The sweep now, for a stream that has already checked who may see it; null once it is deleted. */
  async current(id: string): Promise<SweepState | null> {
    const sweep = await this.deps.store.get(id);
    return sweep ? this.stateOf(sweep) : null;
  }

  /** Follows one sweep's events (its trials' statuses; its own stage, status and best); returns the unsubscribe. */
  follow(id: string, listener: (e: SweepEvent) => void): () => void {
    this.coordinator.events.on(id, listener);
    return () => this.coordinator.events.off(id, listener);
  }

  private async visible(id: string, principal: RequestPrincipal | null): Promise<SweepRecord> {
    const sweep = await this.deps.store.get(id);
    if (!sweep || !canSee(principal, sweep.owner)) throw notFound('sweep', id);
    return sweep;
  }

  private async stateOf(sweep: SweepRecord): Promise<SweepState> {
    return { sweep, trials: await this.deps.store.trials(sweep.id) };
  }
}
