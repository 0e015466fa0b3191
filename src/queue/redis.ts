/**
 * Redis plumbing of distributed mode shared by the API's BullMQ runner and the worker process:
 * connection options from REDIS_URL, a fail-fast probe, the key and channel names, and the
 * messages that travel over pub/sub.
 */
import { Redis } from 'ioredis';
import type { ExperimentEvent } from '../experiment/events.js';

/** Connection options from a URL, accepted by ioredis and by BullMQ (which opens its own connections). */
export interface RedisUrlOptions {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db: number;
  tls?: Record<string, never>;
}

/** Options from a redis:// or rediss:// URL. */
export function redisOptionsFromUrl(url: string): RedisUrlOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`REDIS_URL is not a valid URL: ${redactUrl(url)}`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new Error(`REDIS_URL must start with redis:// or rediss://, got ${u.protocol}//`);
  }
  const db = u.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) throw new Error(`REDIS_URL database must be a number, got "${db}"`);
  return {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: db === '' ? 0 : Number(db),
    tls: u.protocol === 'rediss:' ? {} : undefined,
  };
}

/**
 * Options of the long-lived connections: commands wait while Redis is away (BullMQ needs
 * maxRetriesPerRequest: null) and reconnection is retried at least every 2 s — BullMQ's default
 * backs off to 20 s, which would keep an instance unhealthy long after Redis is back.
 */
export function redisConnectionOptions(url: string) {
  return {
    ...redisOptionsFromUrl(url),
    maxRetriesPerRequest: null,
    retryStrategy: (times: number) => Math.min(200 * times, 2000),
  };
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<unparseable url>';
  }
}

/**
 * Connects once, without retrying, and pings: the clear error a process should exit with when
 * Redis is unreachable at start. (BullMQ itself retries forever, which would hide a wrong URL.)
 */
export async function probeRedis(url: string, timeoutMs = 5000): Promise<void> {
  const client = new Redis({
    ...redisOptionsFromUrl(url),
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  // The socket error (ECONNREFUSED, ENOTFOUND, …) says more than connect()'s "Connection is closed".
  let socketError: Error | undefined;
  client.on('error', (err: Error) => (socketError ??= err));
  try {
    await client.connect();
    await client.ping();
  } catch (err) {
    const reason = socketError?.message || (err instanceof Error ? err.message : String(err));
    throw new Error(`Redis at ${redactUrl(url)} is unreachable: ${reason}`);
  } finally {
    client.disconnect();
  }
}

/** Our own keys and channels live under the queue's BullMQ prefix, so one prefix isolates a deployment. */
export function spikelabKeys(prefix: string, queueName: string) {
  const base = `${prefix}:${queueName}:spikelab`;
  return {
    /** Pub/sub: every live event of every job (all API instances subscribe). */
    live: `${base}:live`,
    /** Pub/sub: cancel requests (all workers subscribe; the one running the job stops it). */
    cancel: `${base}:cancel`,
    /** String key per job: a cancel was requested (seen by a worker that takes the job later). */
    cancelFlag: (id: string) => `${base}:cancelled:${id}`,
    /** Hash: worker id → heartbeat JSON (active jobs, concurrency, time). */
    workers: `${base}:workers`,
    /** Hash: cluster-wide counters (stalled, retried). */
    counters: `${base}:counters`,
  };
}

export interface WorkerHeartbeat {
  id: string;
  host: string;
  pid: number;
  concurrency: number;
  active: string[];
  /** ms since the epoch. */
  at: number;
}

/** What BullMQ keeps as a job's data: only the id — the definition and checkpoint come from PostgreSQL. */
export interface ExperimentJobData {
  id: string;
}

/** What the processor returns (BullMQ's returnvalue); the result itself is in the database. */
export interface ExperimentJobResult {
  outcome: 'completed' | 'cancelled' | 'skipped';
  reason?: string;
}

/** Messages on the live channel, published by the worker running the job, in emission order. */
export type LiveMessage =
  /** The job (re)started on a worker; its `running` status is already stored. */
  | { kind: 'started'; id: string; resumedFrom: number | null }
  | { kind: 'event'; id: string; event: ExperimentEvent }
  /** Several events of one job, in emission order (a worker sends a job's events together, a few times a second). */
  | { kind: 'events'; id: string; events: ExperimentEvent[] }
  /** The attempt is over and its final state is stored: nothing more comes for it. */
  | { kind: 'end'; id: string };

type Typed = Uint8Array | Uint32Array | Int32Array | Float32Array | Float64Array;
const typedCtors = { Uint8Array, Uint32Array, Int32Array, Float32Array, Float64Array } as const;
type TypedName = keyof typeof typedCtors;
const MAGIC = 0x534c4d31; // "SLM1"

/**
 * Binary encoding of a live message: a JSON header in which every typed array is replaced by a
 * reference {$ta: type, o: offset, n: length} into a body of raw little-endian bytes (8-byte
 * aligned), so spike rasters and weight matrices cross Redis without JSON number arrays.
 * Layout: u32 magic, u32 header bytes, header (UTF-8, padded to 8), body.
 */
export function encodeLiveMessage(msg: LiveMessage): Buffer {
  const parts: Typed[] = [];
  let bodyBytes = 0;
  const header = JSON.stringify(msg, (_key, value: unknown) => {
    if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
      const name = value.constructor.name as TypedName;
      if (!(name in typedCtors)) throw new Error(`cannot encode ${name}`);
      const t = value as Typed;
      const ref = { $ta: name, o: bodyBytes, n: t.length };
      parts.push(t);
      bodyBytes += Math.ceil(t.byteLength / 8) * 8;
      return ref;
    }
    return value;
  });
  const headerBuf = Buffer.from(header, 'utf8');
  const headerPadded = Math.ceil((8 + headerBuf.byteLength) / 8) * 8;
  const out = Buffer.alloc(headerPadded + bodyBytes);
  out.writeUInt32LE(MAGIC, 0);
  out.writeUInt32LE(headerBuf.byteLength, 4);
  headerBuf.copy(out, 8);
  let at = headerPadded;
  for (const t of parts) {
    out.set(new Uint8Array(t.buffer, t.byteOffset, t.byteLength), at);
    at += Math.ceil(t.byteLength / 8) * 8;
  }
  return out;
}

export function decodeLiveMessage(buf: Buffer): LiveMessage {
  if (buf.byteLength < 8 || buf.readUInt32LE(0) !== MAGIC) throw new Error('not a live message');
  const headerBytes = buf.readUInt32LE(4);
  const bodyStart = Math.ceil((8 + headerBytes) / 8) * 8;
  const header = buf.toString('utf8', 8, 8 + headerBytes);
  return JSON.parse(header, (_key, value: unknown) => {
    if (value !== null && typeof value === 'object' && '$ta' in value) {
      const ref = value as { $ta: TypedName; o: number; n: number };
      const Ctor = typedCtors[ref.$ta];
      const bytes = ref.n * Ctor.BYTES_PER_ELEMENT;
      // A copy into a buffer of its own: aligned, and independent of the message buffer.
      const own = new Uint8Array(bytes);
      own.set(buf.subarray(bodyStart + ref.o, bodyStart + ref.o + bytes));
      return new Ctor(own.buffer, 0, ref.n);
    }
    return value;
  }) as LiveMessage;
}
