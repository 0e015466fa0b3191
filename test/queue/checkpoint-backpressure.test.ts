/**
 * Finding 2 of issue 9 (checkpoint storms), against a real server and store: a definition that
 * checkpoints after every sample, with 8 MB states, neither queues its checkpoints behind the
 * store (at most one waits, latest wins, writes at least CHECKPOINT_MIN_INTERVAL_MS apart) nor
 * grows memory, and a cancel does not wait behind a backlog of writes.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { json, post, startServer, waitFor, type TestServer } from '../helpers/server.js';
import { smallNetwork } from '../helpers/small-network.js';

const scripted = new URL('./fixtures/scripted-engine.ts', import.meta.url);
const INTERVAL_MS = 1000;

let server: TestServer;
let writes = 0;
beforeAll(async () => {
  server = await startServer({ WORKERS: '1', CHECKPOINT_MIN_INTERVAL_MS: String(INTERVAL_MS) }, { app: { engineWorkerUrl: scripted } });
  // Count the writes that reach the real store.
  const store = server.lab.store;
  const save = store.saveCheckpoint.bind(store);
  store.saveCheckpoint = async (...args) => {
    writes++;
    return save(...args);
  };
});
afterAll(async () => {
  await server?.close();
});

const storm = smallNetwork({
  name: 'big-checkpoints',
  restBetweenSamplesMs: 10,
  dataset: { train: 60_000, test: 0 },
  stream: { progressEvery: 10 },
  checkpointEvery: 1,
});

it('checkpointing every sample stays bounded in writes and memory, and a cancel acts at once', async () => {
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  let rssMax = rssBefore;
  const sampler = setInterval(() => (rssMax = Math.max(rssMax, process.memoryUsage().rss)), 50);
  const t0 = Date.now();
  const created = await post(`${server.url}/v1/experiments`, storm);
  expect(created.status).toBe(201);
  const id = (await json(created)).id;
  // 200 samples = 200 checkpoints of 8 MB (1.6 GB) emitted.
  await waitFor(async () => ((await json(await fetch(`${server.url}/v1/experiments/${id}`))).progress?.done ?? 0) >= 200, {
    what: '200 samples',
    timeoutMs: 60_000,
  });
  const c0 = Date.now();
  const res = await fetch(`${server.url}/v1/experiments/${id}/cancel`, { method: 'POST' });
  const cancelMs = Date.now() - c0;
  const body = await json(res);
  const elapsed = Date.now() - t0;
  clearInterval(sampler);

  expect(body.status).toBe('cancelled');
  expect(cancelMs).toBeLessThan(1500);
  // One write per interval (the first at once), plus the stop's; never one per sample.
  expect(writes).toBeGreaterThanOrEqual(1);
  expect(writes).toBeLessThanOrEqual(Math.ceil(elapsed / INTERVAL_MS) + 2);
  expect(rssMax - rssBefore).toBeLessThan(400 * 1024 * 1024);
});
