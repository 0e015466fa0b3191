/**
 * buildApp(config): the Fastify server with its store, job runner, recorder and stream hub wired
 * together. Data flows client → API → job runner → engine thread → events → recorder (store) and
 * hub (WebSocket fan-out).
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyServerOptions, type RouteOptions } from 'fastify';
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
import { FileDatasetBlobs, PgDatasetBlobs, removeStaleTemps } from '../data/blobs.js';
import { DatasetStore } from '../data/dataset-store.js';
import { openStore } from '../store/open-store.js';
import { SqlExperimentStore } from '../store/sql-store.js';
import { SweepStore } from '../sweeps/store.js';
import type { ExperimentStore } from '../store/store.js';
import { makeAuthHook } from './auth.js';
import { ApiError, echo, makeErrorHandler, toApiError } from './errors.js';
import { requestSerializers } from './log-redaction.js';
import { Metrics } from './prometheus.js';
import { makeRequestGuards, rejectNulInBody } from './request-guards.js';
import { ExperimentService } from './experiment-service.js';
import { repoRoot } from './repo-root.js';
import { datasetRoutes } from './routes/datasets.js';
import { experimentRoutes } from './routes/experiments.js';
import { streamRoutes, CloseCode } from './routes/stream.js';
import { sweepRoutes } from './routes/sweeps.js';
import { SweepService } from './sweep-service.js';
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
  sweeps: SweepService;
  classifier: Classifier;
  datasets: DatasetStore;
  /** Every route Fastify registered (the OpenAPI test checks each is documented). */
  routes: Pick<RouteOptions, 'method' | 'url'>[];
}

