/**
 * Datasets with a PostgreSQL server (the store of distributed mode): the canonical bytes go to
 * `dataset_chunks` where every instance and worker reads them, an engine copies them into its
 * local cache by hash before training, and DELETE removes the chunks. Also the tenancy contract:
 * with API-key principals, another owner's dataset is a 404 and the list shows only one's own.
 */
import { randomBytes } from 'node:crypto';
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { loadConfig } from '../../src/config.js';
import { CHUNK_BYTES } from '../../src/data/blobs.js';
import { form, shapesIdx } from '../helpers/datasets.js';
import { PG_URL, postgresReachable } from '../helpers/postgres.js';
import { json, post, tempDir, waitFor } from '../helpers/server.js';

const pgAvailable = await postgresReachable();
if (process.env.CI && !pgAvailable) throw new Error(`CI is set but PostgreSQL at ${PG_URL} is unreachable`);

describe.skipIf(!pgAvailable)('datasets on PostgreSQL', () => {
  const schema = `spikelab_test_${randomBytes(6).toString('hex')}`;
  let url: string;
  let dataDir: string;
  let close: () => Promise<void>;
  const client = new pg.Client({ connectionString: PG_URL });

  beforeAll(async () => {
    await client.connect();
    dataDir = await tempDir();
    const config = loadConfig({ DATA_DIR: dataDir, PORT: '0', WORKERS: '1', LOG_LEVEL: 'silent', DATABASE_URL: PG_URL, DATABASE_SCHEMA: schema });
    const lab = await buildApp(config, { dashboardDir: path.join(dataDir, 'none') });
    // Stands in for the API-key layer of the tenancy contract: `request.principal` from a header.
    lab.app.addHook('onRequest', async (request) => {
      const who = request.headers['x-test-principal'];
      (request as unknown as { principal: unknown }).principal =
        typeof who === 'string' ? { id: who, name: who, admin: who === 'root' } : null;
    });
    await lab.app.listen({ host: '127.0.0.1', port: 0 });
    const address = lab.app.server.address();
    if (!address || typeof address === 'string') throw new Error('no address');
    url = `http://127.0.0.1:${address.port}`;
    close = async () => {
      await lab.app.close();
      await rm(dataDir, { recursive: true, force: true });
    };
  });
  afterAll(async () => {
    await close?.();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
    await client.end();
  });

  const as = (who: string) => ({ 'x-test-principal': who });
  // 4,200 images of 256 bytes: the training images span two 1 MiB chunks.
  const set = shapesIdx(4200, 200, 7);
  const files = { trainImages: set.trainImages, trainLabels: set.trainLabels, testImages: set.testImages, testLabels: set.testLabels };
  let id: string;
  let sha: string;

  it('stores the bytes as chunks in the database and trains from a worker-local copy', async () => {
    const res = await fetch(`${url}/v1/datasets`, { method: 'POST', body: form(files), headers: as('alice') });
    const body = await json(res);
    expect(res.status, JSON.stringify(body)).toBe(201);
    id = body.id;
    sha = body.sha256;
    const chunks = await client.query(`SELECT part, count(*)::int AS n, sum(length(data))::int AS bytes FROM ${schema}.dataset_chunks WHERE sha256 = $1 GROUP BY part ORDER BY part`, [sha]);
    expect(chunks.rows).toEqual([
      { part: 'test-images', n: 1, bytes: 200 * 256 },
      { part: 'test-labels', n: 1, bytes: 200 },
      { part: 'train-images', n: Math.ceil((4200 * 256) / CHUNK_BYTES), bytes: 4200 * 256 },
      { part: 'train-labels', n: 1, bytes: 4200 },
    ]);
    const owner = await client.query(`SELECT owner FROM ${schema}.datasets WHERE id = $1`, [id]);
    expect(owner.rows[0].owner).toBe('alice');
    // Preview reads a range straight from the chunks.
    expect((await fetch(`${url}/v1/datasets/${id}/preview.png`, { headers: as('alice') })).status).toBe(200);

    const sub = await post(`${url}/v1/experiments`, { preset: 'diehl-cook-2015', neurons: 8, train: 300, test: 100, dataset: { id }, stream: { spikesEvery: 0, weightsEvery: 0 } }, as('alice'));
    const exp = await json(sub);
    expect(sub.status, JSON.stringify(exp)).toBe(201);
    const done = await waitFor(async () => {
      const e = await json(await fetch(`${url}/v1/experiments/${exp.id}`));
      return ['completed', 'failed'].includes(e.status) ? e : undefined;
    }, { timeoutMs: 60_000, what: 'experiment end' });
    expect(done.status, done.error).toBe('completed');
    // The engine read a copy in this process's cache, byte for byte the upload's.
    const cached = await readFile(path.join(dataDir, 'dataset-cache', sha, 'train-images.bin'));
    expect(Buffer.compare(cached, Buffer.from(set.raw.train.images))).toBe(0);
  });

  it("hides another owner's dataset (404) and lists only one's own; an admin sees all", async () => {
    expect((await fetch(`${url}/v1/datasets/${id}`, { headers: as('bob') })).status).toBe(404);
    expect((await fetch(`${url}/v1/datasets/${id}`, { method: 'DELETE', headers: as('bob') })).status).toBe(404);
    expect((await json(await fetch(`${url}/v1/datasets`, { headers: as('bob') }))).total).toBe(0);
    expect((await json(await fetch(`${url}/v1/datasets`, { headers: as('alice') }))).total).toBe(1);
    expect((await json(await fetch(`${url}/v1/datasets`, { headers: as('root') }))).total).toBe(1);
    const sub = await post(`${url}/v1/experiments`, { preset: 'diehl-cook-2015', dataset: { id } }, as('bob'));
    expect(sub.status).toBe(400);
    expect(await json(sub)).toMatchObject({ field: 'dataset.id' });
    // Bob uploading the same content gets his own record sharing the stored bytes.
    const res = await fetch(`${url}/v1/datasets`, { method: 'POST', body: form(files), headers: as('bob') });
    const bobs = await json(res);
    expect(res.status).toBe(201);
    expect(bobs.id).not.toBe(id);
    expect(bobs.sha256).toBe(sha);
    const blobs = await client.query(`SELECT count(*)::int AS n FROM ${schema}.dataset_blobs`);
    expect(blobs.rows[0].n).toBe(1);
    // Deleting Alice's record keeps the bytes Bob's still uses; deleting Bob's removes them.
    expect((await fetch(`${url}/v1/datasets/${id}`, { method: 'DELETE', headers: as('alice') })).status).toBe(204);
    expect((await client.query(`SELECT count(*)::int AS n FROM ${schema}.dataset_chunks`)).rows[0].n).toBeGreaterThan(0);
    expect((await fetch(`${url}/v1/datasets/${bobs.id}`, { method: 'DELETE', headers: as('bob') })).status).toBe(204);
    expect((await client.query(`SELECT count(*)::int AS n FROM ${schema}.dataset_chunks`)).rows[0].n).toBe(0);
    expect(await readdir(path.join(dataDir, 'dataset-cache'))).toEqual([]);
  });
});
