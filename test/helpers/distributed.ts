/**
 * Distributed-mode test plumbing: the real Redis and PostgreSQL of this machine (tests must run
 * when CI is set; they are skipped only when CI is unset and a service is unreachable), an
 * isolated BullMQ prefix and DATABASE_SCHEMA per test run (removed afterwards), and API / worker
 * child processes from the compiled dist/.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import { PG_URL, postgresReachable } from './postgres.js';

export { PG_URL };

export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

async function redisReachable(): Promise<boolean> {
  const client = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2000 });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/** True when both services answer; throws in CI when one does not. */
export async function servicesAvailable(): Promise<boolean> {
  const [redis, postgres] = await Promise.all([redisReachable(), postgresReachable()]);
  if (process.env.CI && !(redis && postgres)) {
    throw new Error(
      `CI is set but ${!redis ? `Redis at ${REDIS_URL}` : ''}${!redis && !postgres ? ' and ' : ''}${!postgres ? `PostgreSQL at ${PG_URL}` : ''} unreachable`,
    );
  }
  return redis && postgres;
}

export function requireDist(...files: string[]): void {
  for (const f of files) {
    if (!existsSync(path.join(root, f))) throw new Error(`${f} is missing: run \`npm run build\` first`);
  }
}

/** A unique BullMQ prefix and PostgreSQL schema for one test run. */
export function isolation(tag: string) {
  const suffix = `${tag}_${randomBytes(5).toString('hex')}`;
  return { prefix: `spikelab-test-${suffix}`, schema: `spikelab_test_${suffix}` };
}

/**
 * Environment of an API or worker process in a cluster test: its own queue prefix, schema and
 * data directory, short locks and heartbeats so that failures are noticed within seconds.
 */
export function clusterEnv(isolated: { prefix: string; schema: string }, dataDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    REDIS_URL,
    DATABASE_URL: PG_URL,
    DATABASE_SCHEMA: isolated.schema,
    BULLMQ_PREFIX: isolated.prefix,
    DATA_DIR: dataDir,
    PORT: '0',
    WORKER_CONCURRENCY: '1',
    JOB_LOCK_DURATION_MS: '2000',
    JOB_STALLED_INTERVAL_MS: '1000',
    RECONCILE_INTERVAL_MS: '1000',
    WORKER_HEARTBEAT_MS: '500',
    SHUTDOWN_TIMEOUT_MS: '10000',
    ...extra,
  };
}

export async function deleteRedisPrefix(prefix: string): Promise<number> {
  const client = new Redis(REDIS_URL);
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await client.del(...keys);
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
  return deleted;
}

export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}

export interface Child {
  proc: ChildProcess;
  kind: 'api' | 'worker';
  pid: number;
  /** JSON log lines (pino) and any other output lines. */
  logs: any[];
  stderr: string[];
  /** API only. */
  url: string;
  wsUrl: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the first log line matching. */
  waitForLog(match: (line: any) => boolean, timeoutMs?: number): Promise<any>;
}

const children = new Set<Child>();

/** Starts `node dist/src/server.js` or `node dist/workers/worker.js`; resolves once it is ready. */
export async function startChild(kind: 'api' | 'worker', env: Record<string, string>, timeoutMs = 30_000): Promise<Child> {
  const script = kind === 'api' ? 'dist/src/server.js' : 'dist/workers/worker.js';
  requireDist(script);
  const proc = spawn(process.execPath, [path.join(root, script)], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: any[] = [];
  const stderr: string[] = [];
  const waiters = new Set<{ match: (l: any) => boolean; resolve: (l: any) => void }>();
  let buffered = '';
  proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    let nl;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const text = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      let line: any;
      try {
        line = JSON.parse(text);
      } catch {
        line = { msg: text };
      }
      logs.push(line);
      for (const w of waiters) {
        if (w.match(line)) {
          waiters.delete(w);
          w.resolve(line);
        }
      }
    }
  });
  proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const child: Child = {
    proc,
    kind,
    pid: proc.pid!,
    logs,
    stderr,
    url: '',
    wsUrl: '',
    exited,
    waitForLog(match, ms = 30_000) {
      const hit = logs.find(match);
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const w = { match, resolve };
        waiters.add(w);
        const timer = setTimeout(() => {
          waiters.delete(w);
          reject(new Error(`${kind} ${proc.pid}: timed out waiting for a log line; stderr: ${stderr.join('')}`));
        }, ms);
        void exited.then(() => {
          if (!waiters.has(w)) return;
          clearTimeout(timer);
          waiters.delete(w);
          reject(new Error(`${kind} ${proc.pid} exited; stderr: ${stderr.join('')}`));
        });
        const done = w.resolve;
        w.resolve = (l) => {
          clearTimeout(timer);
          done(l);
        };
      });
    },
  };
  children.add(child);
  void exited.then(() => children.delete(child));
  if (kind === 'api') {
    const line = await child.waitForLog((l) => typeof l.msg === 'string' && l.msg.startsWith('Server listening at '), timeoutMs);
    child.url = (line.msg as string).slice('Server listening at '.length).trim();
    child.wsUrl = child.url.replace(/^http/, 'ws');
  } else {
    await child.waitForLog((l) => l.msg === 'worker ready', timeoutMs);
  }
  return child;
}

/** Kills every child still running (test teardown). */
export async function killChildren(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  const all = [...children];
  for (const c of all) c.proc.kill(signal);
  await Promise.all(all.map((c) => c.exited));
}

/** Runs a process to its exit and returns its code and output (for start-up failures). */
export function runToExit(script: string, env: Record<string, string>, timeoutMs = 30_000) {
  requireDist(script);
  return new Promise<{ code: number | null; stdout: string; stderr: string; ms: number }>((resolve, reject) => {
    const started = Date.now();
    const proc = spawn(process.execPath, [path.join(root, script)], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LOG_LEVEL: 'silent', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => (stdout += d));
    proc.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${script} did not exit within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}
