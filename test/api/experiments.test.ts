/**
 * The experiment lifecycle over real HTTP against a real listening server and the real engine:
 * submit, watch, results in every format, classify, cancel, delete.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeNpyFloat32 } from '../../src/io/npy.js';
import { loadMnist } from '../../src/io/mnist.js';
import { expectDocumented } from '../helpers/openapi.js';
import { json, post, startServer, waitFor, type TestServer } from '../helpers/server.js';
import { openStream, texts } from '../helpers/ws.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.close();
});

const small = { preset: 'diehl-cook-2015', neurons: 20, train: 300, test: 100, seed: 11, labelUpdateInterval: 100 };

async function submit(body: object) {
  const res = await post(`${server.url}/v1/experiments`, body);
  const created = await json(res);
  await expectDocumented('POST', '/v1/experiments', res, created);
  expect(res.status).toBe(201);
  return created;
}

async function get(id: string) {
  const res = await fetch(`${server.url}/v1/experiments/${id}`);
  const body = await json(res);
  await expectDocumented('GET', '/v1/experiments/{id}', res, body);
  return body;
}

const waitStatus = (id: string, statuses: string[]) =>
  waitFor(async () => {
    const e = await get(id);
    return statuses.includes(e.status) ? e : undefined;
  }, { what: `status ${statuses.join('|')}` });

describe('experiments API', () => {
  let id: string;

  it('lists presets with their expanded definitions', async () => {
    const res = await fetch(`${server.url}/v1/presets`);
    const body = await json(res);
    await expectDocumented('GET', '/v1/presets', res, body);
    expect(body.items[0]).toMatchObject({ name: 'diehl-cook-2015', definition: { layers: expect.any(Array) } });
  });

  it('runs a preset experiment to completion and reports it', async () => {
    const created = await submit(small);
    id = created.id;
    expect(created).toMatchObject({ status: 'queued', definition: { dataset: { train: 300, test: 100 } } });
    const stream = openStream(`${server.wsUrl}/v1/experiments/${id}/stream`);
    const done = await waitStatus(id, ['completed', 'failed']);
    expect(done.status).toBe('completed');
    expect(done.result).toMatchObject({ neurons: 20, cancelled: false, train: { samples: 300 }, test: { samples: 100 } });
    expect(done.accuracy).toEqual(done.result.accuracy);
    expect(done.startedAt).not.toBeNull();
    expect(done.finishedAt).not.toBeNull();
    expect(done.attempts).toBe(1);
    const closed = await stream.closed;
    expect(closed.code).toBe(1000);
    expect(texts(stream.frames).at(-1)).toMatchObject({ type: 'end', status: 'completed' });
  });

  it('lists it, filters by status and pages', async () => {
    const res = await fetch(`${server.url}/v1/experiments?status=completed,failed&limit=1`);
    const body = await json(res);
    await expectDocumented('GET', '/v1/experiments', res, body);
    expect(body).toMatchObject({ total: 1, limit: 1, offset: 0, items: [{ id, status: 'completed' }] });
    const none = await json(await fetch(`${server.url}/v1/experiments?status=running`));
    expect(none.total).toBe(0);
  });

  it('serves the metrics history of every labelling window', async () => {
    const res = await fetch(`${server.url}/v1/experiments/${id}/metrics`);
    const body = await json(res);
    await expectDocumented('GET', '/v1/experiments/{id}/metrics', res, body);
    expect(body.items.map((m: { samplesSeen: number }) => m.samplesSeen)).toEqual([100, 200, 300]);
  });

  it('serves the weights as .npy float32 784×N matching the result hash, as JSON and as PNG', async () => {
    const detail = await get(id);
    const res = await fetch(`${server.url}/v1/experiments/${id}/weights?format=npy`);
    await expectDocumented('GET', '/v1/experiments/{id}/weights', res);
    expect(res.headers.get('content-disposition')).toContain('.npy');
    const npy = decodeNpyFloat32(new Uint8Array(await res.arrayBuffer()));
    expect(npy.shape).toEqual([784, 20]);
    const sha = createHash('sha256').update(new Uint8Array(npy.data.buffer, npy.data.byteOffset, npy.data.byteLength)).digest('hex');
    expect(sha).toBe(detail.result.weightsSha256);

    const jsonRes = await fetch(`${server.url}/v1/experiments/${id}/weights?format=json`);
    const body = await json(jsonRes);
    await expectDocumented('GET', '/v1/experiments/{id}/weights', jsonRes, body);
    expect(body.shape).toEqual([784, 20]);
    expect(Float32Array.from(body.data)).toEqual(npy.data);

    const png = await fetch(`${server.url}/v1/experiments/${id}/weights?format=png`);
    await expectDocumented('GET', '/v1/experiments/{id}/weights', png);
    const bytes = new Uint8Array(await png.arrayBuffer());
    expect(Array.from(bytes.subarray(0, 8))).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  });

  it('serves the confusion matrices, consistent with the accuracy', async () => {
    const res = await fetch(`${server.url}/v1/experiments/${id}/confusion`);
    const body = await json(res);
    await expectDocumented('GET', '/v1/experiments/{id}/confusion', res, body);
    const total = body.allActivity.flat().reduce((a: number, b: number) => a + b, 0);
    const correct = body.allActivity.reduce((a: number, row: number[], i: number) => a + row[i]!, 0);
    expect(total).toBe(100);
    expect(correct / total).toBeCloseTo(body.accuracy.allActivity, 10);
  });

  it('classifies images given flat or as 28 rows, better than chance on test images', async () => {
    const mnist = loadMnist();
    const images: number[][] = [];
    const labels: number[] = [];
    for (let k = 0; k < 20; k++) {
      images.push(Array.from(mnist.test.images.subarray(k * 784, (k + 1) * 784)));
      labels.push(mnist.test.labels[k]!);
    }
    const res = await post(`${server.url}/v1/experiments/${id}/classify`, { images });
    const body = await json(res);
    await expectDocumented('POST', '/v1/experiments/{id}/classify', res, body);
    expect(body.predictions).toHaveLength(20);
    // Encoding is stochastic with a fixed seed per request: the same single image in both
    // layouts gets the same answer.
    const rows = Array.from({ length: 28 }, (_, r) => images[0]!.slice(r * 28, r * 28 + 28));
    const flatOne = await json(await post(`${server.url}/v1/experiments/${id}/classify`, { images: [images[0]] }));
    const rowsOne = await json(await post(`${server.url}/v1/experiments/${id}/classify`, { images: [rows] }));
    expect(rowsOne.predictions).toEqual(flatOne.predictions);
    const correct = body.predictions.slice(0, 20).filter((p: { label: number }, i: number) => p.label === labels[i]).length;
    expect(correct).toBeGreaterThan(4);
  });

  it('cancels a queued experiment at once and a running one within about a sample, keeping partial results', async () => {
    const long = await submit({ ...small, train: 50_000, test: 0, stream: { progressEvery: 10 } });
    const queued = await submit(small);
    // One worker: the second waits; cancelling it never starts it.
    const cancelQueued = await post(`${server.url}/v1/experiments/${queued.id}/cancel`, '');
    const cq = await json(cancelQueued);
    await expectDocumented('POST', '/v1/experiments/{id}/cancel', cancelQueued, cq);
    expect(cq).toMatchObject({ status: 'cancelled', startedAt: null, result: null });

    await waitFor(async () => (await get(long.id)).progress?.done >= 100, { what: 'training progress' });
    const t0 = performance.now();
    const res = await fetch(`${server.url}/v1/experiments/${long.id}/cancel`, { method: 'POST' });
    const latencyMs = performance.now() - t0;
    const body = await json(res);
    await expectDocumented('POST', '/v1/experiments/{id}/cancel', res, body);
    expect(body.status).toBe('cancelled');
    expect(body.result.cancelled).toBe(true);
    expect(body.result.train.samples).toBeGreaterThanOrEqual(100);
    expect(body.result.train.samples).toBeLessThan(50_000);
    // The engine checks the flag between samples and yields every ~50 ms.
    expect(latencyMs).toBeLessThan(1000);
    const weights = await fetch(`${server.url}/v1/experiments/${long.id}/weights`);
    expect(weights.status).toBe(200);

    const again = await fetch(`${server.url}/v1/experiments/${long.id}/cancel`, { method: 'POST' });
    const err = await json(again);
    await expectDocumented('POST', '/v1/experiments/{id}/cancel', again, err);
    expect(again.status).toBe(409);
    expect(err.code).toBe('conflict');
  });

  it('deletes an experiment and everything about it', async () => {
    const before = (await json(await fetch(`${server.url}/v1/experiments`))).total;
    const res = await fetch(`${server.url}/v1/experiments/${id}`, { method: 'DELETE' });
    await expectDocumented('DELETE', '/v1/experiments/{id}', res);
    expect(res.status).toBe(204);
    expect((await fetch(`${server.url}/v1/experiments/${id}`)).status).toBe(404);
    expect((await fetch(`${server.url}/v1/experiments/${id}/weights`)).status).toBe(404);
    expect((await json(await fetch(`${server.url}/v1/experiments`))).total).toBe(before - 1);
  });

  it('deletes a running experiment, stopping it and closing its streams', async () => {
    const running = await submit({ ...small, train: 50_000, test: 0 });
    await waitStatus(running.id, ['running']);
    const stream = openStream(`${server.wsUrl}/v1/experiments/${running.id}/stream`);
    await waitFor(() => stream.frames.length > 0, { what: 'hello' });
    expect((await fetch(`${server.url}/v1/experiments/${running.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await stream.closed).code).toBe(4410);
    await waitFor(() => server.lab.runner.stats().running === 0, { what: 'job stopped' });
    expect((await fetch(`${server.url}/v1/experiments/${running.id}`)).status).toBe(404);
  });

  it('reports health and Prometheus metrics', async () => {
    const res = await fetch(`${server.url}/health`);
    const body = await json(res);
    await expectDocumented('GET', '/health', res, body);
    expect(body).toMatchObject({ status: 'ok', store: { ok: true, kind: 'pglite' }, queue: { ok: true, kind: 'embedded', workers: 1 } });
    const metrics = await fetch(`${server.url}/metrics`);
    await expectDocumented('GET', '/metrics', metrics);
    const text = await metrics.text();
    expect(text).toMatch(/^spikelab_experiments\{status="cancelled"\} 2$/m);
    expect(text).toMatch(/^spikelab_ws_frames_dropped_total\{channel="weights"\} \d+$/m);
    expect(text).toMatch(/^spikelab_ws_clients 0$/m);
  });

  it('serves openapi.yaml and a landing page', async () => {
    const spec = await fetch(`${server.url}/openapi.yaml`);
    await expectDocumented('GET', '/openapi.yaml', spec);
    expect(await spec.text()).toContain('openapi: 3.1.0');
    const root = await fetch(`${server.url}/`);
    await expectDocumented('GET', '/', root);
    expect(await root.text()).toContain('/openapi.yaml');
  });
});
