/**
 * Labelling windows are stored in batches (one statement for many windows), yet never after a
 * checkpoint that has seen them: a run resumed from a stored checkpoint must find every window up
 * to it stored. Against a real server, engine and store; the store's two methods are wrapped to
 * see the order of the writes.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { WindowMetricsEvent } from '../../src/experiment/events.js';
import { json, post, startServer, waitFor, type TestServer } from '../helpers/server.js';
import { smallNetwork } from '../helpers/small-network.js';

let server: TestServer;
/** Every store write of the run, in the order the store received them. */
const writes: ({ kind: 'windows'; samples: number[] } | { kind: 'checkpoint'; samplesDone: number })[] = [];

beforeAll(async () => {
  server = await startServer({ WORKERS: '1' });
  const store = server.lab.store;
  const append = store.appendMetrics.bind(store);
  store.appendMetrics = async (id: string, windows: WindowMetricsEvent[]) => {
    writes.push({ kind: 'windows', samples: windows.map((w) => w.samplesSeen) });
    return append(id, windows);
  };
  const save = store.saveCheckpoint.bind(store);
  store.saveCheckpoint = async (id, samplesDone, state) => {
    writes.push({ kind: 'checkpoint', samplesDone });
    return save(id, samplesDone, state);
  };
});
afterAll(async () => {
  await server?.close();
});

it('stores windows in batches, each before any checkpoint that has seen it, and loses none', async () => {
  const res = await post(
    `${server.url}/v1/experiments`,
    smallNetwork({
      name: 'windows',
      dataset: { train: 3000, test: 0 },
      evaluation: { labelUpdateInterval: 20 },
      checkpointEvery: 250,
      stream: { spikesEvery: 0, weightsEvery: 0 },
    }),
  );
  expect(res.status).toBe(201);
  const { id } = await json(res);
  await waitFor(async () => (await json(await fetch(`${server.url}/v1/experiments/${id}`))).status === 'completed', {
    what: 'the run to complete',
    timeoutMs: 60_000,
  });

  const stored = (await json(await fetch(`${server.url}/v1/experiments/${id}/metrics`))) as { samplesSeen: number }[] | { items: { samplesSeen: number }[] };
  const history = Array.isArray(stored) ? stored : stored.items;
  // 3,000 samples in windows of 20: 150 windows, every one stored once.
  expect(history.map((w) => w.samplesSeen)).toEqual(Array.from({ length: 150 }, (_, i) => 20 * (i + 1)));

  const windowWrites = writes.filter((w) => w.kind === 'windows');
  expect(windowWrites.flatMap((w) => (w.kind === 'windows' ? w.samples : []))).toHaveLength(150);
  // Batched: far fewer statements than windows (the run takes well under a second per batch interval).
  expect(windowWrites.length).toBeLessThan(150 / 4);

  const checkpoints = writes.filter((w) => w.kind === 'checkpoint');
  expect(checkpoints.length).toBeGreaterThan(0);
  for (const [at, w] of writes.entries()) {
    if (w.kind !== 'checkpoint') continue;
    const before = new Set(writes.slice(0, at).flatMap((x) => (x.kind === 'windows' ? x.samples : [])));
    for (let s = 20; s <= w.samplesDone; s += 20) expect(before.has(s), `window ${s} stored before the checkpoint at ${w.samplesDone}`).toBe(true);
  }
});
