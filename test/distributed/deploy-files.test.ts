/**
 * Dockerfile and docker-compose.yml (there is no Docker engine here, so they are parsed): the
 * services, commands, ports, health checks and environment that docs/distributed.md documents,
 * and that the image is multi-stage, builds the TypeScript and runs as a non-root user.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { root } from '../helpers/distributed.js';

interface Instruction {
  op: string;
  args: string;
  stage: number;
}

/** A small Dockerfile parser: comments, line continuations, instructions grouped by stage. */
function parseDockerfile(text: string): { stages: { from: string; name: string | null }[]; instructions: Instruction[] } {
  const logical: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (current === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.startsWith('#')) continue;
    if (line.endsWith('\\')) {
      current += line.slice(0, -1) + ' ';
      continue;
    }
    logical.push((current + line).trim());
    current = '';
  }
  if (current.trim()) logical.push(current.trim());
  const stages: { from: string; name: string | null }[] = [];
  const instructions: Instruction[] = [];
  for (const l of logical) {
    const m = /^(\w+)\s+(.*)$/s.exec(l);
    if (!m) throw new Error(`unparseable Dockerfile line: ${l}`);
    const op = m[1]!.toUpperCase();
    const args = m[2]!.replace(/\s+/g, ' ').trim();
    if (op === 'FROM') {
      const from = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      stages.push({ from: from![1]!, name: from![2] ?? null });
    }
    instructions.push({ op, args, stage: stages.length - 1 });
  }
  return { stages, instructions };
}

const exec = (args: string): string[] => JSON.parse(args) as string[];
const read = (f: string) => readFileSync(path.join(root, f), 'utf8');
const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
const docs = read('docs/distributed.md');
/** Every variable the config accepts (src/config.ts's envSchema keys). */
const configVars = new Set([...read('src/config.ts').matchAll(/^\s{2}([A-Z][A-Z0-9_]+):/gm)].map((m) => m[1]!));

describe('Dockerfile', () => {
  const { stages, instructions } = parseDockerfile(read('Dockerfile'));
  const last = stages.length - 1;
  const inStage = (s: number, op: string) => instructions.filter((i) => i.stage === s && i.op === op);

  it('is multi-stage: a build stage compiles TypeScript, the runtime copies only its output', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const build = stages.findIndex((s) => s.name === 'build');
    expect(build).toBeGreaterThanOrEqual(0);
    expect(build).toBeLessThan(last);
    for (const s of stages) expect(s.from).toMatch(/^node:20/);
    const runs = inStage(build, 'RUN').map((i) => i.args).join(' && ');
    expect(runs).toMatch(/npm ci/);
    expect(runs).toMatch(/npm run build/);
    expect(pkg.scripts.build).toMatch(/tsc -p tsconfig\.build\.json/);
    const copiesFromBuild = inStage(last, 'COPY').filter((i) => i.args.startsWith('--from=build'));
    for (const what of ['/app/dist', '/app/node_modules']) expect(copiesFromBuild.some((i) => i.args.includes(what))).toBe(true);
    // The runtime stage installs nothing and compiles nothing.
    expect(inStage(last, 'RUN').map((i) => i.args).join(' ')).not.toMatch(/npm (ci|install|run build)/);
    // Whatever the build stage copies from the context exists.
    for (const c of inStage(build, 'COPY')) {
      const parts = c.args.split(' ');
      for (const src of parts.slice(0, -1)) expect(existsSync(path.join(root, src)), `${src} exists`).toBe(true);
    }
  });

  it('runs as a non-root user, the API by default, on the documented port, with a health check', () => {
    const users = inStage(last, 'USER');
    expect(users.length).toBe(1);
    expect(users[0]!.args).not.toMatch(/^(root|0)(:|$)/);
    const userAt = instructions.indexOf(users[0]!);
    const cmd = inStage(last, 'CMD').at(-1)!;
    expect(instructions.indexOf(cmd)).toBeGreaterThan(userAt);
    expect(exec(cmd.args)).toEqual(['node', 'dist/src/server.js']);
    expect(`node ${exec(cmd.args)[1]}`).toBe(pkg.scripts.start);
    expect(inStage(last, 'EXPOSE').map((i) => i.args)).toEqual(['8080']);
    const env = inStage(last, 'ENV').map((i) => i.args).join(' ');
    expect(env).toMatch(/HOST=0\.0\.0\.0/);
    expect(env).toMatch(/PORT=8080/);
    expect(inStage(last, 'HEALTHCHECK')[0]!.args).toMatch(/\/health/);
  });

  it('has a .dockerignore that keeps local builds and dependencies out of the context', () => {
    const ignored = read('.dockerignore').split('\n').map((l) => l.trim());
    for (const x of ['node_modules', 'dist', 'data']) expect(ignored).toContain(x);
  });
});

