/**
 * Finding 5 of issue 9 (tenants): API keys are principals with names and quotas; an experiment
 * belongs to the key that created it and is a 404 for every other key (stream included); an
 * admin key sees everything; one key filling its queued quota does not lock the others out; the
 * cost-per-day quota is enforced. Also: /metrics shows experiment ids only to admins (finding 9).
 * Runs the scripted engine, so jobs are cheap and their timing deterministic.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectDocumented } from '../helpers/openapi.js';
import { json, post, startServer, tempDir, waitFor, type TestServer } from '../helpers/server.js';
import { smallNetwork } from '../helpers/small-network.js';
import { openStream } from '../helpers/ws.js';

const scripted = new URL('../queue/fixtures/scripted-engine.ts', import.meta.url);
const keys = { alice: 'alice-key-0123456789', bob: 'bob-key-0123456789ab', root: 'root-key-0123456789a', thrifty: 'thrifty-key-01234567' };
const as = (who: keyof typeof keys) => ({ authorization: `Bearer ${keys[who]}` });

let server: TestServer;
beforeAll(async () => {
  const dir = await tempDir();
  const file = path.join(dir, 'principals.json');
  await writeFile(
    file,
    JSON.stringify([
      { name: 'alice', key: keys.alice, quota: { queued: 2, running: 1 } },
      { name: 'bob', key: keys.bob },
      { name: 'root', key: keys.root, admin: true },
      { name: 'thrifty', key: keys.thrifty, quota: { costPerDay: 1e6 } },
    ]),
  );
  server = await startServer({ WORKERS: '2', API_KEYS: 'plain-key-1', API_KEYS_FILE: file }, { app: { engineWorkerUrl: scripted } });
});
afterAll(async () => {
  await server?.close();
});

/** A scripted job that runs until cancelled (each sample busy-waits 20 ms). */
const long = smallNetwork({
  name: 'long',
  restBetweenSamplesMs: 20,
  dataset: { train: 50_000, test: 0 },
  checkpointEvery: 0,
});

async function submit(who: keyof typeof keys, body: object = long) {
  const res = await post(`${server.url}/v1/experiments`, body, as(who));
  return { res, body: await json(res) };
}

describe('tenants', () => {
  let aliceId: string;

  it("a key's experiment is a 404 for other keys, everywhere", async () => {
    const created = await submit('alice');
    expect(created.res.status).toBe(201);
    aliceId = created.body.id;
    const u = `${server.url}/v1/experiments/${aliceId}`;
    for (const [method, url] of [
      ['GET', u],
      ['GET', `${u}/metrics`],
      ['GET', `${u}/weights`],
      ['GET', `${u}/confusion`],
      ['POST', `${u}/cancel`],
      ['DELETE', u],
    ] as const) {
      const res = await fetch(url, { method, headers: as('bob') });
      const body = await json(res);
      expect(res.status, `${method} ${url}`).toBe(404);
      expect(body).toMatchObject({ statusCode: 404, code: 'not_found' });
    }
    const classify = await post(`${u}/classify`, { images: [new Array(784).fill(0)] }, as('bob'));
    expect(classify.status).toBe(404);
    const stream = openStream(`${server.wsUrl}/v1/experiments/${aliceId}/stream`, as('bob'));
    expect((await stream.closed).code).toBe(4404);
    // Still running, untouched by bob's cancel and delete.
    const mine = await json(await fetch(u, { headers: as('alice') }));
    expect(['queued', 'running']).toContain(mine.status);
  });

  it('lists only your own experiments; an admin lists and manages all', async () => {
    const bobs = await json(await fetch(`${server.url}/v1/experiments`, { headers: as('bob') }));
    expect(bobs.items.map((x: { id: string }) => x.id)).not.toContain(aliceId);
    const alices = await json(await fetch(`${server.url}/v1/experiments`, { headers: as('alice') }));
    expect(alices.items.map((x: { id: string }) => x.id)).toContain(aliceId);
    const all = await json(await fetch(`${server.url}/v1/experiments`, { headers: as('root') }));
    expect(all.items.map((x: { id: string }) => x.id)).toContain(aliceId);
    expect((await fetch(`${server.url}/v1/experiments/${aliceId}`, { headers: as('root') })).status).toBe(200);
  });

  it('one key filling its queued quota gets 429 while other keys still submit and run', async () => {
    // alice may run one at a time: her next two wait although a thread is free.
    await waitFor(async () => (await json(await fetch(`${server.url}/v1/experiments/${aliceId}`, { headers: as('alice') }))).status === 'running', {
      what: 'alice running',
    });
    const waiting = [(await submit('alice')).body.id, (await submit('alice')).body.id];
    const over = await submit('alice');
    expect(over.res.status).toBe(429);
    expect(over.body).toMatchObject({ statusCode: 429, code: 'quota_exceeded' });
    expect(over.body.message).toMatch(/alice .*queued/);
    await expectDocumented('POST', '/v1/experiments', over.res, over.body);
    const bob = await submit('bob');
    expect(bob.res.status).toBe(201);
    // bob's job takes the free thread; alice's stay queued behind her running quota.
    await waitFor(async () => (await json(await fetch(`${server.url}/v1/experiments/${bob.body.id}`, { headers: as('bob') }))).status === 'running', {
      what: 'bob running',
    });
    for (const id of waiting) {
      expect((await json(await fetch(`${server.url}/v1/experiments/${id}`, { headers: as('alice') }))).status).toBe('queued');
    }
    // A plain API_KEYS key is a principal too (named key-1).
    const plain = await post(`${server.url}/v1/experiments`, long, { authorization: 'Bearer plain-key-1' });
    expect(plain.status).toBe(201);
  });

  it('enforces the cost per day', async () => {
    const res = await submit('thrifty');
    expect(res.res.status).toBe(429);
    expect(res.body.message).toMatch(/costPerDay/);
  });

  it('shows experiment ids in /metrics only to an admin', async () => {
    await waitFor(async () => server.lab.recorder.liveProgressAll().length > 0, { what: 'live progress' });
    const anonymous = await (await fetch(`${server.url}/metrics`)).text();
    expect(anonymous).not.toMatch(/experiment="/);
    expect(anonymous).not.toContain(aliceId);
    const user = await (await fetch(`${server.url}/metrics`, { headers: as('alice') })).text();
    expect(user).not.toMatch(/experiment="/);
    const admin = await (await fetch(`${server.url}/metrics`, { headers: as('root') })).text();
    expect(admin).toMatch(/^spikelab_samples_per_second\{experiment="[0-9a-f-]+",phase="train"\} /m);
  });

  it('admin cancels everything (cleanup)', async () => {
    const all = await json(await fetch(`${server.url}/v1/experiments?status=queued,running&limit=100`, { headers: as('root') }));
    for (const x of all.items) await fetch(`${server.url}/v1/experiments/${x.id}/cancel`, { method: 'POST', headers: as('root') });
  });
});
