/**
 * Parameter sweeps over real HTTP against a listening server (embedded runner, real engine, tiny
 * trials): a grid end to end with its stream and CSV, successive halving, 400s before anything is
 * queued, cancel/delete cascading to the trials, and a restart mid-sweep.
 */
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectDocumented } from '../helpers/openapi.js';
import { json, post, startServer, tempDir, waitFor, type TestServer } from '../helpers/server.js';
import { openStream, texts } from '../helpers/ws.js';

/** Sweep settings of every server here (src/config.ts reads them with the other settings). */
const sweepEnv = { SWEEP_TICK_MS: '500', MAX_SWEEP_TRIALS: '12' };

let server: TestServer;
beforeAll(async () => {
  server = await startServer(sweepEnv);
});
afterAll(async () => {
  await server?.close();
});

const tiny = { preset: 'diehl-cook-2015', neurons: 20, train: 300, validation: 100, test: 100, seed: 3, labelUpdateInterval: 100 };

async function createSweep(s: TestServer, body: object) {
  const res = await post(`${s.url}/v1/sweeps`, body);
  const created = await json(res);
  await expectDocumented('POST', '/v1/sweeps', res, created);
  return { res, created };
}

async function getSweep(s: TestServer, id: string) {
  const res = await fetch(`${s.url}/v1/sweeps/${id}`);
  const body = await json(res);
  await expectDocumented('GET', '/v1/sweeps/{id}', res, body);
  return body;
}

const waitSweep = (s: TestServer, id: string, statuses: string[], timeoutMs = 120_000) =>
  waitFor(
    async () => {
      const sw = await getSweep(s, id);
      return statuses.includes(sw.status) ? sw : undefined;
    },
    { timeoutMs, intervalMs: 100, what: `sweep ${statuses.join('|')}` },
  );

const experimentsTotal = async (s: TestServer) => (await json(await fetch(`${s.url}/v1/experiments?limit=1`))).total as number;

