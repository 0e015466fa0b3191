/**
 * buildApp(config): the Fastify server with its store, job runner, recorder and stream hub wired
 * together. Data flows client → API → job runner → engine thread → events → recorder (store) and
 * hub (WebSocket fan-out).
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import Fastify, { type FastifyInstance, type FastifyServerOptions, type RouteOptions } from 'fastify';
import cors from '@fastify/cors';
import fastifyStatic from '@fastify/static';
import websocket from '@fastify/websocket';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Config } from '../config.js';
import { BullMqJobRunner } from '../queue/bullmq-runner.js';
import { ThreadClassifier, type Classifier } from '../queue/classifier.js';
import { EmbeddedJobRunner } from '../queue/embedded-runner.js';
import { JobRecorder } from '../queue/job-recorder.js';
import type { JobRunner } from '../queue/job-runner.js';
import { openStore } from '../store/open-store.js';
import type { ExperimentStore } from '../store/store.js';
import { makeAuthHook } from './auth.js';
import { ApiError, makeErrorHandler } from './errors.js';
import { ExperimentService } from './experiment-service.js';
import { repoRoot } from './repo-root.js';
import { experimentRoutes } from './routes/experiments.js';
import { streamRoutes, CloseCode } from './routes/stream.js';
import { sweepRoutes } from './routes/sweeps.js';
import { systemRoutes } from './routes/system.js';
import { StreamHub } from './stream-hub.js';

export interface AppOptions {
  /** Engine thread module; tests substitute a scripted engine that speaks the same protocol. */
  engineWorkerUrl?: URL;
  /** Directory of the built dashboard served at `/`; default dashboard/dist when it exists. */
  dashboardDir?: string;
  logger?: FastifyServerOptions['logger'];
  /** Minimum time between stored progress updates of one job. */
  progressIntervalMs?: number;
}

export interface SpikeLab {
  app: FastifyInstance;
  store: ExperimentStore;
  runner: JobRunner;
  recorder: JobRecorder;
  hub: StreamHub;
  service: ExperimentService;
  classifier: Classifier;
  /** Every route Fastify registered (the OpenAPI test checks each is documented). */
  routes: Pick<RouteOptions, 'method' | 'url'>[];
}

