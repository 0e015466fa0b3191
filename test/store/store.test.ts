/**
 * The store contract, run against embedded PGlite (a temp directory) and the real PostgreSQL of
 * this machine (a schema of its own per run, dropped afterwards). PostgreSQL tests are skipped
 * only when CI is unset and no server answers; in CI they must run.
 */
import { createHash, randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveDefinition } from '../../src/experiment/presets.js';
import type { ExperimentResult, WindowMetricsEvent } from '../../src/experiment/events.js';
import { openStore } from '../../src/store/open-store.js';
import type { ExperimentStore } from '../../src/store/store.js';
import { PG_URL, postgresReachable } from '../helpers/postgres.js';
import { tempDir } from '../helpers/server.js';

const pgAvailable = await postgresReachable();
if (process.env.CI && !pgAvailable) throw new Error(`CI is set but PostgreSQL at ${PG_URL} is unreachable`);

const definition = resolveDefinition({ preset: 'diehl-cook-2015', neurons: 12, train: 40, test: 10, seed: 3 });

function metrics(samplesSeen: number, accuracy: number | null): WindowMetricsEvent {
  return {
    type: 'metrics',
    phase: 'train',
    epoch: 0,
    samplesSeen,
    accuracy: { allActivity: accuracy, proportionWeighting: accuracy },
    spikesPerSample: { input: 100, excitatory: 3.5 },
    samplesPerSec: 1234.5,
    thetaMean: 0.25,
  };
}

function result(cancelled: boolean): ExperimentResult {
  const confusion = Array.from({ length: 10 }, (_, i) => Array.from({ length: 10 }, (_, j) => (i === j ? 3 : 0)));
  return {
    accuracy: { allActivity: 0.5, proportionWeighting: 0.625 },
    confusion,
    confusionProportion: confusion,
    assignments: Array.from({ length: 12 }, (_, i) => i % 10),
    proportions: Array.from({ length: 120 }, (_, i) => (i % 10) / 10),
    train: { samples: 40, samplesPerSec: 100, seconds: 0.4 },
    test: { samples: 10, samplesPerSec: 200, seconds: 0.05 },
    validation: { samples: 0, accuracy: null },
    spikesPerTestSample: 4.2,
    thetaMean: 0.3,
    weightsSha256: 'abc',
    neurons: 12,
    wallSeconds: 0.5,
    cancelled,
  };
}

const backends: { name: string; available: boolean; open: () => Promise<{ store: ExperimentStore; cleanup: () => Promise<void> }> }[] = [
  {
    name: 'pglite',
    available: true,
    async open() {
      const dir = await tempDir('spikelab-store-');
      const store = await openStore({ dataDir: dir });
      return { store, cleanup: () => rm(dir, { recursive: true, force: true }) };
    },
  },
  {
    name: 'postgres',
    available: pgAvailable,
    async open() {
      const schema = `spikelab_test_${randomBytes(6).toString('hex')}`;
      const store = await openStore({ dataDir: '/nonexistent', databaseUrl: PG_URL, schema });
      return {
        store,
        async cleanup() {
          const client = new pg.Client({ connectionString: PG_URL });
          await client.connect();
          await client.query(`DROP SCHEMA ${schema} CASCADE`);
          await client.end();
        },
      };
    },
  },
];

