/**
 * `npm run worker`: a SpikeLab worker process of distributed mode. It takes experiments from the
 * BullMQ queue on REDIS_URL, trains them on WORKER_CONCURRENCY engine threads and stores
 * checkpoints and results in the PostgreSQL database of DATABASE_URL (see docs/distributed.md).
 *
 * Exits 2 on a configuration error, 1 when Redis or PostgreSQL is unreachable at start.
 * SIGTERM/SIGINT: stop taking jobs, stop running ones at a sample boundary, hand them back to the
 * queue (another worker resumes them from their last checkpoint), close connections — within
 * SHUTDOWN_TIMEOUT_MS.
 */
import { pino } from 'pino';
import { ConfigError, loadConfig } from '../src/config.js';
import { DistributedWorker } from '../src/queue/distributed-worker.js';
import path from 'node:path';
import { PgDatasetBlobs, removeStaleTemps } from '../src/data/blobs.js';
import { openStore } from '../src/store/open-store.js';
import { SqlExperimentStore } from '../src/store/sql-store.js';

async function main() {
  let config;
  try {
    config = loadConfig();
    if (!config.redisUrl) throw new ConfigError('REDIS_URL is not set: a worker takes its jobs from Redis (e.g. REDIS_URL=redis://127.0.0.1:6379)');
    if (!config.databaseUrl) {
      throw new ConfigError(
        'DATABASE_URL is not set: a worker stores checkpoints and results in the PostgreSQL database the API instances share',
      );
    }
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`SpikeLab worker: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  const log = pino({ level: config.logLevel, base: { role: 'worker', pid: process.pid } });
  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, schema: config.databaseSchema });
  // Uploaded datasets live in PostgreSQL; this worker keeps a copy of each it runs, by hash.
  const datasets = store instanceof SqlExperimentStore
    ? new PgDatasetBlobs(store.sql.client, store.sql.schema, path.join(config.dataDir, 'dataset-cache'), config.datasets.cacheBytes)
    : undefined;
  await datasets?.init();
  if (datasets) await removeStaleTemps(datasets.localRoot);
  const worker = new DistributedWorker({
    redisUrl: config.redisUrl,
    queue: config.queue,
    store,
    log,
    mnistDir: config.mnistDir,
    datasets,
    cancelGraceMs: config.protection.cancelGraceMs,
    checkpointMinIntervalMs: config.protection.checkpointMinIntervalMs,
    engineThreads: config.engineThreads,
  });
  try {
    await worker.start();
  } catch (err) {
    await store.close().catch(() => {});
    throw err;
  }

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const hardStop = setTimeout(() => {
      log.error('shutdown timed out; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs + 5000);
    hardStop.unref();
    worker
      .close(config.shutdownTimeoutMs)
      .then(() => store.close())
      .then(
        () => {
          log.info('stopped');
          process.exit(0);
        },
        (err: unknown) => {
          log.error({ err }, 'error while shutting down');
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled promise rejection'));
}

main().catch((err: unknown) => {
  console.error('SpikeLab worker failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
