/**
 * What the routes do with experiments, independent of HTTP: validate and submit, list and read
 * what the caller may see (live progress, metrics, trained arrays), cancel, delete, and resubmit
 * unfinished work after a restart. Refusals are domain errors (src/domain-errors.ts), which the
 * API maps to status codes.
 */
import { randomUUID } from 'node:crypto';
import { ZodError } from 'zod';
import { Conflict, InvalidInput, invalidInputFromZod, notFound, NotReady, QueueFull, QuotaExceeded, Unavailable } from '../domain-errors.js';
import type { Limits, Principal, Quota } from '../config.js';
import { formatCost } from '../experiment/cost.js';
import { resolveDefinition } from '../experiment/presets.js';
import { compileDefinition, DefinitionError } from '../experiment/topology.js';
import type { JobRunner } from '../queue/job-runner.js';
import type { JobRecorder, Log } from '../queue/job-recorder.js';
import type { WindowMetricsEvent } from '../experiment/events.js';
import { finishedStatuses, type ExperimentRecord, type ExperimentStatus, type ExperimentStore, type TrainedArtifacts } from '../store/store.js';
import { checkLimits } from './limits.js';
import { canSee, ownerFilter, type RequestPrincipal } from './ownership.js';
import type { StreamHub } from './stream-hub.js';
import type { DatasetStore } from '../data/dataset-store.js';
import type { ExperimentDefinition } from '../experiment/schema.js';

export interface ServiceDeps {
  store: ExperimentStore;
  runner: JobRunner;
  recorder: JobRecorder;
  hub: StreamHub;
  limits: Limits;
  log: Log;
  /** Uploaded datasets, which a definition names by id. */
  datasets?: DatasetStore;
  /** How long a cancel request waits for the running job to stop. */
  cancelWaitMs?: number;
  /** The configured principals, for their quotas. */
  principals?: Principal[];
}

/** What an experiment lacks until it has finished (409 `not_ready` over HTTP). */
export const notReady = (id: string, what: string) =>
  new NotReady(`experiment ${id} has no ${what} yet; they are available once it has finished`);

export class ExperimentService {
  private readonly quotas = new Map<string, Quota>();
  /** Submissions of one owner are serialized so two concurrent requests cannot both pass a quota. */
  private readonly submitting = new Map<string, Promise<unknown>>();

  constructor(private readonly deps: ServiceDeps) {
    for (const p of deps.principals ?? []) this.quotas.set(p.id, p.quota);
  }

  /** The largest number of jobs this owner may run at once (0 = unlimited); the embedded runner asks. */
  readonly runningLimit = (owner: string | null | undefined): number => (owner ? (this.quotas.get(owner)?.running ?? 0) : 0);

  async submit(body: unknown, principal: RequestPrincipal | null = null): Promise<ExperimentRecord> {
    if (!principal) return this.submitAs(body, null);
    const previous = this.submitting.get(principal.id) ?? Promise.resolve();
    const next = previous.catch(() => {}).then(() => this.submitAs(body, principal));
    this.submitting.set(principal.id, next);
    try {
      return await next;
    } finally {
      if (this.submitting.get(principal.id) === next) this.submitting.delete(principal.id);
    }
  }

  private async checkQuota(principal: RequestPrincipal, cost: number): Promise<void> {
    const quota = this.quotas.get(principal.id);
    if (!quota || principal.admin) return;
    const usage = await this.deps.store.usage(principal.id);
    const over = (what: string, detail: string) => new QuotaExceeded(`${principal.name} ${detail} (quota ${what}); try later`);
    if (quota.queued > 0 && usage.queued >= quota.queued) {
      throw over('queued', `already has ${usage.queued} experiments queued, the most allowed is ${quota.queued}`);
    }
    if (quota.costPerDay > 0 && usage.costLastDay + cost > quota.costPerDay) {
      throw over(
        'costPerDay',
        `has submitted ${formatCost(usage.costLastDay)} in the last 24 hours; this one (${formatCost(cost)}) would exceed ${formatCost(quota.costPerDay)}`,
      );
    }
  }

