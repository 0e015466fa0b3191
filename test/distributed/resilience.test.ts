/**
 * Distributed mode when things go wrong, with the real Redis and PostgreSQL of this machine:
 * - Redis or PostgreSQL unreachable at start ⇒ API and worker processes exit non-zero with a
 *   clear message (and a missing DATABASE_URL is named);
 * - Redis lost while running ⇒ /health is unhealthy (503) meanwhile; it reconnects and is healthy
 *   again (through a TCP proxy the test cuts and restores);
 * - a job whose engine keeps failing is retried with backoff, then ends failed with its error.
 */
import net from 'node:net';
import { rm } from 'node:fs/promises';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { DistributedWorker } from '../../src/queue/distributed-worker.js';
import { openStore } from '../../src/store/open-store.js';
import type { ExperimentStore } from '../../src/store/store.js';
import { deleteRedisPrefix, dropSchema, isolation, PG_URL, REDIS_URL, runToExit, servicesAvailable } from '../helpers/distributed.js';
import { json, post, startServer, tempDir, waitFor, type TestServer } from '../helpers/server.js';

const available = await servicesAvailable();
const { prefix, schema } = isolation('resilience');
const silent = pino({ level: 'silent' });

describe('start-up failures are fast and clear', () => {
  const unreachableRedis = 'redis://127.0.0.1:1';
  const unreachablePg = 'postgres://postgres:secret@127.0.0.1:1/test';

  it.skipIf(!available)('API: Redis unreachable', async () => {
    const r = await runToExit('dist/src/server.js', { REDIS_URL: unreachableRedis, DATABASE_URL: PG_URL, DATABASE_SCHEMA: schema, PORT: '0' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/SpikeLab failed to start: Redis at redis:\/\/127\.0\.0\.1:1\/? is unreachable: .*ECONNREFUSED/);
    expect(r.ms).toBeLessThan(15_000);
  });

  it('API: PostgreSQL unreachable (the password is not printed)', async () => {
    const r = await runToExit('dist/src/server.js', { REDIS_URL, DATABASE_URL: unreachablePg, PORT: '0' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/SpikeLab failed to start: PostgreSQL at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/test is unreachable: .*ECONNREFUSED/);
    expect(r.stderr).not.toContain('secret');
  });

  it('API: REDIS_URL without DATABASE_URL', async () => {
    const r = await runToExit('dist/src/server.js', { REDIS_URL, PORT: '0' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/REDIS_URL is set \(distributed mode\) but DATABASE_URL is not/);
  });

  it.skipIf(!available)('worker: Redis unreachable', async () => {
    const r = await runToExit('dist/workers/worker.js', { REDIS_URL: unreachableRedis, DATABASE_URL: PG_URL, DATABASE_SCHEMA: schema });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/SpikeLab worker failed to start: Redis at redis:\/\/127\.0\.0\.1:1\/? is unreachable/);
  });

  it('worker: PostgreSQL unreachable; missing settings', async () => {
    const r = await runToExit('dist/workers/worker.js', { REDIS_URL, DATABASE_URL: unreachablePg });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/SpikeLab worker failed to start: PostgreSQL at .* is unreachable/);
    const noDb = await runToExit('dist/workers/worker.js', { REDIS_URL });
    expect(noDb.code).toBe(2);
    expect(noDb.stderr).toMatch(/DATABASE_URL is not set/);
    const noRedis = await runToExit('dist/workers/worker.js', { DATABASE_URL: PG_URL });
    expect(noRedis.code).toBe(2);
    expect(noRedis.stderr).toMatch(/REDIS_URL is not set/);
  });
});

/** A TCP proxy to Redis that the test can cut (Redis "down") and restore. */
class CuttableProxy {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  async up(): Promise<void> {
    const server = net.createServer((client) => {
      const upstream = net.connect(new URL(REDIS_URL).port ? Number(new URL(REDIS_URL).port) : 6379, new URL(REDIS_URL).hostname);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {});
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as net.AddressInfo).port;
    this.server = server;
  }

  async down(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

describe.skipIf(!available)('running with Redis and PostgreSQL', () => {
  let dataDir: string;
  const proxy = new CuttableProxy();
  let api: TestServer | undefined;
  let worker: DistributedWorker | undefined;
  let workerStore: ExperimentStore | undefined;

  beforeAll(async () => {
    dataDir = await tempDir('spikelab-resilience-');
    await proxy.up();
  });
  afterAll(async () => {
    await worker?.close(5000).catch(() => {});
    await workerStore?.close().catch(() => {});
    await api?.close().catch(() => {});
    await proxy.down();
    await rm(dataDir, { recursive: true, force: true });
    await deleteRedisPrefix(prefix);
    await dropSchema(schema);
  });

  const env = (redisUrl: string) => ({
    REDIS_URL: redisUrl,
    DATABASE_URL: PG_URL,
    DATABASE_SCHEMA: schema,
    BULLMQ_PREFIX: prefix,
    JOB_ATTEMPTS: '2',
    JOB_BACKOFF_MS: '200',
    JOB_LOCK_DURATION_MS: '2000',
    JOB_STALLED_INTERVAL_MS: '1000',
    WORKER_HEARTBEAT_MS: '500',
  });

  it('reports unhealthy while Redis is unreachable, and recovers when it is back', async () => {
    api = await startServer(env(`redis://127.0.0.1:${proxy.port}`), { dataDir, removeDataDir: false });
    const ok = await fetch(`${api.url}/health`);
    expect(ok.status).toBe(200);
    expect(await json(ok)).toMatchObject({ status: 'ok', queue: { ok: true, kind: 'bullmq' } });

    await proxy.down();
    const down = await waitFor(
      async () => {
        const res = await fetch(`${api!.url}/health`);
        return res.status === 503 ? json(res) : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 100, what: 'unhealthy /health' },
    );
    expect(down).toMatchObject({ status: 'unavailable', store: { ok: true }, queue: { ok: false, kind: 'bullmq' } });
    expect(down.queue.error).toMatch(/Redis|ping/);
    // Reads that need only the database still work meanwhile.
    expect((await fetch(`${api.url}/v1/experiments`)).status).toBe(200);

    await proxy.up();
    await waitFor(async () => (await fetch(`${api!.url}/health`)).status === 200, { timeoutMs: 15_000, intervalMs: 100, what: 'healthy again' });
  }, 40_000);

  it('retries a failing job with backoff, then ends it failed with the error (not retried forever)', async () => {
    const config = loadConfig({ ...env(REDIS_URL), DATA_DIR: dataDir, MNIST_DIR: '/nonexistent/mnist' });
    workerStore = await openStore({ databaseUrl: PG_URL, dataDir, schema });
    worker = new DistributedWorker({ redisUrl: REDIS_URL, queue: config.queue, store: workerStore, log: silent, mnistDir: config.mnistDir });
    await worker.start();

    const res = await post(`${api!.url}/v1/experiments`, { preset: 'diehl-cook-2015', neurons: 10, train: 100, test: 10 });
    expect(res.status).toBe(201);
    const { id } = await json(res);
    const failed = await waitFor(
      async () => {
        const e = await json(await fetch(`${api!.url}/v1/experiments/${id}`));
        return e.status === 'failed' ? e : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 50, what: 'the job to fail' },
    );
    expect(failed.error).toMatch(/nonexistent/);
    expect(failed.attempts).toBe(2);
    // Queue counts are read from Redis when /metrics is scraped; the failed job may take a moment to be counted there.
    const metrics = await waitFor(
      async () => {
        const text = await (await fetch(`${api!.url}/metrics`)).text();
        return /^spikelab_queue_jobs\{state="failed"\} 1$/m.test(text) ? text : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 100, what: 'the failed job in the queue metrics' },
    );
    expect(metrics).toMatch(/^spikelab_jobs_retried_total 1$/m);
    expect(metrics).toMatch(/^spikelab_queue_jobs\{state="failed"\} 1$/m);
    expect(metrics).toMatch(/^spikelab_experiments\{status="failed"\} 1$/m);
    // And it stays failed: the reconcile does not bring it back.
    await new Promise((r) => setTimeout(r, 1500));
    expect((await json(await fetch(`${api!.url}/v1/experiments/${id}`))).status).toBe('failed');
  }, 40_000);
});
