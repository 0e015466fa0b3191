/**
 * What the distributed benches share: child processes of the compiled API and worker (started,
 * awaited until they log readiness, stopped), the services' URLs, and a probe of how much
 * CPU-bound work this machine does on 2 threads compared with 1.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Redis } from 'ioredis';
import pg from 'pg';
import { probeRedis } from '../src/queue/redis.js';
import { probePostgres } from '../src/store/sql-client.js';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface Child {
  proc: ChildProcess;
  ready: Promise<string>;
}

export function startChild(script: string, env: Record<string, string>, readyMsg: (msg: string) => string | null): Child {
  const proc = spawn(process.execPath, [join(root, script)], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const ready = new Promise<string>((resolveReady, reject) => {
    let buf = '';
    proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buf += chunk;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          const hit = readyMsg(String((JSON.parse(line) as { msg?: unknown }).msg ?? ''));
          if (hit !== null) resolveReady(hit);
        } catch {
          // not a log line
        }
      }
    });
    proc.on('exit', (code) => reject(new Error(`${script} exited with code ${code}`)));
  });
  return { proc, ready };
}

/**
 * How much CPU-bound work this machine does with 2 threads compared with 1 (2.0 = two real
 * cores). The ratio of the distributed run cannot beat it; printed so the result can be read.
 */
export async function parallelCapacity(): Promise<number> {
  const spin = (threads: number) =>
    Promise.all(
      Array.from(
        { length: threads },
        () =>
          new Promise<number>((resolveSpin, reject) => {
            const w = new Worker(
              `const { parentPort } = require('node:worker_threads');
               const t = performance.now(); let x = 0; for (let i = 0; i < 3e8; i++) x += i % 7;
               parentPort.postMessage(performance.now() - t + (x < 0 ? 1 : 0));`,
              { eval: true },
            );
            w.once('message', (ms: number) => resolveSpin(ms));
            w.once('error', reject);
          }),
      ),
    );
  const [one] = await spin(1);
  const two = await spin(2);
  return (2 * one!) / Math.max(...two);
}

/**
 * CPU seconds (user + system) every process of this machine has used so far, by pid, read from
 * /proc (Linux; empty elsewhere). Two readings' difference says where a run's CPU went.
 */
export function cpuSecondsByPid(threadsOf: (pid: number) => boolean = () => false): Map<string, { pid: number; name: string; seconds: number }> {
  const out = new Map<string, { pid: number; name: string; seconds: number }>();
  const read = (file: string) => {
    const stat = readFileSync(file, 'utf8');
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat(5), in clock ticks (100 per second on Linux).
    return { name, seconds: (Number(f[11]) + Number(f[12])) / 100 };
  };
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return out;
  }
  for (const pid of pids) {
    try {
      if (threadsOf(Number(pid))) {
        for (const tid of readdirSync(`/proc/${pid}/task`)) out.set(`${pid}/${tid}`, { pid: Number(pid), ...read(`/proc/${pid}/task/${tid}/stat`) });
      } else {
        out.set(pid, { pid: Number(pid), ...read(`/proc/${pid}/stat`) });
      }
    } catch {
      // the process ended between the listing and the read
    }
  }
  return out;
}

/**
 * CPU seconds used between two readings, summed by the label `labelOf` gives each entry (a
 * process, or a thread `pid/tid` of the processes read thread by thread).
 */
export function cpuBetween(
  before: ReturnType<typeof cpuSecondsByPid>,
  after: ReturnType<typeof cpuSecondsByPid>,
  labelOf: (key: string, pid: number, name: string, seconds: number) => string,
): Map<string, number> {
  const sums = new Map<string, number>();
  for (const [key, a] of after) {
    const d = a.seconds - (before.get(key)?.seconds ?? 0);
    if (d <= 0) continue;
    const label = labelOf(key, a.pid, a.name, d);
    sums.set(label, (sums.get(label) ?? 0) + d);
  }
  return sums;
}

export async function stop(child: Child): Promise<void> {
  if (child.proc.exitCode !== null) return;
  const exited = new Promise((r) => child.proc.once('exit', r));
  child.proc.kill('SIGTERM');
  await exited;
}

/** A key prefix, schema and data directory of one bench run, and the environment of its processes. */
export interface Cluster {
  env: Record<string, string>;
  /** Stops the children, then removes the run's Redis keys, PostgreSQL schema and data directory. */
  close(children: Child[]): Promise<void>;
}

/**
 * Prepares a bench run of the compiled API and worker on this machine's Redis and PostgreSQL;
 * null (after printing that the `name` bench is skipped) when either does not answer.
 */
export async function openCluster(name: string, extraEnv: Record<string, string> = {}): Promise<Cluster | null> {
  for (const f of ['dist/src/server.js', 'dist/workers/worker.js']) {
    if (!existsSync(join(root, f))) throw new Error(`${f} is missing: run \`npm run build\` first`);
  }
  try {
    await Promise.all([probeRedis(REDIS_URL, 2000), probePostgres(DATABASE_URL, 2000)]);
  } catch (err) {
    console.log(`${name} bench skipped: Redis/PostgreSQL unreachable (${err instanceof Error ? err.message : String(err)})`);
    return null;
  }
  const tag = randomBytes(4).toString('hex');
  const prefix = `spikelab-bench-${tag}`;
  const schema = `spikelab_bench_${tag}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'spikelab-bench-'));
  const env = {
    REDIS_URL,
    DATABASE_URL,
    DATABASE_SCHEMA: schema,
    BULLMQ_PREFIX: prefix,
    DATA_DIR: dataDir,
    PORT: '0',
    WORKER_CONCURRENCY: '1',
    WORKER_HEARTBEAT_MS: '500',
    ...extraEnv,
  };
  return {
    env,
    async close(children) {
      await Promise.all(children.map(stop));
      const redis = new Redis(REDIS_URL);
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) await redis.del(...keys);
      } while (cursor !== '0');
      redis.disconnect();
      const db = new pg.Client({ connectionString: DATABASE_URL });
      await db.connect();
      await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await db.end();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The API process of a bench run, and worker processes added on demand (all pushed to `children` for `close`). */
export async function startApiAndWorkers(env: Record<string, string>, children: Child[]) {
  const api = startChild('dist/src/server.js', env, (m) => (m.startsWith('Server listening at ') ? m.slice(20).trim() : null));
  children.push(api);
  const url = await api.ready;
  return {
    url,
    /** Starts one more worker process; resolves when it reports ready. */
    addWorker(): Promise<string> {
      const w = startChild('dist/workers/worker.js', env, (m) => (m === 'worker ready' ? m : null));
      children.push(w);
      return w.ready;
    },
    /** Resolves once the API sees `n` workers with a fresh heartbeat. */
    async waitWorkers(n: number): Promise<void> {
      for (;;) {
        const h = (await (await fetch(`${url}/health`)).json()) as { queue: { workers: number } };
        if (h.queue.workers >= n) return;
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
}
