/**
 * `npm start`: the SpikeLab server with the embedded store and job runner (or PostgreSQL when
 * DATABASE_URL is set; with REDIS_URL too, distributed mode: jobs go to BullMQ and run on
 * `npm run worker` processes). SIGTERM/SIGINT close it gracefully: no new requests, streams
 * closed, connections closed; embedded jobs are left at their last checkpoint to resume on the
 * next start (distributed jobs keep running on their workers). Redis or PostgreSQL unreachable
 * at start ⇒ one clear line and exit code 1.
 */
import { buildApp } from './api/app.js';
import { ConfigError, loadConfig } from './config.js';

async function main() {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const { app } = await buildApp(config);
  if (config.redisUrl) {
    app.log.info({ queue: config.queue.name, prefix: config.queue.prefix }, 'distributed mode: experiments run on `npm run worker` processes');
  }

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      app.log.error('shutdown timed out; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    timer.unref();
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        app.log.error({ err }, 'error while shutting down');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('unhandledRejection', (err) => app.log.error({ err }, 'unhandled promise rejection'));

  await app.listen({ host: config.host, port: config.port });
}

main().catch((err: unknown) => {
  console.error('SpikeLab failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
