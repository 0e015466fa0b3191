/**
 * `node dist/workers/healthcheck.js`: exit 0 if a worker process on this host (container) has
 * published a fresh heartbeat to Redis, 1 otherwise. The worker image's HEALTHCHECK and
 * docker-compose use it, since a worker has no HTTP port.
 */
import { hostname } from 'node:os';
import { Redis } from 'ioredis';
import { loadConfig } from '../src/config.js';
import { liveWorkers } from '../src/queue/bullmq-runner.js';
import { redisOptionsFromUrl, spikelabKeys } from '../src/queue/redis.js';

async function main(): Promise<number> {
  const config = loadConfig();
  if (!config.redisUrl) {
    console.error('REDIS_URL is not set');
    return 1;
  }
  const client = new Redis({ ...redisOptionsFromUrl(config.redisUrl), maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 3000 });
  client.on('error', () => {});
  try {
    const beats = await client.hgetall(spikelabKeys(config.queue.prefix, config.queue.name).workers);
    const mine = liveWorkers(beats, config.queue.heartbeatMs).filter((w) => w.host === hostname());
    if (mine.length === 0) {
      console.error(`no fresh worker heartbeat from ${hostname()}`);
      return 1;
    }
    console.log(`ok: ${mine.map((w) => `pid ${w.pid}, ${w.active.length}/${w.concurrency} jobs`).join('; ')}`);
    return 0;
  } catch (err) {
    console.error(`unhealthy: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  } finally {
    client.disconnect();
  }
}

process.exit(await main());