export async function buildApp(config: Config, opts: AppOptions = {}): Promise<SpikeLab> {
  // Whatever logger options a caller passes, requests are logged through the redacting serializer.
  const logger = opts.logger === undefined ? { level: config.logLevel } : opts.logger;
  const app = Fastify({
    logger: typeof logger === 'object' && logger !== null ? { ...logger, serializers: { ...requestSerializers, ...(logger.serializers ?? {}) } } : logger,
    // Errors Fastify raises before routing (a malformed percent-encoding in the URL, a bad
    // header) get the API's one error body too.
    frameworkErrors: (err, request, reply) => {
      const e = toApiError(err, config.limits.maxBodyBytes);
      // Fastify's message quotes the URL: bounded like every other echo.
      const apiError = new ApiError(e.statusCode, e.code, echo(e.message, 200));
      request.log.info({ code: apiError.code }, apiError.message);
      void (reply as unknown as FastifyReply).code(apiError.statusCode).type('application/json; charset=utf-8').send(apiError.toBody());
    },
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
    throw new ApiError(404, 'not_found', `no route ${request.method} ${echo(request.url.split('?')[0]!, 128)}`);
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
  const keysConfigured = config.principals.length > 0;
  app.decorateRequest('principal', null);
  app.addHook(
    'onRequest',
    makeRequestGuards({ allowedHosts: config.protection.allowedHosts, corsOrigins: config.corsOrigins, keysConfigured }),
  );
  app.addHook('onRequest', makeAuthHook(config.principals));
  app.addHook('preValidation', rejectNulInBody);

  if (config.redisUrl && !config.databaseUrl) {
    throw new Error(
      'REDIS_URL is set (distributed mode) but DATABASE_URL is not: API instances and workers must share one PostgreSQL database',
    );
  }
  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, schema: config.databaseSchema });
  if (!(store instanceof SqlExperimentStore)) throw new Error('datasets need the SQL store');
  // Embedded: dataset files beside the other artifacts. With PostgreSQL: in the database, where
  // every instance and worker reads them, copied into a local cache by hash before a run.
  const blobs = config.databaseUrl
    ? new PgDatasetBlobs(store.sql.client, store.sql.schema, path.join(config.dataDir, 'dataset-cache'), config.datasets.cacheBytes)
    : new FileDatasetBlobs(path.join(config.dataDir, 'datasets'));
  const datasets = new DatasetStore(store.sql.client, store.sql.schema, blobs);
  try {
    await datasets.init();
  } catch (err) {
    await store.close().catch(() => {});
    throw err;
  }
  const uploadDir = path.join(config.dataDir, 'uploads');
  // Uploads interrupted by a crash are removed; nothing refers to them.
  await removeStaleTemps(blobs.localRoot);
  const onListenerError = (err: unknown) => app.log.error({ err }, 'job event listener failed');
  // Distributed mode: experiments go to BullMQ; worker processes run them and write the store.
  const runner: JobRunner = config.redisUrl
    ? new BullMqJobRunner({
        redisUrl: config.redisUrl,
        prefix: config.queue.prefix,
        queueName: config.queue.name,
        attempts: config.queue.attempts,
        backoffMs: config.queue.backoffMs,
        heartbeatMs: config.queue.heartbeatMs,
        reconcileIntervalMs: config.queue.reconcileIntervalMs,
        store,
        log: app.log,
        onListenerError,
      })
    : new EmbeddedJobRunner({
        workers: config.workers,
        dataDir: config.mnistDir,
        datasetsDir: blobs.localRoot,
        prepareDataset: (sha) => blobs.ensureLocal(sha),
        workerUrl: opts.engineWorkerUrl,
        onListenerError,
        cancelGraceMs: config.protection.cancelGraceMs,
        checkpointMinIntervalMs: config.protection.checkpointMinIntervalMs,
        engineThreads: config.engineThreads,
        checkpoints: store,
        // Resolved lazily: the service (which knows the quotas) is built after the runner.
        runningLimit: (owner) => service.runningLimit(owner),
      });
  const recorder = new JobRecorder(store, app.log, runner.recording(), {
    progressIntervalMs: opts.progressIntervalMs,
    checkpointMinIntervalMs: config.protection.checkpointMinIntervalMs,
  });
  const p = config.protection;
  const hub = new StreamHub(config.streamClientBufferBytes, {
    perExperiment: p.maxStreamsPerExperiment,
    perClient: p.maxStreamsPerClient,
    totalBufferBytes: p.streamTotalBufferBytes,
    binaryBytesPerSec: p.streamMaxBytesPerSec,
  });
  const classifier = new ThreadClassifier(opts.engineWorkerUrl);
  runner.on(recorder.handle);
  runner.on(hub.handleRunnerEvent);
  recorder.onStatus(hub.handleStatus);
  const service: ExperimentService = new ExperimentService({
    store,
    runner,
    recorder,
    hub,
    limits: config.limits,
    log: app.log,
    principals: config.principals,
    datasets,
  });

  const root = repoRoot();
  const dashboardDir = opts.dashboardDir ?? path.join(root, 'dashboard', 'dist');
  const dashboard = existsSync(path.join(dashboardDir, 'index.html'));
  if (dashboard) await app.register(fastifyStatic, { root: path.resolve(dashboardDir), prefix: '/' });

  await app.register(systemRoutes, { store, runner, recorder, hub, root, landingPage: !dashboard, metrics: new Metrics(), keysConfigured });
  await app.register(experimentRoutes, {
    service,
    classifier,
    maxClassifyImages: config.limits.maxClassifyImages,
    maxClassifyCost: config.limits.maxClassifyCost,
    classifyTimeoutMs: p.classifyTimeoutMs,
    maxConcurrentDownloads: p.maxConcurrentDownloads,
    downloadTimeoutMs: p.downloadTimeoutMs,
  });
  await app.register(streamRoutes, { hub, service });
  await rmUploads(uploadDir);
  await app.register(datasetRoutes, { datasets, settings: config.datasets, uploadDir });
  const sweeps = new SweepService({
    store: new SweepStore(store.sql.client, store.sql.schema),
    experiments: service,
    statuses: recorder,
    queue: runner,
    limits: config.limits,
    settings: config.sweeps,
    principals: config.principals,
    log: app.log,
  });
  await sweeps.init();
  await app.register(sweepRoutes, { sweeps, hub });

  app.addHook('onReady', async () => sweeps.start());
  app.addHook('preClose', async () => {
    hub.closeAll(CloseCode.goingAway, 'server shutting down');
    await sweeps.close();
  });
  app.addHook('onClose', async () => {
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
  // Whatever the queue loses from now on (distributed mode) is resubmitted the same way.
  runner.reconcileWith(() => service.resumeUnfinished());
  return { app, store, runner, recorder, hub, service, sweeps, classifier, datasets, routes };
}

/** Uploads a previous process was receiving when it stopped: incomplete, and referenced by nothing. */
async function rmUploads(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}
