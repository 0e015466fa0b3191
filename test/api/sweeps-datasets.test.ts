/**
 * A sweep whose base trains on an uploaded dataset (real server, real engine, API-key principals):
 * the dataset is looked up as the sweep's owner before anything is queued — another key's sweep
 * on it is a 400 naming `base.dataset.id`, exactly as for a missing dataset — and every trial is
 * an ordinary experiment on that dataset (its id, hash and 16×16 input layer in the definition).
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { form, shapesIdx } from '../helpers/datasets.js';
import { json, post, startServer, tempDir, waitFor, type TestServer } from '../helpers/server.js';

const keys = { alice: 'alice-key-0123456789', bob: 'bob-key-0123456789ab' };
const as = (who: keyof typeof keys) => ({ authorization: `Bearer ${keys[who]}` });

let server: TestServer;
beforeAll(async () => {
  const dir = await tempDir();
  const file = path.join(dir, 'principals.json');
  await writeFile(file, JSON.stringify([{ name: 'alice', key: keys.alice }, { name: 'bob', key: keys.bob }]));
  server = await startServer({ API_KEYS_FILE: file, SWEEP_TICK_MS: '500' });
});
afterAll(async () => {
  await server?.close();
});

const count = async (who: keyof typeof keys, what: 'experiments' | 'sweeps') =>
  (await json(await fetch(`${server.url}/v1/${what}?limit=1`, { headers: as(who) }))).total as number;

describe('sweeps over an uploaded dataset', () => {
  it('runs for the dataset’s owner, trials on the dataset; another key is refused before anything is queued', async () => {
    const { raw: _raw, ...files } = shapesIdx(400, 100, 3);
    const up = await fetch(`${server.url}/v1/datasets`, { method: 'POST', body: form(files, { name: 'alice shapes' }), headers: as('alice') });
    expect(up.status).toBe(201);
    const dataset = await json(up);
    const request = (id: string) => ({
      name: 'shapes rates',
      base: { preset: 'diehl-cook-2015', neurons: 16, validation: 100, seed: 2, labelUpdateInterval: 100, dataset: { id } },
      parameters: [{ type: 'grid', path: '/encoder/maxRateHz', values: [64, 128] }],
    });

    for (const [who, id] of [
      ['bob', dataset.id],
      ['alice', 'no-such-dataset'],
    ] as const) {
      const refused = await post(`${server.url}/v1/sweeps`, request(id), as(who));
      const body = await json(refused);
      expect(refused.status, JSON.stringify(body)).toBe(400);
      expect(body).toMatchObject({ code: 'validation_error', field: 'base.dataset.id' });
      expect(body.message).toMatch(/not found/);
    }
    const sweepingResolved = await post(
      `${server.url}/v1/sweeps`,
      { ...request(dataset.id), parameters: [{ type: 'grid', path: '/dataset/resolved/height', values: [16, 8] }] },
      as('alice'),
    );
    expect(sweepingResolved.status).toBe(400);
    expect((await json(sweepingResolved)).field).toBe('parameters.0.path');
    for (const who of ['alice', 'bob'] as const) {
      expect(await count(who, 'experiments')).toBe(0);
      expect(await count(who, 'sweeps')).toBe(0);
    }

    const res = await post(`${server.url}/v1/sweeps`, request(dataset.id), as('alice'));
    const created = await json(res);
    expect(res.status, JSON.stringify(created)).toBe(201);
    expect((await fetch(`${server.url}/v1/sweeps/${created.id}`, { headers: as('bob') })).status).toBe(404);
    const done = await waitFor(
      async () => {
        const sw = await json(await fetch(`${server.url}/v1/sweeps/${created.id}`, { headers: as('alice') }));
        return ['completed', 'failed'].includes(sw.status) ? sw : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 100, what: 'the sweep to end' },
    );
    expect(done.status, done.error).toBe('completed');
    expect(done.trials).toMatchObject({ total: 2, completed: 2 });
    for (const t of done.items) {
      const e = await json(await fetch(`${server.url}/v1/experiments/${t.experimentId}`, { headers: as('alice') }));
      expect(e.definition.dataset).toMatchObject({ name: 'upload', id: dataset.id, train: 300, validation: 100, test: 100 });
      expect(e.definition.dataset.resolved).toMatchObject({ sha256: dataset.sha256, height: 16, width: 16, classes: 4 });
      expect(e.definition.layers[0].size).toBe(16 * 16);
      expect(e.definition.encoder.maxRateHz).toBe(t.parameters['/encoder/maxRateHz']);
      expect(t.objective).toBe(e.result.validation.accuracy.allActivity);
    }
    // Still invisible to bob.
    expect((await fetch(`${server.url}/v1/datasets/${dataset.id}`, { headers: as('bob') })).status).toBe(404);
  });
});
