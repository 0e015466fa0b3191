/**
 * A sweep in distributed mode (real Redis and PostgreSQL, compiled processes): 2 API instances
 * (both run a coordinator over the same database) and 2 worker processes. A worker running a
 * trial is SIGKILLed after a checkpoint; BullMQ hands the trial to another worker, which resumes
 * it; successive halving promotes, the sweep completes, and every trial's weights equal an
 * uninterrupted in-process run of its definition.
 */
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runExperiment } from '../../src/experiment/run.js';
import {
  clusterEnv,
  deleteRedisPrefix,
  dropSchema,
  isolation,
  killChildren,
  requireDist,
  servicesAvailable,
  startChild,
  type Child,
} from '../helpers/distributed.js';
import { json, post, tempDir, waitFor } from '../helpers/server.js';

const available = await servicesAvailable();
const isolated = isolation('sweeps');
const { prefix, schema } = isolated;

let dataDir: string;
const env = () => clusterEnv(isolated, dataDir, { SWEEP_TICK_MS: '500' });

let apiA: Child;
let apiB: Child;
const workers: Child[] = [];

const runningOn = (id: string) =>
  workers.find((w) => w.proc.exitCode === null && w.proc.signalCode === null && w.logs.some((l) => l.msg === 'job started' && l.experimentId === id));

describe.skipIf(!available)('distributed sweep: 2 API processes, 2 workers, one killed mid-sweep', () => {
  beforeAll(async () => {
    requireDist('dist/src/server.js', 'dist/workers/worker.js');
    dataDir = await tempDir('spikelab-sweeps-');
    apiA = await startChild('api', env());
    const started = await Promise.all([startChild('api', env()), startChild('worker', env()), startChild('worker', env())]);
    apiB = started[0];
    workers.push(...started.slice(1));
  }, 60_000);

  afterAll(async () => {
    await killChildren('SIGKILL');
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
    if (available) {
      await deleteRedisPrefix(prefix);
      await dropSchema(schema);
    }
  });

  it('completes with each trial bit-identical to an uninterrupted run', async () => {
    const res = await post(`${apiA.url}/v1/sweeps`, {
      name: 'distributed',
      base: { preset: 'diehl-cook-2015', neurons: 20, train: 4000, validation: 200, test: 100, seed: 5, labelUpdateInterval: 250, checkpointEvery: 250 },
      parameters: [{ type: 'grid', path: '/encoder/maxRateHz', values: [64, 96, 128] }],
      successiveHalving: { rungs: [2000], keep: 0.5 },
    });
    const created = await json(res);
    expect(res.status, JSON.stringify(created)).toBe(201);

    // Kill the worker running a first-rung trial once that trial has a checkpoint.
    const victim = await waitFor(
      async () => {
        const sw = await json(await fetch(`${apiB.url}/v1/sweeps/${created.id}`));
        for (const t of sw.items) {
          if (t.status !== 'running') continue;
          const e = await json(await fetch(`${apiB.url}/v1/experiments/${t.experimentId}`));
          if (e.status === 'running' && e.checkpoint && e.checkpoint.samplesDone < 2000) return e;
        }
        return undefined;
      },
      { timeoutMs: 60_000, intervalMs: 10, what: 'a checkpointed running trial' },
    );
    const owner = runningOn(victim.id);
    expect(owner, 'a worker logged the start of the victim').toBeDefined();
    owner!.proc.kill('SIGKILL');
    await owner!.exited;
    workers.push(await startChild('worker', env()));

    const done = await waitFor(
      async () => {
        const sw = await json(await fetch(`${apiB.url}/v1/sweeps/${created.id}`));
        return sw.status !== 'running' ? sw : undefined;
      },
      { timeoutMs: 180_000, intervalMs: 200, what: 'the sweep to end' },
    );
    expect(done.status, done.error).toBe('completed');
    expect(done.items.filter((t: any) => t.stage === 0)).toHaveLength(3);
    expect(done.items.filter((t: any) => t.stage === 1)).toHaveLength(2);
    expect(done.trials).toMatchObject({ total: 5, completed: 5, stopped: 1 });
    expect(done.best.testAccuracy).not.toBeNull();
    // Both coordinators advanced the same sweep: still exactly one row per (stage, point, seed).
    const keys = done.items.map((t: any) => `${t.stage}:${t.point}:${t.seed}`);
    expect(new Set(keys).size).toBe(keys.length);

    const resumed = await json(await fetch(`${apiA.url}/v1/experiments/${victim.id}`));
    expect(resumed.attempts).toBeGreaterThanOrEqual(2);
    expect(resumed.resumedFrom).toBeGreaterThan(0);
    for (const t of done.items) {
      const e = await json(await fetch(`${apiA.url}/v1/experiments/${t.experimentId}`));
      const reference = await runExperiment(e.definition, { emit: () => {} });
      expect(e.result.weightsSha256, `trial ${t.stage}:${t.point}`).toBe(reference.weightsSha256);
    }
  }, 300_000);
});
