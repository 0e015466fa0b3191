/**
 * Findings 1 and 5 of issue 9, against a real server and the real engine: time-like fields are
 * bounded, a definition over the cost cap is refused with its estimate and the cap, and a cancel
 * or delete is observed within about a second even while the engine is inside one very long
 * sample — and the thread is free for the next job.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectDocumented } from '../helpers/openapi.js';
import { json, post, startServer, waitFor, type TestServer } from '../helpers/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ WORKERS: '1', MAX_NEURONS: '6400' });
});
afterAll(async () => {
  await server?.close();
});

const small = { preset: 'diehl-cook-2015', neurons: 10, train: 20, test: 10 };
/**
 * One sample of this runs for seconds inside the engine: 200,000 simulated rest steps of a
 * 3,000-neuron network with its state carried over, in one kernel call that never looks at the
 * stop flag.
 */
const longSample = {
  preset: 'diehl-cook-2015-original',
  neurons: 3000,
  train: 5,
  test: 0,
  labelSamples: 1,
  representBelowSpikes: 0,
  timePerSampleMs: 1,
  dtMs: 0.05,
  restBetweenSamplesMs: 10_000,
};

const get = async (id: string) => json(await fetch(`${server.url}/v1/experiments/${id}`));
const total = async () => (await json(await fetch(`${server.url}/v1/experiments`))).total as number;

describe('cost model and bounds', () => {
  it('refuses an astronomically long rest (and every unbounded time) and changes nothing', async () => {
    const before = await total();
    for (const [field, body] of [
      ['restBetweenSamplesMs', { ...small, restBetweenSamplesMs: 1e15 }],
      ['dtMs', { ...small, dtMs: 1e-9 }],
      ['timePerSampleMs', { ...small, timePerSampleMs: 1e9 }],
    ] as const) {
      const res = await post(`${server.url}/v1/experiments`, body);
      const b = await json(res);
      expect(res.status, field).toBe(400);
      expect(b).toMatchObject({ statusCode: 400, code: 'validation_error', field });
      await expectDocumented('POST', '/v1/experiments', res, b);
    }
    expect(await total()).toBe(before);
  });

  it('refuses a maximal definition with a limit_exceeded stating the estimate and the cap', async () => {
    const before = await total();
    const maximal = { preset: 'diehl-cook-2015', neurons: 6400, epochs: 10, timePerSampleMs: 1000, dtMs: 0.1, representBelowSpikes: 5 };
    const res = await post(`${server.url}/v1/experiments`, maximal);
    const body = await json(res);
    expect(res.status).toBe(400);
    expect(body.code).toBe('limit_exceeded');
    expect(body.message).toMatch(/estimated cost \d\.\d\de\+\d+ .*neuron-steps.* over the limit MAX_EXPERIMENT_COST = 5\.00e\+12/);
    await expectDocumented('POST', '/v1/experiments', res, body);
    expect(await total()).toBe(before);
  });
});

describe('cancel and delete inside a long sample', () => {
  async function startLong(): Promise<string> {
    const res = await post(`${server.url}/v1/experiments`, longSample);
    expect(res.status).toBe(201);
    const id = (await json(res)).id as string;
    await waitFor(async () => (await get(id)).status === 'running', { what: 'running' });
    // Well inside the first sample (which alone takes many seconds).
    await new Promise((r) => setTimeout(r, 500));
    return id;
  }

  it('a cancel is observed within about a second and the thread runs the next job', async () => {
    const id = await startLong();
    const t0 = Date.now();
    const res = await fetch(`${server.url}/v1/experiments/${id}/cancel`, { method: 'POST' });
    const body = await json(res);
    const elapsed = Date.now() - t0;
    expect(res.status).toBe(200);
    expect(body.status).toBe('cancelled');
    expect(elapsed).toBeLessThan(1500);
    await expectDocumented('POST', '/v1/experiments/{id}/cancel', res, body);

    const next = (await json(await post(`${server.url}/v1/experiments`, small))).id;
    const done = await waitFor(async () => ((await get(next)).status === 'completed' ? true : undefined), { timeoutMs: 20_000, what: 'next job' });
    expect(done).toBe(true);
  });

  it('a delete frees the thread: the next job starts at once', async () => {
    const id = await startLong();
    expect((await fetch(`${server.url}/v1/experiments/${id}`, { method: 'DELETE' })).status).toBe(204);
    const t0 = Date.now();
    const next = (await json(await post(`${server.url}/v1/experiments`, small))).id;
    await waitFor(async () => ((await get(next)).status !== 'queued' ? true : undefined), { timeoutMs: 20_000, what: 'next job start' });
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(server.lab.runner.stats()).toMatchObject({ workers: 1 });
  });
});

describe('after a restart', () => {
  it('an unfinished experiment over the limits fails instead of occupying the engine again', async () => {
    const { resolveDefinition } = await import('../../src/experiment/presets.js');
    const dataDir = server.dataDir;
    const other = await startServer({ WORKERS: '1' }, { dataDir: `${dataDir}-restart`, removeDataDir: false });
    // Accepted by an older server without bounds: written straight to the store.
    const definition = { ...resolveDefinition(small), restBetweenSamplesMs: 1e15 };
    await other.lab.store.create({ id: 'legacy-unbounded', definition });
    await other.close();
    const again = await startServer({ WORKERS: '1' }, { dataDir: `${dataDir}-restart`, removeDataDir: true });
    try {
      const record = await again.lab.store.get('legacy-unbounded');
      expect(record?.status).toBe('failed');
      expect(record?.error).toMatch(/not resumed: .*limit/);
      expect(again.lab.runner.stats()).toMatchObject({ running: 0, queued: 0 });
    } finally {
      await again.close();
    }
  });
});
