import { writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('config from the environment', () => {
  it('has defaults that work on a fresh machine', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ host: '127.0.0.1', port: 8080, databaseUrl: undefined, redisUrl: undefined, corsOrigins: [], apiKeys: [] });
    expect(c.dataDir.endsWith('/data')).toBe(true);
    expect(c.workers).toBeGreaterThanOrEqual(1);
    expect(c.limits.maxNeurons).toBeGreaterThan(0);
  });

  it('reads lists, numbers and limits', () => {
    const c = loadConfig({ HOST: '0.0.0.0', PORT: '9000', CORS_ORIGINS: 'http://a.example, http://b.example', API_KEYS: 'k1,,k2 ', WORKERS: '3', MAX_NEURONS: '50', DATABASE_URL: ' ' });
    expect(c).toMatchObject({ host: '0.0.0.0', port: 9000, corsOrigins: ['http://a.example', 'http://b.example'], apiKeys: ['k1', 'k2'], workers: 3, databaseUrl: undefined });
    expect(c.limits.maxNeurons).toBe(50);
  });

  it('holds the sweep settings with the others', () => {
    expect(loadConfig({}).sweeps).toEqual({ maxTrials: 256, tickMs: 2000 });
    expect(loadConfig({ MAX_SWEEP_TRIALS: '12', SWEEP_TICK_MS: '500' }).sweeps).toEqual({ maxTrials: 12, tickMs: 500 });
    expect(() => loadConfig({ MAX_SWEEP_TRIALS: '10001' })).toThrow(/MAX_SWEEP_TRIALS/);
    expect(() => loadConfig({ SWEEP_TICK_MS: '0' })).toThrow(/SWEEP_TICK_MS/);
  });

  it('bounds how long a worker holds live events', () => {
    expect(loadConfig({}).queue.liveBatchMs).toBe(100);
    expect(loadConfig({ WORKER_LIVE_BATCH_MS: '5000' }).queue.liveBatchMs).toBe(5000);
    expect(() => loadConfig({ WORKER_LIVE_BATCH_MS: '5001' })).toThrow(/WORKER_LIVE_BATCH_MS/);
    expect(() => loadConfig({ WORKER_LIVE_BATCH_MS: '0' })).toThrow(/WORKER_LIVE_BATCH_MS/);
  });

  it('bounds the threads of one experiment, and runs fewer experiments at once when each may take more', () => {
    expect(loadConfig({}).engineThreads).toBe(1);
    expect(loadConfig({ ENGINE_THREADS: '32' }).engineThreads).toBe(32);
    expect(() => loadConfig({ ENGINE_THREADS: '33' })).toThrow(/ENGINE_THREADS/);
    expect(() => loadConfig({ ENGINE_THREADS: '0' })).toThrow(/ENGINE_THREADS/);
    const cores = availableParallelism();
    expect(loadConfig({ ENGINE_THREADS: '2' }).workers).toBe(Math.max(1, Math.floor((cores - 1) / 2)));
    expect(loadConfig({ ENGINE_THREADS: '2', WORKERS: '3' }).workers).toBe(3);
  });

  it('names the variable that is wrong', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => loadConfig({ WORKERS: '0' })).toThrow(/WORKERS/);
    expect(() => loadConfig({ DATABASE_SCHEMA: 'Robert"); DROP' })).toThrow(/DATABASE_SCHEMA/);
  });

  it('turns API_KEYS and API_KEYS_FILE into principals with quotas, and names a bad file', () => {
    const file = path.join(tmpdir(), `spikelab-keys-${process.pid}.json`);
    writeFileSync(file, JSON.stringify([{ name: 'ops', key: 'an-admin-key-0123456789', admin: true, quota: { queued: 3 } }]));
    const c = loadConfig({ API_KEYS: 'k1,k2', API_KEYS_FILE: file, QUOTA_QUEUED: '7' });
    expect(c.principals.map((p) => [p.name, p.admin, p.quota.queued])).toEqual([
      ['key-1', false, 7],
      ['key-2', false, 7],
      ['ops', true, 3],
    ]);
    // A plain key's id comes from the key, not its position.
    expect(loadConfig({ API_KEYS: 'k2,k1' }).principals.find((p) => p.key === 'k1')!.id).toBe(c.principals[0]!.id);
    writeFileSync(file, JSON.stringify([{ name: 'x', key: 'short' }]));
    expect(() => loadConfig({ API_KEYS_FILE: file })).toThrow(/API_KEYS_FILE: 0\.key: at least 16/);
    writeFileSync(file, '{not json');
    expect(() => loadConfig({ API_KEYS_FILE: file })).toThrow(ConfigError);
    expect(() => loadConfig({ API_KEYS: 'same,same' })).toThrow(/listed twice/);
  });
});
