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

  it('names the variable that is wrong', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => loadConfig({ WORKERS: '0' })).toThrow(/WORKERS/);
    expect(() => loadConfig({ DATABASE_SCHEMA: 'Robert"); DROP' })).toThrow(/DATABASE_SCHEMA/);
  });
});