for (const backend of backends) {
  describe.skipIf(!backend.available)(`store on ${backend.name}`, () => {
    let store: ExperimentStore;
    let cleanup: () => Promise<void>;

    beforeAll(async () => {
      ({ store, cleanup } = await backend.open());
    });
    afterAll(async () => {
      await store?.close();
      await cleanup?.();
    });

    it('reports its kind and answers pings', async () => {
      expect(store.kind).toBe(backend.name);
      await expect(store.ping()).resolves.toBeUndefined();
    });

    it('creates experiments as queued and keeps the definition byte-for-byte (checkpoints hash its JSON)', async () => {
      const created = await store.create({ id: 'a1', definition });
      expect(created).toMatchObject({ id: 'a1', status: 'queued', name: definition.name, attempts: 0, result: null, checkpoint: null });
      const got = await store.get('a1');
      expect(JSON.stringify(got!.definition)).toBe(JSON.stringify(definition));
      expect(await store.get('missing')).toBeNull();
    });

    it('rejects a duplicate id', async () => {
      await expect(store.create({ id: 'a1', definition })).rejects.toThrow();
    });

    it('lists newest first with paging and a status filter', async () => {
      for (const id of ['b1', 'b2', 'b3']) await store.create({ id, definition });
      await store.transition('b2', ['queued'], 'running', { started: true });
      const all = await store.list({ limit: 2, offset: 0 });
      expect(all.total).toBe(4);
      expect(all.items.map((r) => r.id)).toEqual(['b3', 'b2']);
      const next = await store.list({ limit: 2, offset: 2 });
      expect(next.items.map((r) => r.id)).toEqual(['b1', 'a1']);
      const running = await store.list({ status: ['running'], limit: 10, offset: 0 });
      expect(running).toMatchObject({ total: 1, items: [{ id: 'b2', status: 'running', attempts: 1 }] });
      const counts = await store.countByStatus();
      expect(counts).toEqual({ queued: 3, running: 1, completed: 0, failed: 0, cancelled: 0 });
      expect((await store.listUnfinished()).map((r) => r.id)).toEqual(['a1', 'b1', 'b2', 'b3']);
    });

    it('changes status only from the expected statuses (compare-and-set)', async () => {
      expect(await store.transition('b1', ['running'], 'failed')).toBeNull();
      const started = await store.transition('b1', ['queued'], 'running', { started: true, resumedFrom: 20 });
      expect(started).toMatchObject({ status: 'running', resumedFrom: 20, attempts: 1 });
      expect(started!.startedAt).not.toBeNull();
      const failed = await store.transition('b1', ['queued', 'running'], 'failed', { error: 'boom', finished: true });
      expect(failed).toMatchObject({ status: 'failed', error: 'boom' });
      expect(failed!.finishedAt).not.toBeNull();
      expect(await store.transition('b1', ['queued', 'running'], 'cancelled')).toBeNull();
    });

    it('stores progress and metrics, idempotent per window (a resumed run re-emits windows)', async () => {
      await store.saveProgress('b2', { phase: 'train', epoch: 0, done: 20, total: 40, samplesPerSec: 10, etaSec: 2 });
      expect((await store.get('b2'))!.progress).toMatchObject({ done: 20, total: 40 });
      await store.appendMetrics('b2', [metrics(20, null)]);
      await store.appendMetrics('b2', [metrics(40, 0.5), metrics(60, 0.25)]);
      await store.appendMetrics('b2', [metrics(20, null), metrics(60, 0.75), metrics(60, 0.5)]);
      await store.appendMetrics('b2', []);
      const history = await store.listMetrics('b2');
      expect(history.map((m) => m.samplesSeen)).toEqual([20, 40, 60]);
      expect(history[1]).toEqual(metrics(40, 0.5));
      // The last of a window wins, also within one batch.
      expect(history[2]).toEqual(metrics(60, 0.5));
    });

    it('stores a batch of windows larger than one statement takes', async () => {
      const windows = Array.from({ length: 2500 }, (_, i) => metrics(i + 1, i / 2500));
      await store.appendMetrics('b3', windows);
      const history = await store.listMetrics('b3');
      expect(history).toHaveLength(2500);
      expect(history[2499]).toEqual(windows[2499]);
    });

    it('keeps only the latest checkpoint, bytes intact', async () => {
      const first = randomBytes(1000);
      const second = randomBytes(3000);
      await store.saveCheckpoint('b2', 10, first);
      await store.saveCheckpoint('b2', 20, second);
      const cp = await store.loadCheckpoint('b2');
      expect(cp!.samplesDone).toBe(20);
      expect(Buffer.from(cp!.state).equals(second)).toBe(true);
      expect((await store.get('b2'))!.checkpoint).toMatchObject({ samplesDone: 20 });
      expect(await store.loadCheckpoint('b3')).toBeNull();
    });

    it('finishes a running experiment with its result and bit-exact float32 arrays', async () => {
      const weights = Float32Array.from({ length: 784 * 12 }, (_, i) => Math.fround(Math.sin(i) * 0.3));
      const theta = Float32Array.from({ length: 12 }, (_, i) => i / 7);
      expect(await store.finish('b3', { status: 'completed', result: result(false), weights, weightsShape: [784, 12], theta })).toBeNull();
      const done = await store.finish('b2', { status: 'completed', result: result(false), weights, weightsShape: [784, 12], theta });
      expect(done).toMatchObject({ status: 'completed', result: result(false) });
      const artifacts = await store.loadArtifacts('b2');
      expect(artifacts!.weightsShape).toEqual([784, 12]);
      const sha = (a: Float32Array) => createHash('sha256').update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)).digest('hex');
      expect(sha(artifacts!.weights)).toBe(sha(weights));
      expect(Array.from(artifacts!.theta!)).toEqual(Array.from(theta));
      expect(await store.loadCheckpoint('b2')).toBeNull();
      expect(await store.loadArtifacts('b3')).toBeNull();
    });

    it('keeps partial results of a cancelled run even without theta', async () => {
      await store.transition('b3', ['queued'], 'running', { started: true });
      const weights = new Float32Array(784 * 12).fill(0.125);
      const rec = await store.finish('b3', { status: 'cancelled', result: result(true), weights, weightsShape: [784, 12], theta: null });
      expect(rec).toMatchObject({ status: 'cancelled', result: { cancelled: true } });
      const artifacts = await store.loadArtifacts('b3');
      expect(artifacts!.theta).toBeNull();
      expect(artifacts!.weights[100]).toBe(0.125);
    });

    it('deletes an experiment with all its data', async () => {
      expect(await store.delete('b2')).toBe(true);
      expect(await store.delete('b2')).toBe(false);
      expect(await store.get('b2')).toBeNull();
      expect(await store.listMetrics('b2')).toEqual([]);
      expect(await store.loadArtifacts('b2')).toBeNull();
      expect((await store.list({ limit: 10, offset: 0 })).total).toBe(3);
    });

    it('keeps the owner and cost of an experiment, filters lists by owner, and counts usage even after deletes', async () => {
      await store.create({ id: 'o1', definition, owner: 'alice', cost: 1.5e9 });
      await store.create({ id: 'o2', definition, owner: 'alice', cost: 2.5e9 });
      await store.create({ id: 'o3', definition, owner: 'bob', cost: 7e9 });
      expect(await store.get('o1')).toMatchObject({ owner: 'alice', cost: 1.5e9 });
      expect(await store.get('b1')).toMatchObject({ owner: null, cost: null });
      await store.transition('o2', ['queued'], 'running', { started: true });
      const alices = await store.list({ limit: 10, offset: 0, owner: 'alice' });
      expect(alices.items.map((r) => r.id)).toEqual(['o2', 'o1']);
      expect(alices.total).toBe(2);
      expect(await store.usage('alice')).toEqual({ queued: 1, running: 1, costLastDay: 4e9 });
      // Deleting does not give the cost back (the quota is on what was submitted).
      await store.delete('o1');
      expect(await store.usage('alice')).toEqual({ queued: 0, running: 1, costLastDay: 4e9 });
      expect(await store.usage('nobody')).toEqual({ queued: 0, running: 0, costLastDay: 0 });
    });
  });
}