describe('docker-compose.yml', () => {
  // Compose resolves YAML merge keys (`<<: *anchor`), as the yaml package does with merge: true.
  const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, any>; volumes: Record<string, unknown> };
  const s = compose.services;

  it('has redis, postgres, api and 2 workers, each with a health check', () => {
    expect(Object.keys(s).sort()).toEqual(['api', 'postgres', 'redis', 'worker']);
    for (const name of Object.keys(s)) expect(s[name].healthcheck?.test, `${name} healthcheck`).toBeDefined();
    expect(s.worker.deploy.replicas).toBe(2);
  });

  it('runs Redis with AOF persistence and the noeviction policy, on a volume', () => {
    const cmd = (s.redis.command as string[]).join(' ');
    expect(cmd).toMatch(/--appendonly yes/);
    expect(cmd).toMatch(/--maxmemory-policy noeviction/);
    expect(s.redis.volumes[0]).toMatch(/:\/data$/);
    expect(s.postgres.image).toMatch(/^postgres:/);
    expect(s.postgres.volumes[0]).toMatch(/:\/var\/lib\/postgresql\/data$/);
    expect(Object.keys(compose.volumes).sort()).toEqual(['postgres-data', 'redis-data']);
  });

  it('starts the API and the workers from one image, by command, after healthy services', () => {
    expect(s.api.image).toBe(s.worker.image);
    expect(s.api.build).toBe('.');
    expect(s.api.command).toEqual(['node', 'dist/src/server.js']);
    expect(s.worker.command).toEqual(['node', 'dist/workers/worker.js']);
    expect(s.worker.command.join(' ')).toBe(pkg.scripts.worker);
    expect(s.api.ports).toEqual(['8080:8080']);
    expect(s.api.environment.PORT).toBe('8080');
    expect(s.api.environment.HOST).toBe('0.0.0.0');
    expect(s.api.healthcheck.test.join(' ')).toMatch(/127\.0\.0\.1:8080\/health/);
    expect(s.worker.healthcheck.test).toEqual(['CMD', 'node', 'dist/workers/healthcheck.js']);
    expect(existsSync(path.join(root, 'workers/healthcheck.ts'))).toBe(true);
    for (const svc of [s.api, s.worker]) {
      expect(svc.depends_on).toEqual({ redis: { condition: 'service_healthy' }, postgres: { condition: 'service_healthy' } });
      expect(svc.stop_grace_period).toBeDefined();
    }
  });

  it('points API and workers at the compose Redis and PostgreSQL, with the variables the docs document', () => {
    for (const svc of [s.api, s.worker]) {
      const env = svc.environment as Record<string, string>;
      expect(env.REDIS_URL).toBe('redis://redis:6379');
      const db = new URL(env.DATABASE_URL!);
      expect(db.hostname).toBe('postgres');
      expect(db.username).toBe(s.postgres.environment.POSTGRES_USER);
      expect(db.password).toBe(s.postgres.environment.POSTGRES_PASSWORD);
      expect(db.pathname).toBe(`/${s.postgres.environment.POSTGRES_DB}`);
      for (const name of Object.keys(env)) {
        expect(configVars.has(name), `${name} is a setting of src/config.ts`).toBe(true);
        expect(docs.includes(`\`${name}\``) || ['HOST', 'PORT'].includes(name), `${name} is documented in docs/distributed.md`).toBe(true);
      }
    }
    expect(s.worker.environment.WORKER_CONCURRENCY).toBeDefined();
  });

  it('docs/distributed.md documents the commands and every distributed setting', () => {
    for (const cmd of ['docker compose up --build', 'npm run worker', 'npm start']) expect(docs).toContain(cmd);
    for (const name of [
      'REDIS_URL',
      'DATABASE_URL',
      'DATABASE_SCHEMA',
      'BULLMQ_PREFIX',
      'BULLMQ_QUEUE',
      'WORKER_CONCURRENCY',
      'JOB_LOCK_DURATION_MS',
      'JOB_STALLED_INTERVAL_MS',
      'JOB_MAX_STALLED_COUNT',
      'JOB_ATTEMPTS',
      'JOB_BACKOFF_MS',
      'RECONCILE_INTERVAL_MS',
      'WORKER_HEARTBEAT_MS',
    ]) {
      expect(configVars.has(name), `${name} in src/config.ts`).toBe(true);
      expect(docs, `${name} documented`).toContain(`| \`${name}\` |`);
    }
  });
});
