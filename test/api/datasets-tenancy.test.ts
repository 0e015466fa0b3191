/**
 * Datasets belong to the key that uploaded them: another key gets 404 (and cannot train on them);
 * an admin sees every dataset; and a refused delete counts, but never names, experiments the
 * requester may not see (no probing of other keys' experiment ids through a dataset).
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { form, shapesIdx } from '../helpers/datasets.js';
import { json, post, startServer, tempDir, type TestServer } from '../helpers/server.js';

const keys = { alice: 'alice-key-0123456789', bob: 'bob-key-0123456789ab', root: 'root-key-0123456789a' };
const as = (who: keyof typeof keys) => ({ authorization: `Bearer ${keys[who]}` });

let server: TestServer;
beforeAll(async () => {
  const dir = await tempDir();
  const file = path.join(dir, 'principals.json');
  await writeFile(
    file,
    JSON.stringify([
      { name: 'alice', key: keys.alice },
      { name: 'bob', key: keys.bob },
      { name: 'root', key: keys.root, admin: true },
    ]),
  );
  server = await startServer({ WORKERS: '1', API_KEYS_FILE: file });
});
afterAll(async () => {
  await server?.close();
});

describe('dataset tenancy', () => {
  it('other keys get 404; a refused delete does not name an admin key\'s experiment', async () => {
    const set = shapesIdx(200, 20, 3);
    const { raw: _raw, ...files } = set;
    const up = await fetch(`${server.url}/v1/datasets`, { method: 'POST', body: form(files, { name: 'alice shapes' }), headers: as('alice') });
    expect(up.status).toBe(201);
    const { id } = await json(up);

    expect((await fetch(`${server.url}/v1/datasets/${id}`, { headers: as('bob') })).status).toBe(404);
    const bobTrains = await post(`${server.url}/v1/experiments`, { preset: 'diehl-cook-2015', neurons: 16, dataset: { id } }, as('bob'));
    expect(bobTrains.status).toBe(400);
    expect((await fetch(`${server.url}/v1/datasets`, { headers: as('bob') }).then(json)).total).toBe(0);
    expect((await fetch(`${server.url}/v1/datasets/${id}`, { headers: as('root') })).status).toBe(200);

    // The admin trains on alice's dataset; alice cannot see that experiment.
    const res = await post(
      `${server.url}/v1/experiments`,
      { preset: 'diehl-cook-2015', neurons: 16, dataset: { id }, epochs: 10, stream: { spikesEvery: 0, weightsEvery: 0 } },
      as('root'),
    );
    expect(res.status).toBe(201);
    const exp = await json(res);
    expect((await fetch(`${server.url}/v1/experiments/${exp.id}`, { headers: as('alice') })).status).toBe(404);
    const detail = await fetch(`${server.url}/v1/datasets/${id}`, { headers: as('alice') }).then(json);
    expect(detail.usedBy).toEqual([]);
    const del = await fetch(`${server.url}/v1/datasets/${id}`, { method: 'DELETE', headers: as('alice') });
    const body = await json(del);
    expect(del.status).toBe(409);
    expect(body.message).not.toContain(exp.id);
    expect(body.message).toMatch(/1 experiment\(s\) of other keys/);
    // The admin sees it named.
    const delRoot = await fetch(`${server.url}/v1/datasets/${id}`, { method: 'DELETE', headers: as('root') });
    expect((await json(delRoot)).message).toContain(exp.id);
    await post(`${server.url}/v1/experiments/${exp.id}/cancel`, {}, as('root'));
  });
});
