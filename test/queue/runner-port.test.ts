/**
 * The job-runner port: both adapters — the embedded thread pool (scripted engine, embedded store)
 * and BullMQ (the real Redis, the real PostgreSQL store) — answer every question the API asks of
 * a runner, each in its own way, so no caller needs to know which one it has.
 */
import { rm } from 'node:fs/promises';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveDefinition } from '../../src/experiment/presets.js';
import { BullMqJobRunner } from '../../src/queue/bullmq-runner.js';
import { EmbeddedJobRunner } from '../../src/queue/embedded-runner.js';
import { ReadBackStoredEnds } from '../../src/queue/read-back-stored-ends.js';
import { StoreEveryEvent } from '../../src/queue/store-every-event.js';
import { openStore } from '../../src/store/open-store.js';
import type { ExperimentStore } from '../../src/store/store.js';
import { deleteRedisPrefix, dropSchema, isolation, PG_URL, REDIS_URL, servicesAvailable } from '../helpers/distributed.js';
import { tempDir, waitFor } from '../helpers/server.js';

const scripted = new URL('./fixtures/scripted-engine.ts', import.meta.url);
const definition = (samples: number) =>
  resolveDefinition({ preset: 'diehl-cook-2015', neurons: 4, train: samples, test: 0, restBetweenSamplesMs: 5, checkpointEvery: 0 });
const state = new Uint8Array([7, 0, 0, 0, 1, 2, 3]);

/** An experiment stored as running with a checkpoint, as an interrupted run leaves it. */
async function interrupted(store: ExperimentStore, id: string) {
  await store.create({ id, definition: definition(100) });
  await store.transition(id, ['queued'], 'running', { started: true });
  await store.saveCheckpoint(id, 7, state);
}

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

describe('embedded adapter', () => {
  it('holds its own jobs, sends the stored checkpoint with a resumed running job, has no cluster and records every event', async () => {
    const dataDir = await tempDir('spikelab-port-');
    const store = await openStore({ dataDir });
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }), () => store.close());
    const runner = new EmbeddedJobRunner({ workers: 1, workerUrl: scripted, checkpoints: store });
    cleanups.push(() => runner.close());
    await runner.start();

    await interrupted(store, 'interrupted');
    expect(await runner.resumeCheckpointFor({ id: 'interrupted', status: 'running' })).toEqual({ samplesDone: 7, state });
    // A queued experiment never started: nothing to continue from.
    expect(await runner.resumeCheckpointFor({ id: 'interrupted', status: 'queued' })).toBeNull();

    const ended: string[] = [];
    runner.on((e) => e.type === 'cancelled' || e.type === 'finished' ? void ended.push(e.id) : undefined);
    await runner.submit({ id: 'long', definition: definition(10_000) });
    await runner.submit({ id: 'waiting', definition: definition(10) });
    expect(await runner.holds('long')).toBe(true);
    expect(await runner.holds('waiting')).toBe(true);
    expect(await runner.holds('elsewhere')).toBe(false);
    await runner.cancel('waiting');
    await runner.cancel('long');
    await waitFor(() => ended.length === 2, { what: 'both jobs ended' });
    expect(await runner.holds('long')).toBe(false);

    expect(await runner.clusterStats()).toBeNull();
    expect(runner.recording()).toBeInstanceOf(StoreEveryEvent);
    let reconciled = 0;
    runner.reconcileWith(async () => ++reconciled);
    await new Promise((r) => setTimeout(r, 300));
    expect(reconciled).toBe(0);
  });
});

const available = await servicesAvailable();

describe.skipIf(!available)('BullMQ adapter', () => {
  it('holds what the shared queue holds, leaves checkpoints to the workers, reconciles periodically and reports the cluster', async () => {
    const { prefix, schema } = isolation('port');
    const dataDir = await tempDir('spikelab-port-bullmq-');
    const store = await openStore({ databaseUrl: PG_URL, dataDir, schema });
    cleanups.push(
      () => rm(dataDir, { recursive: true, force: true }),
      () => dropSchema(schema),
      () => deleteRedisPrefix(prefix),
      () => store.close(),
    );
    const runner = new BullMqJobRunner({
      redisUrl: REDIS_URL,
      prefix,
      queueName: 'experiments',
      attempts: 1,
      backoffMs: 100,
      heartbeatMs: 500,
      reconcileIntervalMs: 100,
      store,
      log: pino({ level: 'silent' }),
    });
    cleanups.push(() => runner.close());
    await runner.start();

    await interrupted(store, 'interrupted');
    // The worker that takes the job loads the checkpoint itself; nothing goes through Redis.
    expect(await runner.resumeCheckpointFor({ id: 'interrupted', status: 'running' })).toBeNull();

    // No worker runs here: the job waits in the queue, which every API instance can ask.
    await runner.submit({ id: 'queued-job', definition: definition(10) });
    expect(await runner.holds('queued-job')).toBe(true);
    expect(await runner.holds('never-submitted')).toBe(false);
    expect(await runner.clusterStats()).toMatchObject({ queue: { waiting: 1 }, workers: [], counters: { stalled: 0, retried: 0 } });
    expect(await runner.cancel('queued-job')).toBe(true);
    expect(await runner.holds('queued-job')).toBe(false);

    expect(runner.recording()).toBeInstanceOf(ReadBackStoredEnds);
    let reconciled = 0;
    runner.reconcileWith(async () => ++reconciled);
    await waitFor(() => reconciled >= 2, { timeoutMs: 5000, what: 'two reconciliations' });
    await runner.close();
    const after = reconciled;
    await new Promise((r) => setTimeout(r, 300));
    expect(reconciled).toBe(after);
  });
});