  private async submitAs(body: unknown, principal: RequestPrincipal | null): Promise<ExperimentRecord> {
    const fromPreset = body !== null && typeof body === 'object' && !Array.isArray(body) && 'preset' in body;
    let definition;
    try {
      definition = resolveDefinition(body);
    } catch (err) {
      if (err instanceof ZodError) throw invalidInputFromZod(err);
      throw err;
    }
    await this.resolveDataset(definition, principal, fromPreset);
    const cost = checkLimits(definition, this.deps.limits, fromPreset);
    try {
      // The engine's own shape check, so a definition it cannot run is a 400 now, not a failed job later.
      compileDefinition(definition);
    } catch (err) {
      if (err instanceof DefinitionError) throw new InvalidInput(err.message, err.field);
      throw err;
    }
    if (this.deps.runner.stats().queued >= this.deps.limits.maxQueued) {
      throw new QueueFull(`the queue holds the limit MAX_QUEUED = ${this.deps.limits.maxQueued} experiments; try later`);
    }
    if (principal) await this.checkQuota(principal, cost.total);
    const id = randomUUID();
    const owner = principal?.id ?? null;
    const record = await this.deps.store.create({ id, definition, owner, cost: cost.total });
    try {
      await this.deps.runner.submit({ id, definition, owner });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      await this.deps.store.transition(id, ['queued'], 'failed', { error: message, finished: true });
      throw new Unavailable(`could not queue the experiment: ${message}`);
    }
    return record;
  }

  /**
   * An uploaded dataset named by id: checked to exist for this principal, and its shape and hash
   * written into the definition (`dataset.resolved`, the split sizes made explicit; a preset's
   * input layer sized to it), so the stored definition says exactly what was trained on. Other
   * datasets are left as they are. A sweep resolves its base this way before planning its trials.
   */
  async resolveDataset(def: ExperimentDefinition, principal: RequestPrincipal | null, fromPreset: boolean): Promise<void> {
    const ds = def.dataset;
    if (ds.name !== 'upload') return;
    const field = 'dataset.id';
    const record = this.deps.datasets ? await this.deps.datasets.get(ds.id) : null;
    if (!record || !canSee(principal, record.owner)) throw new InvalidInput(`${field}: dataset ${ds.id} not found`, field);
    const m = record.meta;
    ds.resolved = {
      sha256: record.sha256,
      kind: m.kind,
      height: m.height,
      width: m.width,
      channels: m.channels,
      classes: m.classes,
      labelled: m.labelled,
      trainCount: m.train.count,
      testCount: m.test.count,
    };
    ds.train ??= Math.max(0, m.train.count - ds.validation);
    ds.test ??= m.labelled ? m.test.count : 0;
    if (fromPreset) {
      const input = def.layers.find((l) => l.type === 'input');
      if (input) input.size = m.height * m.width * m.channels;
    }
  }

  /** The experiment, with live progress, if this principal may see it; otherwise NotFound, exactly as for an unknown id. */
  async get(id: string, principal: RequestPrincipal | null = null): Promise<ExperimentRecord> {
    return this.withLiveProgress(await this.visible(id, principal));
  }

  private async visible(id: string, principal: RequestPrincipal | null): Promise<ExperimentRecord> {
    const record = await this.deps.store.get(id);
    if (!record || !canSee(principal, record.owner)) throw notFound('experiment', id);
    return record;
  }

  /** A page of the experiments this principal may see, newest first, with live progress. */
  async list(
    query: { status?: ExperimentStatus[]; limit: number; offset: number },
    principal: RequestPrincipal | null = null,
  ): Promise<{ items: ExperimentRecord[]; total: number }> {
    const page = await this.deps.store.list({ ...query, owner: ownerFilter(principal) });
    return { items: page.items.map((x) => this.withLiveProgress(x)), total: page.total };
  }

