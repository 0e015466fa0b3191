/**
 * What the routes do with experiments, independent of HTTP: validate and submit, cancel, delete,
 * and resubmit unfinished work after a restart.
 */
import { randomUUID } from 'node:crypto';
import { ZodError } from 'zod';
import type { Limits } from '../config.js';
import { resolveDefinition } from '../experiment/presets.js';
import { compileDefinition, DefinitionError } from '../experiment/topology.js';
import type { JobRunner } from '../queue/job-runner.js';
import type { JobRecorder, Log } from '../queue/job-recorder.js';
import { finishedStatuses, type ExperimentRecord, type ExperimentStore } from '../store/store.js';
import { ApiError, errorFromZod, notFound } from './errors.js';
import { checkLimits } from './limits.js';
import type { StreamHub } from './stream-hub.js';
import { canSee, type DatasetStore, type Principal } from '../data/dataset-store.js';
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
}

export class ExperimentService {
  constructor(private readonly deps: ServiceDeps) {}

  async submit(body: unknown, principal: Principal | null = null): Promise<ExperimentRecord> {
    const fromPreset = body !== null && typeof body === 'object' && !Array.isArray(body) && 'preset' in body;
    let definition;
    try {
      definition = resolveDefinition(body);
    } catch (err) {
      if (err instanceof ZodError) throw errorFromZod(err);
      throw err;
    }
    await this.resolveDataset(definition, principal, fromPreset);
    checkLimits(definition, this.deps.limits, fromPreset);
    try {
      // The engine's own shape check, so a definition it cannot run is a 400 now, not a failed job later.
      compileDefinition(definition);
    } catch (err) {
      if (err instanceof DefinitionError) throw new ApiError(400, 'validation_error', err.message, err.field);
      throw err;
    }
    if (this.deps.runner.stats().queued >= this.deps.limits.maxQueued) {
      throw new ApiError(503, 'queue_full', `the queue holds the limit MAX_QUEUED = ${this.deps.limits.maxQueued} experiments; try later`);
    }
    const id = randomUUID();
    const record = await this.deps.store.create({ id, definition });
    try {
      await this.deps.runner.submit({ id, definition });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      await this.deps.store.transition(id, ['queued'], 'failed', { error: message, finished: true });
      throw new ApiError(503, 'service_unavailable', `could not queue the experiment: ${message}`);
    }
    return record;
  }

  /**
   * An uploaded dataset named by id: checked to exist for this principal, and its shape and hash
   * written into the definition (`dataset.resolved`, the split sizes made explicit; a preset's
   * input layer sized to it), so the stored definition says exactly what was trained on.
   */
  private async resolveDataset(def: ExperimentDefinition, principal: Principal | null, fromPreset: boolean): Promise<void> {
    const ds = def.dataset;
    if (ds.name !== 'upload') return;
    const field = 'dataset.id';
    const record = this.deps.datasets ? await this.deps.datasets.get(ds.id) : null;
    if (!record || !canSee(principal, record.owner)) throw new ApiError(400, 'validation_error', `${field}: dataset ${ds.id} not found`, field);
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

  async get(id: string): Promise<ExperimentRecord> {
    const record = await this.deps.store.get(id);
    if (!record) throw notFound('experiment', id);
    return this.withLiveProgress(record);
  }

  withLiveProgress(record: ExperimentRecord): ExperimentRecord {
    const live = record.status === 'running' ? this.deps.recorder.liveProgress(record.id) : undefined;
    return live ? { ...record, progress: live } : record;
  }

  /**
   * Stops a queued or running experiment and waits (bounded) until the stop is recorded, so the
   * response shows the final status. A job that finished meanwhile keeps its real final status.
   */
  async cancel(id: string): Promise<ExperimentRecord> {
    const record = await this.get(id);
    if (finishedStatuses.includes(record.status)) {
      throw new ApiError(409, 'conflict', `experiment ${id} is already ${record.status}`);
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

  async delete(id: string): Promise<void> {
    const record = await this.deps.store.get(id);
    if (!record) throw notFound('experiment', id);
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
      if (runner.holds ? await runner.holds(record.id) : runner.has(record.id)) continue;
      // (The BullMQ runner's workers load the checkpoint from the store themselves.)
      const checkpoint = record.status === 'running' && runner.kind === 'embedded' ? await store.loadCheckpoint(record.id) : null;
      try {
        await runner.submit({
          id: record.id,
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
}