describe('sweeps API', () => {
  it('rejects invalid parameters and paths with a 400 naming them, before anything is queued', async () => {
    const cases: [object, string, RegExp][] = [
      [{ base: tiny, parameters: [{ type: 'grid', path: '/encoder/nope', values: [1] }] }, 'parameters.0.path', /\/encoder\/nope/],
      [{ base: tiny, parameters: [{ type: 'grid', path: 'encoder/maxRateHz', values: [1] }] }, 'parameters.0.path', /JSON Pointer/],
      [
        { base: tiny, parameters: [{ type: 'grid', path: '/layers/1/size', values: [20, 1] }, { type: 'grid', path: '/encoder/maxRateHz', values: [64, -5] }] },
        'parameters.1',
        /\/encoder\/maxRateHz.*-5/,
      ],
      [{ base: tiny, parameters: [{ type: 'grid', path: '/layers/1/size', values: [20, 100000] }] }, 'parameters.0', /MAX_NEURONS/],
      [{ base: { ...tiny, validation: 0 }, parameters: [{ type: 'grid', path: '/encoder/maxRateHz', values: [64] }] }, 'base.validation', /validation/],
      [{ base: tiny, parameters: [{ type: 'grid', path: '/seed', values: [1, 2] }] }, 'parameters.0.path', /seeds/],
      [{ base: tiny, parameters: [{ type: 'grid', path: '/encoder/maxRateHz', values: [1, 2, 3, 4, 5] }], seeds: 3 }, 'parameters', /MAX_SWEEP_TRIALS = 12/],
      [{ base: tiny, parameters: [{ type: 'uniform', path: '/encoder/maxRateHz', min: 10, max: 100 }] }, 'samples', /samples/],
      [{ base: tiny, parameters: [{ type: 'grid', path: '/encoder/maxRateHz', values: [64] }], budget: { maxTotalCost: 10 } }, 'budget.maxTotalCost', /cost units/],
      [{ base: tiny, parameters: [{ type: 'grid', path: '/encoder/maxRateHz', values: [64] }], successiveHalving: { rungs: [300] } }, 'successiveHalving.rungs.0', /below/],
      [{ base: { preset: 'nope' }, parameters: [{ type: 'grid', path: '/encoder/maxRateHz', values: [64] }] }, 'base.preset', /preset/],
      [{ base: tiny, parameters: [{ type: 'grid', path: '/x'.repeat(200), values: [64] }] }, 'parameters.0.path', /.*/],
    ];
    for (const [body, field, message] of cases) {
      const { res, created } = await createSweep(server, body);
      expect(res.status, JSON.stringify(created)).toBe(400);
      expect(created.field, created.message).toBe(field);
      expect(created.message).toMatch(message);
    }
    expect(await experimentsTotal(server)).toBe(0);
    expect((await json(await fetch(`${server.url}/v1/sweeps`))).total).toBe(0);
  });

  it('runs a grid sweep end to end: trials are experiments, best chosen on validation, test of the best only', async () => {
    const { res, created } = await createSweep(server, {
      name: 'rate grid',
      base: tiny,
      parameters: [{ type: 'grid', path: '/encoder/maxRateHz', values: [64, 128] }],
      seeds: 2,
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe(`/v1/sweeps/${created.id}`);
    expect(created).toMatchObject({ status: 'running', points: 2, seeds: [3, 4], stages: [null] });
    expect(created.items).toHaveLength(4);
    const stream = openStream(`${server.wsUrl}/v1/sweeps/${created.id}/stream`);

    const done = await waitSweep(server, created.id, ['completed', 'failed']);
    expect(done.status).toBe('completed');
    expect(done.trials).toMatchObject({ total: 4, completed: 4 });
    for (const t of done.items) {
      const e = await json(await fetch(`${server.url}/v1/experiments/${t.experimentId}`));
      expect(e.status).toBe('completed');
      expect(e.definition.encoder.maxRateHz).toBe(t.parameters['/encoder/maxRateHz']);
      expect(e.definition.seed).toBe(t.seed);
      expect(e.definition.dataset).toMatchObject({ train: 300, validation: 100, test: 100 });
      expect(t.objective).toBe(e.result.validation.accuracy.allActivity);
      expect(t.samplesPerSec).toBeGreaterThan(0);
      expect(t).not.toHaveProperty('testAccuracy');
    }
    // The best point by mean validation accuracy over its seeds, its best seed, and only its test accuracy.
    const mean = (v: number) => {
      const os = done.items.filter((t: any) => t.parameters['/encoder/maxRateHz'] === v).map((t: any) => t.objective);
      return os.reduce((a: number, b: number) => a + b, 0) / os.length;
    };
    const bestRate = mean(128) > mean(64) ? 128 : mean(64) > mean(128) ? 64 : 64;
    expect(done.best.parameters['/encoder/maxRateHz']).toBe(bestRate);
    expect(done.best.pointObjective).toBeCloseTo(mean(bestRate), 12);
    const bestExp = await json(await fetch(`${server.url}/v1/experiments/${done.best.experimentId}`));
    expect(done.best.testAccuracy).toEqual(bestExp.result.accuracy);

    const closed = await stream.closed;
    expect(closed.code).toBe(1000);
    const msgs = texts(stream.frames);
    expect(msgs[0]).toMatchObject({ type: 'hello', sweep: { id: created.id } });
    expect(msgs.some((m) => m.type === 'trial' && m.status === 'completed')).toBe(true);
    expect(msgs.at(-1)).toMatchObject({ type: 'end', sweep: { status: 'completed', best: { experimentId: done.best.experimentId } } });

    const csvRes = await fetch(`${server.url}/v1/sweeps/${created.id}/trials.csv`);
    await expectDocumented('GET', '/v1/sweeps/{id}/trials.csv', csvRes);
    expect(csvRes.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = (await csvRes.text()).trim().split('\n');
    expect(lines[0]).toBe('experiment_id,point,seed,stage,train_samples,/encoder/maxRateHz,status,stopped,objective,samples_per_sec,best');
    expect(lines).toHaveLength(5);
    expect(lines.filter((l) => l.endsWith(',true'))).toHaveLength(1);

    const listRes = await fetch(`${server.url}/v1/sweeps`);
    const list = await json(listRes);
    await expectDocumented('GET', '/v1/sweeps', listRes, list);
    expect(list.items[0]).toMatchObject({ id: created.id, status: 'completed', trials: { total: 4 } });
  });

  it('successive halving reruns the best half on the next rung and stops the others', async () => {
    const values = [0.01, 0.05, 0.2, 1];
    const { res, created } = await createSweep(server, {
      base: { ...tiny, train: 400 },
      parameters: [{ type: 'grid', path: '/layers/1/thetaPlusMv', values }],
      successiveHalving: { rungs: [200], keep: 0.5 },
      objective: 'validation-proportion',
    });
    expect(res.status).toBe(201);
    const done = await waitSweep(server, created.id, ['completed', 'failed']);
    expect(done.status).toBe('completed');
    const rung0 = done.items.filter((t: any) => t.stage === 0);
    const rung1 = done.items.filter((t: any) => t.stage === 1);
    expect(rung0).toHaveLength(4);
    expect(rung1).toHaveLength(2);
    expect(rung0.every((t: any) => t.trainSamples === 200 && t.status === 'completed')).toBe(true);
    // Ranked by the objective (ties: lower point first); the top 2 are promoted, the others stopped.
    const ranked = [...rung0].sort((a: any, b: any) => b.objective - a.objective || a.point - b.point);
    const promoted = ranked.slice(0, 2).map((t: any) => t.point).sort();
    expect(rung1.map((t: any) => t.point).sort()).toEqual(promoted);
    expect(rung0.filter((t: any) => t.stopped).map((t: any) => t.point).sort()).toEqual(ranked.slice(2).map((t: any) => t.point).sort());
    expect(done.trials.stopped).toBe(2);
    for (const t of rung1) {
      const e = await json(await fetch(`${server.url}/v1/experiments/${t.experimentId}`));
      expect(e.definition.dataset.train).toBe(400);
      expect(e.result.validation.accuracy.proportionWeighting).toBe(t.objective);
    }
    for (const t of rung0) {
      const e = await json(await fetch(`${server.url}/v1/experiments/${t.experimentId}`));
      expect(e.definition.dataset.train).toBe(200);
    }
    const best = [...rung1].sort((a: any, b: any) => b.objective - a.objective || a.point - b.point)[0];
    expect(done.best.experimentId).toBe(best.experimentId);
  });

  it('cancelling a sweep cancels its trials; deleting deletes them', async () => {
    const before = await experimentsTotal(server);
    const { created } = await createSweep(server, {
      base: { ...tiny, train: 20000, validation: 1000 },
      parameters: [{ type: 'choice', path: '/encoder/maxRateHz', values: [48, 64, 96] }],
      samples: 3,
      seed: 7,
    });
    expect(created.items).toHaveLength(3);
    expect(await experimentsTotal(server)).toBe(before + 3);
    await waitFor(async () => (await getSweep(server, created.id)).trials.running > 0, { what: 'a running trial' });
    const cancelRes = await post(`${server.url}/v1/sweeps/${created.id}/cancel`, {});
    const cancelled = await json(cancelRes);
    await expectDocumented('POST', '/v1/sweeps/{id}/cancel', cancelRes, cancelled);
    expect(cancelRes.status).toBe(200);
    expect(cancelled.status).toBe('cancelled');
    await waitFor(
      async () => {
        const sw = await getSweep(server, created.id);
        return sw.items.every((t: any) => t.status === 'cancelled') ? sw : undefined;
      },
      { what: 'every trial cancelled' },
    );
    const again = await post(`${server.url}/v1/sweeps/${created.id}/cancel`, {});
    expect(again.status).toBe(409);

    const ids = (await getSweep(server, created.id)).items.map((t: any) => t.experimentId);
    const del = await fetch(`${server.url}/v1/sweeps/${created.id}`, { method: 'DELETE' });
    await expectDocumented('DELETE', '/v1/sweeps/{id}', del);
    expect(del.status).toBe(204);
    expect((await fetch(`${server.url}/v1/sweeps/${created.id}`)).status).toBe(404);
    for (const id of ids) expect((await fetch(`${server.url}/v1/experiments/${id}`)).status).toBe(404);
    expect(await experimentsTotal(server)).toBe(before);
    const stream = openStream(`${server.wsUrl}/v1/sweeps/${created.id}/stream`);
    expect((await stream.closed).code).toBe(4404);
  });
});

describe('sweep across a restart', () => {
  it('is re-derived from the store: the next server finishes the rung, promotes and completes', async () => {
    const dataDir = await tempDir('spikelab-sweep-restart-');
    const servers: TestServer[] = [];
    try {
      const first = await startServer(sweepEnv, { dataDir, removeDataDir: false });
      servers.push(first);
      const { created } = await createSweep(first, {
        base: { ...tiny, train: 1500, checkpointEvery: 200 },
        parameters: [{ type: 'grid', path: '/encoder/maxRateHz', values: [64, 96, 128] }],
        successiveHalving: { rungs: [600], keep: 0.34 },
      });
      await waitFor(async () => (await getSweep(first, created.id)).trials.running > 0, { what: 'a running trial' });
      const mid = await getSweep(first, created.id);
      await first.close();
      expect(mid).toMatchObject({ status: 'running', stage: 0 });
      expect(mid.trials.completed).toBeLessThan(3);
      const second = await startServer(sweepEnv, { dataDir, removeDataDir: false });
      servers.push(second);
      const done = await waitSweep(second, created.id, ['completed', 'failed']);
      expect(done.status).toBe('completed');
      expect(done.items.filter((t: any) => t.stage === 0)).toHaveLength(3);
      expect(done.items.filter((t: any) => t.stage === 1)).toHaveLength(2);
      expect(done.trials.stopped).toBe(1);
      expect(done.best.testAccuracy).not.toBeNull();
    } finally {
      for (const s of servers) await s.close().catch(() => {});
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('sweep owners', () => {
  it('stores the principal as owner and hides other owners’ sweeps (404), admins see all', async () => {
    const { buildApp } = await import('../../src/api/app.js');
    const { loadConfig } = await import('../../src/config.js');
    const dataDir = await tempDir('spikelab-sweep-owner-');
    const lab = await buildApp(loadConfig({ DATA_DIR: dataDir, WORKERS: '1', LOG_LEVEL: 'silent', ...sweepEnv }), { dashboardDir: `${dataDir}/none` });
    // Stands in for the API-key principals of the auth layer: x-test-principal: id[,admin]
    lab.app.addHook('onRequest', async (request) => {
      const h = request.headers['x-test-principal'];
      if (typeof h === 'string') (request as any).principal = { id: h.split(',')[0], admin: h.endsWith(',admin') };
    });
    await lab.app.listen({ host: '127.0.0.1', port: 0 });
    const address = lab.app.server.address() as { port: number };
    const url = `http://127.0.0.1:${address.port}`;
    try {
      const as = (who: string) => ({ 'x-test-principal': who });
      const res = await post(
        `${url}/v1/sweeps`,
        { base: tiny, parameters: [{ type: 'grid', path: '/encoder/maxRateHz', values: [64] }] },
        as('alice'),
      );
      const created = await json(res);
      expect(res.status).toBe(201);
      expect(created.owner).toBe('alice');
      expect((await fetch(`${url}/v1/sweeps/${created.id}`, { headers: as('alice') })).status).toBe(200);
      expect((await fetch(`${url}/v1/sweeps/${created.id}`, { headers: as('bob') })).status).toBe(404);
      expect((await fetch(`${url}/v1/sweeps/${created.id}/trials.csv`, { headers: as('bob') })).status).toBe(404);
      expect((await fetch(`${url}/v1/sweeps/${created.id}`, { method: 'DELETE', headers: as('bob') })).status).toBe(404);
      expect((await json(await fetch(`${url}/v1/sweeps`, { headers: as('bob') }))).total).toBe(0);
      expect((await json(await fetch(`${url}/v1/sweeps`, { headers: as('alice') }))).total).toBe(1);
      expect((await fetch(`${url}/v1/sweeps/${created.id}`, { headers: as('root,admin') })).status).toBe(200);
    } finally {
      await lab.app.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('sweep stream limits', () => {
  it('counts sweep streams with the client’s other streams (4429 over MAX_STREAMS_PER_CLIENT)', async () => {
    const s = await startServer({ ...sweepEnv, MAX_STREAMS_PER_CLIENT: '1' });
    try {
      // Long enough to be running while both streams connect.
      const { created } = await createSweep(s, { base: { ...tiny, train: 20000, validation: 1000 }, parameters: [{ type: 'grid', path: '/encoder/maxRateHz', values: [64] }] });
      const first = openStream(`${s.wsUrl}/v1/sweeps/${created.id}/stream`);
      await waitFor(() => texts(first.frames).some((m) => m.type === 'hello'), { what: 'hello' });
      const second = openStream(`${s.wsUrl}/v1/sweeps/${created.id}/stream`);
      expect((await second.closed).code).toBe(4429);
      first.ws.close();
    } finally {
      await s.close();
    }
  });
});
