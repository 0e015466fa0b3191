/**
 * Distributed mode end to end, with the real Redis and PostgreSQL of this machine and the compiled
 * processes: 2 API instances and 2 worker processes (child processes of dist/), an isolated BullMQ
 * prefix and DATABASE_SCHEMA per run.
 *
 * - 4 experiments submitted through API A, one watched over WebSocket on API B; the worker
 *   running it is killed with SIGKILL after a checkpoint is stored; BullMQ's stalled-job recovery
 *   hands it to the other worker, which resumes from the checkpoint in PostgreSQL. All 4
 *   complete and the killed one's weights hash equals an uninterrupted in-process run.
 * - Cancel through API B stops a job running on a worker (submitted through A), and removes a
 *   waiting one.
 * - SIGTERM on a worker hands its running job back to the queue; after the queue's keys are
 *   deleted (a flushed Redis) the API re-enqueues the unfinished experiments from the database,
 *   and a new worker resumes the job from its checkpoint, bit-identically.
 */
import { rm } from 'node:fs/promises';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FrameKind } from '../../src/api/stream-frames.js';
import { runExperiment } from '../../src/experiment/run.js';
import type { ExperimentDefinition } from '../../src/experiment/schema.js';
import { redisOptionsFromUrl } from '../../src/queue/redis.js';
import {
  clusterEnv,
  deleteRedisPrefix,
  dropSchema,
  isolation,
  killChildren,
  REDIS_URL,
  requireDist,
  servicesAvailable,
  startChild,
  type Child,
} from '../helpers/distributed.js';
import { json, post, tempDir, waitFor } from '../helpers/server.js';
import { openStream, texts } from '../helpers/ws.js';

const available = await servicesAvailable();
const isolated = isolation('cluster');
const { prefix, schema } = isolated;

let dataDir: string;
// Workers hold live events for up to 1 s: the stream must still get a job's last events before its end.
const env = () => clusterEnv(isolated, dataDir, { WORKER_LIVE_BATCH_MS: '1000' });

const experiment = (seed: number, train: number) => ({
  preset: 'diehl-cook-2015',
  neurons: 40,
  train,
  test: 50,
  seed,
  labelUpdateInterval: 250,
  checkpointEvery: 500,
  stream: { progressEvery: 50, spikesEvery: 250, weightsEvery: 1000 },
});

let apiA: Child;
let apiB: Child;
const workers: Child[] = [];
let queue: Queue;

const get = async (api: Child, id: string) => json(await fetch(`${api.url}/v1/experiments/${id}`));
const waitStatus = (api: Child, id: string, statuses: string[], timeoutMs = 90_000) =>
  waitFor(
    async () => {
      const e = await get(api, id);
      return statuses.includes(e.status) ? e : undefined;
    },
    { timeoutMs, intervalMs: 50, what: `${id} to be ${statuses.join('/')}` },
  );
/** The worker process whose log says it started this job most recently. */
const runningOn = (id: string) =>
  workers.find((w) => w.proc.exitCode === null && w.proc.signalCode === null && w.logs.some((l) => l.msg === 'job started' && l.experimentId === id));

async function reference(definition: ExperimentDefinition): Promise<string> {
  const result = await runExperiment(definition, { emit: () => {} });
  return result.weightsSha256;
}

