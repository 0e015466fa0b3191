/**
 * Uploaded datasets in distributed mode, with the compiled processes, the real Redis and
 * PostgreSQL: the API instance and the worker have separate DATA_DIRs (as on two machines), so the
 * worker can only have the data from PostgreSQL; it copies it once into its own cache by hash and
 * trains on it.
 */
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { form, shapesIdx } from '../helpers/datasets.js';
import { deleteRedisPrefix, dropSchema, isolation, killChildren, PG_URL, REDIS_URL, requireDist, servicesAvailable, startChild, type Child } from '../helpers/distributed.js';
import { json, post, tempDir, waitFor } from '../helpers/server.js';

const available = await servicesAvailable();
const { prefix, schema } = isolation('datasets');

describe.skipIf(!available)('distributed mode: datasets reach workers through PostgreSQL', () => {
  let apiDir: string;
  let workerDir: string;
  let api: Child;
  let worker: Child;
  const env = (dataDir: string) => ({
    REDIS_URL, DATABASE_URL: PG_URL, DATABASE_SCHEMA: schema, BULLMQ_PREFIX: prefix, DATA_DIR: dataDir, PORT: '0', WORKER_CONCURRENCY: '1',
  });

  beforeAll(async () => {
    requireDist('dist/src/server.js', 'dist/workers/worker.js');
    apiDir = await tempDir('spikelab-ds-api-');
    workerDir = await tempDir('spikelab-ds-worker-');
    api = await startChild('api', env(apiDir));
    worker = await startChild('worker', env(workerDir));
  }, 60_000);

  afterAll(async () => {
    await killChildren('SIGKILL');
    for (const d of [apiDir, workerDir]) if (d) await rm(d, { recursive: true, force: true });
    if (available) {
      await deleteRedisPrefix(prefix);
      await dropSchema(schema);
    }
  });

  it('a worker on another machine trains on an uploaded dataset', async () => {
    const set = shapesIdx(800, 200, 5);
    const res = await fetch(`${api.url}/v1/datasets`, {
      method: 'POST',
      body: form({ trainImages: set.trainImages, trainLabels: set.trainLabels, testImages: set.testImages, testLabels: set.testLabels }),
    });
    const ds = await json(res);
    expect(res.status, JSON.stringify(ds)).toBe(201);
    const sub = await post(`${api.url}/v1/experiments`, { preset: 'diehl-cook-2015', neurons: 16, seed: 3, dataset: { id: ds.id }, labelUpdateInterval: 200, stream: { spikesEvery: 0, weightsEvery: 0 } });
    const exp = await json(sub);
    expect(sub.status, JSON.stringify(exp)).toBe(201);
    const done = await waitFor(async () => {
      const e = await json(await fetch(`${api.url}/v1/experiments/${exp.id}`));
      return ['completed', 'failed'].includes(e.status) ? e : undefined;
    }, { timeoutMs: 90_000, what: 'experiment end' });
    expect(done.status, done.error).toBe('completed');
    expect(done.result.accuracy.allActivity).toBeGreaterThan(0.6);
    expect(worker.logs.some((l) => l.msg === 'job started' && l.experimentId === exp.id)).toBe(true);
    // The worker's copy, in its own DATA_DIR, byte for byte the upload's.
    const cached = await readFile(path.join(workerDir, 'dataset-cache', ds.sha256, 'train-images.bin'));
    expect(Buffer.compare(cached, Buffer.from(set.raw.train.images))).toBe(0);
  });
});