  /** The labelling-window metrics of an experiment this principal may see. */
  async metrics(id: string, principal: RequestPrincipal | null = null): Promise<{ record: ExperimentRecord; items: WindowMetricsEvent[] }> {
    const record = await this.get(id, principal);
    return { record, items: await this.deps.store.listMetrics(record.id) };
  }

  /** The stored trained arrays of an experiment (read with get(), so the caller may see it); null before there are any. */
  storedArtifacts(record: ExperimentRecord): Promise<TrainedArtifacts | null> {
    return this.deps.store.loadArtifacts(record.id);
  }

  withLiveProgress(record: ExperimentRecord): ExperimentRecord {
    const live = record.status === 'running' ? this.deps.recorder.liveProgress(record.id) : undefined;
    return live ? { ...record, progress: live } : record;
  }

  /**
   * Stops a queued or running experiment and waits (bounded) until the stop is recorded, so the
   * response shows the final status. A job that finished meanwhile keeps its real final status.
   */
  async cancel(id: string, principal: RequestPrincipal | null = null): Promise<ExperimentRecord> {
    const record = await this.get(id, principal);
    if (finishedStatuses.includes(record.status)) {
      throw new Conflict(`experiment ${id} is already ${record.status}`);
    }
    const { runner, recorder, store } = this.deps;
    const finished = recorder.waitForFinish(id, this.deps.cancelWaitMs ?? 10_000);
    const known = await runner.cancel(id);
    if (!known && !recorder.isBusy(id)) {
      // Not held by the runner (e.g. left queued by a crashed process): cancel it in the store.
      const forced = await store.transition(id, ['queued', 'running'], 'cancelled', { finished: true });
      if (forced) this.deps.hub.handleStatus(forced);
    }
    const after = (await finished) ?? (await store.get(id));
    if (!after) throw notFound('experiment', id);
    return this.withLiveProgress(after);
  }

  async delete(id: string, principal: RequestPrincipal | null = null): Promise<void> {
    const record = await this.visible(id, principal);
    this.deps.recorder.forget(id);
    if (!finishedStatuses.includes(record.status)) await this.deps.runner.cancel(id);
    this.deps.hub.drop(id);
    await this.deps.store.delete(id);
  }

  /**
   * After a restart: queued experiments are queued again and running ones continue from their
   * latest checkpoint (from scratch if they had none), oldest first. In distributed mode also
   * periodically: whatever the database holds as unfinished but the queue does not is enqueued.
   */
  async resumeUnfinished(): Promise<number> {
    const { store, runner, log } = this.deps;
    let resumed = 0;
    for (const record of await store.listUnfinished()) {
      if (await runner.holds(record.id)) continue;
      // Accepted under older (or laxer) limits: a definition over today's limits would occupy an
      // engine thread again after every restart, so it fails instead of resuming.
      const refusal = this.overLimits(record);
      if (refusal) {
        const failed = await store.transition(record.id, ['queued', 'running'], 'failed', { error: refusal, finished: true });
        if (failed) this.deps.hub.handleStatus(failed);
        log.warn({ experimentId: record.id, error: refusal }, 'not resuming an experiment over the limits');
        continue;
      }
      const checkpoint = await runner.resumeCheckpointFor(record);
      try {
        await runner.submit({
          id: record.id,
          owner: record.owner,
          definition: record.definition,
          resumeFrom: checkpoint?.state,
          resumeFromSample: checkpoint?.samplesDone,
        });
        resumed++;
        log.info(
          { experimentId: record.id, status: record.status, fromSample: checkpoint?.samplesDone ?? 0 },
          'resubmitted unfinished experiment',
        );
      } catch (err) {
        log.error({ err, experimentId: record.id }, 'could not resubmit unfinished experiment');
      }
    }
    return resumed;
  }

  private overLimits(record: ExperimentRecord): string | null {
    try {
      checkLimits(record.definition, this.deps.limits, false);
      return null;
    } catch (err) {
      return `not resumed: ${err instanceof Error ? err.message : String(err)}`;
    }
  }
}