describe.skipIf(!available)('distributed mode: 2 API processes, 2 worker processes', () => {
  beforeAll(async () => {
    requireDist('dist/src/server.js', 'dist/workers/worker.js');
    dataDir = await tempDir('spikelab-cluster-');
    // A (creates the schema) first, then the others in parallel.
    apiA = await startChild('api', env());
    const started = await Promise.all([startChild('api', env()), startChild('worker', env()), startChild('worker', env())]);
    apiB = started[0];
    workers.push(...started.slice(1));
    queue = new Queue('experiments', { connection: { ...redisOptionsFromUrl(REDIS_URL), maxRetriesPerRequest: null }, prefix });
  }, 60_000);

  afterAll(async () => {
    await killChildren('SIGKILL');
    await queue?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
    if (available) {
      await deleteRedisPrefix(prefix);
      await dropSchema(schema);
    }
  });

  it('runs 4 experiments; a SIGKILLed worker’s job resumes on the other worker, bit-identical, watched from API B', async () => {
    const health = await json(await fetch(`${apiB.url}/health`));
    expect(health).toMatchObject({ status: 'ok', store: { kind: 'postgres' }, queue: { ok: true, kind: 'bullmq' } });

    const submitted: any[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await post(`${apiA.url}/v1/experiments`, experiment(100 + i, i === 0 ? 16_000 : 6_000));
      expect(res.status).toBe(201);
      submitted.push(await json(res));
    }
    const victim = submitted[0];
    // Watched on the other API instance.
    const stream = openStream(`${apiB.wsUrl}/v1/experiments/${victim.id}/stream?channels=progress,metrics,weights`);

    // Kill the worker running it once a checkpoint is in the database, mid-training.
    const checkpointed = await waitFor(
      async () => {
        const e = await get(apiB, victim.id);
        return e.status === 'running' && e.checkpoint ? e : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 10, what: 'first checkpoint of the victim' },
    );
    const owner = runningOn(victim.id);
    expect(owner, 'a worker logged the start of the victim').toBeDefined();
    owner!.proc.kill('SIGKILL');
    const killedAt = checkpointed.checkpoint.samplesDone;
    expect(killedAt).toBeGreaterThanOrEqual(500);
    expect(killedAt).toBeLessThan(16_000);
    await owner!.exited;

    // All four complete (the victim on the surviving worker, after BullMQ's stalled-job recovery).
    const done = await Promise.all(submitted.map((s) => waitStatus(apiA, s.id, ['completed', 'failed', 'cancelled'], 120_000)));
    for (const d of done) expect(d.status, `${d.id}: ${d.error}`).toBe('completed');
    const resumed = await get(apiB, victim.id);
    expect(resumed.attempts).toBeGreaterThanOrEqual(2);
    expect(resumed.resumedFrom).toBeGreaterThanOrEqual(killedAt);
    expect(resumed.result.train.samples).toBe(16_000);
    const survivor = workers.find((w) => w !== owner)!;
    expect(survivor.logs.some((l) => l.msg === 'job started' && l.experimentId === victim.id && l.resumedFrom >= killedAt)).toBe(true);

    // The stream on API B followed the job across the crash, to a normal end.
    const closed = await stream.closed;
    expect(closed.code).toBe(1000);
    const msgs = texts(stream.frames);
    expect(msgs[0]).toMatchObject({ type: 'hello' });
    expect(msgs.some((m) => m.type === 'status' && m.status === 'running' && m.resumedFrom >= killedAt)).toBe(true);
    expect(msgs.at(-1)).toMatchObject({ type: 'end', status: 'completed', result: { weightsSha256: resumed.result.weightsSha256 } });
    const progress = msgs.filter((m) => m.type === 'progress');
    // About one a second (the latest of each batch), and every phase's last.
    expect(progress.length).toBeGreaterThanOrEqual(3);
    for (let k = 1; k < progress.length; k++) expect(progress[k].seq).toBeGreaterThan(progress[k - 1].seq);
    expect(stream.frames.some((f) => f.kind === 'binary' && f.header.kind === FrameKind.weights)).toBe(true);
    // Live events travel in batches; the last window still arrives, before the end.
    expect(msgs.filter((m) => m.type === 'metrics').at(-1)).toMatchObject({ samplesSeen: 16_000 });

    // Bit-identical to an uninterrupted run of the same definition and seed.
    expect(resumed.result.weightsSha256).toBe(await reference(resumed.definition));

    // Every API instance sees the same data; /metrics counts the stalled job.
    const listed = await json(await fetch(`${apiB.url}/v1/experiments?status=completed`));
    expect(listed.total).toBe(4);
    const metrics = await (await fetch(`${apiA.url}/metrics`)).text();
    expect(metrics).toMatch(/^spikelab_jobs_stalled_total [1-9]/m);
    expect(metrics).toMatch(/^spikelab_queue_jobs\{state="waiting"\} 0$/m);
    expect(metrics).toMatch(/^spikelab_worker_active_jobs\{worker="[^"]+",host="[^"]+",pid="\d+"\} 0$/m);
  }, 180_000);

  it('cancels through API B a job running on a worker, and removes a waiting one', async () => {
    // The surviving worker plus a new one.
    workers.push(await startChild('worker', env()));
    const long = async () => json(await post(`${apiA.url}/v1/experiments`, experiment(7, 60_000)));
    const a = await long();
    const b = await long();
    const c = await long();
    await waitStatus(apiB, a.id, ['running'], 30_000);
    await waitStatus(apiB, b.id, ['running'], 30_000);
    expect((await get(apiB, c.id)).status).toBe('queued');

    // Waiting: removed from the queue at once.
    const waiting = await json(await post(`${apiB.url}/v1/experiments/${c.id}/cancel`, ''));
    expect(waiting).toMatchObject({ id: c.id, status: 'cancelled' });
    expect(await queue.getJobState(c.id)).toBe('unknown');

    // Running (submitted through A, running on some worker): stops within a sample, partial results kept.
    await waitFor(async () => ((await get(apiB, a.id)).progress?.done ?? 0) > 500, { what: 'training progress' });
    const t0 = Date.now();
    const res = await post(`${apiB.url}/v1/experiments/${a.id}/cancel`, '');
    expect(res.status).toBe(200);
    const cancelled = await json(res);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(cancelled).toMatchObject({ id: a.id, status: 'cancelled' });
    const stored = await get(apiA, a.id);
    expect(stored.status).toBe('cancelled');
    expect(stored.result.cancelled).toBe(true);
    expect(stored.result.train.samples).toBeGreaterThan(0);
    expect(stored.result.train.samples).toBeLessThan(60_000);
    const weights = await fetch(`${apiA.url}/v1/experiments/${a.id}/weights?format=json`);
    expect(weights.status).toBe(200);
    expect(runningOn(a.id)!.logs.some((l) => l.msg === 'cancel requested' && l.experimentId === a.id)).toBe(true);

    const other = await json(await post(`${apiB.url}/v1/experiments/${b.id}/cancel`, ''));
    expect(other.status).toBe('cancelled');
    expect(await queue.getJobCounts('active', 'waiting')).toEqual({ active: 0, waiting: 0 });
  }, 120_000);

  it('SIGTERM hands a running job back; after the queue is flushed the API re-enqueues it from the database', async () => {
    // One worker left, so the job runs there.
    const [first, ...rest] = workers.filter((w) => w.proc.exitCode === null && w.proc.signalCode === null);
    for (const w of rest) {
      w.proc.kill('SIGTERM');
      expect((await w.exited).code).toBe(0);
    }
    const x = await json(await post(`${apiA.url}/v1/experiments`, experiment(11, 30_000)));
    const checkpointed = await waitFor(
      async () => {
        const e = await get(apiA, x.id);
        return e.status === 'running' && e.checkpoint?.samplesDone >= 1000 ? e : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 10, what: 'a checkpoint' },
    );
    const t0 = Date.now();
    first!.proc.kill('SIGTERM');
    expect((await first!.exited).code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(first!.logs.some((l) => l.msg === 'job handed back to the queue' && l.experimentId === x.id)).toBe(true);
    expect(await queue.getJobState(x.id)).toBe('waiting');
    const afterStop = await get(apiA, x.id);
    expect(afterStop.status).toBe('running');
    // The engine checkpointed the sample where SIGTERM stopped it, beyond the periodic checkpoint.
    expect(afterStop.checkpoint.samplesDone).toBeGreaterThan(checkpointed.checkpoint.samplesDone);

    // A second, queued experiment; then Redis loses everything of this deployment.
    const y = await json(await post(`${apiB.url}/v1/experiments`, experiment(12, 2_000)));
    expect(await deleteRedisPrefix(prefix)).toBeGreaterThan(0);
    // The API instances notice (reconcile every second) and enqueue both again from PostgreSQL.
    await waitFor(async () => (await queue.getJobState(x.id)) === 'waiting' && (await queue.getJobState(y.id)) === 'waiting', {
      timeoutMs: 15_000,
      what: 're-enqueued jobs',
    });

    const w = await startChild('worker', env());
    workers.push(w);
    const [doneX, doneY] = await Promise.all([waitStatus(apiB, x.id, ['completed', 'failed']), waitStatus(apiB, y.id, ['completed', 'failed'])]);
    expect(doneY.status).toBe('completed');
    expect(doneX.status).toBe('completed');
    expect(doneX.resumedFrom).toBe(afterStop.checkpoint.samplesDone);
    expect(doneX.result.weightsSha256).toBe(await reference(doneX.definition));
  }, 150_000);
});
