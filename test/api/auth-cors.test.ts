/** API keys on /v1 (header or query, stream included), open health/metrics, and the CORS allowlist. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectDocumented } from '../helpers/openapi.js';
import { json, post, startServer, type TestServer } from '../helpers/server.js';
import { openStream } from '../helpers/ws.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ API_KEYS: 'alpha-key, beta-key', CORS_ORIGINS: 'http://lab.example' });
});
afterAll(async () => {
  await server?.close();
});

describe('API keys', () => {
  it('rejects /v1 requests without a valid key and changes nothing', async () => {
    const attempts: Record<string, string>[] = [{}, { authorization: 'Bearer wrong' }, { authorization: 'Basic YWxwaGEta2V5' }];
    for (const headers of attempts) {
      const res = await fetch(`${server.url}/v1/presets`, { headers });
      const body = await json(res);
      expect(res.status).toBe(401);
      expect(body.code).toBe('unauthorized');
      await expectDocumented('GET', '/v1/presets', res, body);
    }
    const created = await post(`${server.url}/v1/experiments`, { preset: 'diehl-cook-2015', neurons: 10, train: 10, test: 10 });
    expect(created.status).toBe(401);
    const list = await json(await fetch(`${server.url}/v1/experiments`, { headers: { authorization: 'Bearer alpha-key' } }));
    expect(list.total).toBe(0);
  });

  it('cannot be bypassed with a percent-encoded or otherwise spelled path to a /v1 route', async () => {
    for (const path of ['/%761/experiments', '/%76%31/presets', '/v1//experiments', '/v1/experiments/']) {
      const res = await fetch(`${server.url}${path}`);
      expect([401, 404], path).toContain(res.status);
    }
    const encoded = await fetch(`${server.url}/%761/experiments`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"preset":"diehl-cook-2015"}' });
    expect(encoded.status).toBe(401);
  });

  it('accepts any configured key as a bearer token or as ?api_key=', async () => {
    expect((await fetch(`${server.url}/v1/presets`, { headers: { authorization: 'Bearer beta-key' } })).status).toBe(200);
    expect((await fetch(`${server.url}/v1/experiments?api_key=alpha-key&limit=5`)).status).toBe(200);
  });

  it('keeps /health and /metrics open', async () => {
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    expect((await fetch(`${server.url}/metrics`)).status).toBe(200);
  });

  it('guards the stream: refused without a key, open with ?api_key=', async () => {
    const refused = openStream(`${server.wsUrl}/v1/experiments/x/stream`);
    expect(await refused.refused).toBe(401);
    const allowed = openStream(`${server.wsUrl}/v1/experiments/x/stream?api_key=alpha-key`);
    expect((await allowed.closed).code).toBe(4404);
    const viaHeader = openStream(`${server.wsUrl}/v1/experiments/x/stream`, { authorization: 'Bearer beta-key' });
    expect((await viaHeader.closed).code).toBe(4404);
  });
});

describe('CORS', () => {
  it('allows listed origins and no others', async () => {
    const preflight = (origin: string) =>
      fetch(`${server.url}/v1/experiments`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
      });
    const ok = await preflight('http://lab.example');
    expect(ok.headers.get('access-control-allow-origin')).toBe('http://lab.example');
    expect(ok.headers.get('access-control-allow-headers')).toContain('authorization');
    const other = await preflight('http://evil.example');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const simple = await fetch(`${server.url}/health`, { headers: { origin: 'http://lab.example' } });
    expect(simple.headers.get('access-control-allow-origin')).toBe('http://lab.example');
  });
});