export async function buildApp(config: Config, opts: AppOptions = {}): Promise<SpikeLab> {
  const app = Fastify({
    logger: opts.logger ?? { level: config.logLevel },
    bodyLimit: config.limits.maxBodyBytes,
    genReqId: () => randomUUID(),
    requestIdHeader: 'x-request-id',
    forceCloseConnections: 'idle',
  });
  const routes: SpikeLab['routes'] = [];
  app.addHook('onRoute', (route) => void routes.push({ method: route.method, url: route.url }));
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(makeErrorHandler(config.limits.maxBodyBytes));
  app.setNotFoundHandler((request) => {
    throw new ApiError(404, 'not_found', `no route ${request.method} ${request.url.split('?')[0]}`);
  });
  app.addHook('onSend', async (request, reply) => void reply.header('x-request-id', request.id));

  // Empty JSON bodies are allowed (e.g. POST …/cancel from clients that always send the header);
  // routes that need a body reject `undefined` with a validation error.
  // JSON only: any other body type is a 415, not silently a string.
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    if (body === '' || body === undefined) return done(null, undefined);
    try {
      done(null, JSON.parse(body as string));
    } catch (err) {
      done(new ApiError(400, 'invalid_json', `request body is not valid JSON: ${(err as Error).message}`), undefined);
    }
  });

  const corsOrigins = config.corsOrigins;
  await app.register(cors, {
    origin: corsOrigins.includes('*') ? true : corsOrigins.length > 0 ? corsOrigins : false,
    methods: ['GET', 'POST', 'DELETE'],
    allowedHeaders: ['authorization', 'content-type', 'x-request-id'],
    exposedHeaders: ['x-request-id', 'location', 'content-disposition'],
  });
  await app.register(websocket, { options: { maxPayload: 64 * 1024 } });
  app.addHook('onRequest', makeAuthHook(config.apiKeys));

  if (config.redisUrl && !config.databaseUrl) {
    throw new Error(
      'REDIS_URL is set (distributed mode) but DATABASE_URL is not: API instances and workers must share one PostgreSQL database',
    );
  }
  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, schema: config.databaseSchema });
  const onListenerError = (err: unknown) => app.log.error({ err }, 'job event listener failed');
  // Distributed mode: experiments go to BullMQ; worker processes run them and write the store.
  let reconcile = () => {};
  const runner: JobRunner = config.redisUrl
    ? new BullMqJobRunner({
        redisUrl: config.redisUrl,
        prefix: config.queue.prefix,
        queueName: config.queue.name,
        attempts: config.queue.attempts,
        backoffMs: config.queue.backoffMs,
        heartbeatMs: config.queue.heartbeatMs,
        store,
        log: app.log,
        onReconnect: () => reconcile(),
        onListenerError,
      })
    : new EmbeddedJobRunner({ workers: config.workers, dataDir: config.mnistDir, workerUrl: opts.engineWorkerUrl, onListenerError });
  const recorder = new JobRecorder(store, app.log, opts.progressIntervalMs, { remote: runner.kind === 'bullmq' });
  const hub = new StreamHub(config.streamClientBufferBytes);
  const classifier = new ThreadClassifier(opts.engineWorkerUrl);
  runner.on(recorder.handle);
  runner.on(hub.handleRunnerEvent);
  recorder.onStatus(hub.handleStatus);
  const service = new ExperimentService({ store, runner, recorder, hub, limits: config.limits, log: app.log });

  const root = repoRoot();
  const dashboardDir = opts.dashboardDir ?? path.join(root, 'dashboard', 'dist');
  const dashboard = existsSync(path.join(dashboardDir, 'index.html'));
  if (dashboard) await app.register(fastifyStatic, { root: path.resolve(dashboardDir), prefix: '/' });

  await app.register(systemRoutes, { store, runner, recorder, hub, root, landingPage: !dashboard });
  await app.register(experimentRoutes, { service, store, classifier, maxClassifyImages: config.limits.maxClassifyImages });
  await app.register(streamRoutes, { hub, store, service });
  await app.register(sweepRoutes, { service, store, recorder, runner, limits: config.limits });

  app.addHook('preClose', async () => hub.closeAll(CloseCode.goingAway, 'server shutting down'));
  let reconcileTimer: NodeJS.Timeout | undefined;
  app.addHook('onClose', async () => {
    clearInterval(reconcileTimer);
    // Embedded: running jobs stop without reporting an end: they stay `running` with their last
    // checkpoint and the next start resumes them. Distributed: they go on running on the workers.
    await runner.close();
    await recorder.flush();
    await classifier.close();
    await store.close();
  });

  try {
    await runner.start();
  } catch (err) {
    await runner.close().catch(() => {});
    await store.close().catch(() => {});
    throw err;
  }
  const resumed = await service.resumeUnfinished();
  if (resumed > 0) app.log.info({ resumed }, 'resumed unfinished experiments');
  if (runner.kind === 'bullmq') {
    // The database is the source of truth: experiments it holds as queued/running but the queue
    // lost (Redis flushed, or restarted without its AOF) are enqueued again, from their last
    // checkpoint — now, periodically, and whenever Redis comes back.
    let busy = false;
    reconcile = () => {
      if (busy) return;
      busy = true;
      service
        .resumeUnfinished()
        .then(
          (n) => n > 0 && app.log.info({ resumed: n }, 're-enqueued experiments the queue did not hold'),
          (err: unknown) => app.log.warn({ err }, 'could not reconcile the queue with the database'),
        )
        .finally(() => (busy = false));
    };
    reconcileTimer = setInterval(reconcile, config.queue.reconcileIntervalMs);
    reconcileTimer.unref();
  }
  return { app, store, runner, recorder, hub, service, classifier, routes };
}
