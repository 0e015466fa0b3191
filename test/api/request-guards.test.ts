/**
 * Findings 7, 8 and 9 of issue 9 against a real server with real HTTP and WebSocket clients:
 * Origin checks on state-changing requests and upgrades, Host checks (DNS rebinding), no API key
 * in the log, NUL bytes and malformed URLs as 4xx in the one error shape, bounded echoes.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectDocumented } from '../helpers/openapi.js';
import { json, post, startServer, type TestServer } from '../helpers/server.js';
import { smallNetwork } from '../helpers/small-network.js';
import { openStream } from '../helpers/ws.js';

const scripted = new URL('../queue/fixtures/scripted-engine.ts', import.meta.url);
const definition = (name = 'x', train = 60_000) =>
  smallNetwork({ name, restBetweenSamplesMs: 20, dataset: { train, test: 0 }, checkpointEvery: 0 });

/** A raw request, so Host and the URL go out exactly as written (fetch normalizes both). */
function raw(port: number, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, headers, setHost: !('host' in headers) }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('without API keys (open, loopback)', () => {
  let server: TestServer;
  let port: number;
  const logLines: string[] = [];
  let running: string;
  beforeAll(async () => {
    server = await startServer(
      { CORS_ORIGINS: 'http://lab.example' },
      { app: { engineWorkerUrl: scripted, logger: { level: 'info', stream: { write: (line: string) => void logLines.push(line) } } } },
    );
    port = Number(new URL(server.url).port);
    const created = await post(`${server.url}/v1/experiments`, definition());
    expect(created.status).toBe(201);
    running = (await json(created)).id;
  });
  afterAll(async () => {
    await server?.close();
  });

  it('refuses a cross-site POST …/cancel and changes nothing; same-origin and listed origins pass', async () => {
    const evil = await fetch(`${server.url}/v1/experiments/${running}/cancel`, { method: 'POST', headers: { origin: 'http://evil.example' } });
    const body = await json(evil);
    expect(evil.status).toBe(403);
    expect(body).toMatchObject({ statusCode: 403, code: 'forbidden' });
    await expectDocumented('POST', '/v1/experiments/{id}/cancel', evil, body);
    expect(['queued', 'running']).toContain((await json(await fetch(`${server.url}/v1/experiments/${running}`))).status);
    const forged = await post(`${server.url}/v1/experiments`, definition(), { origin: 'null' });
    expect(forged.status).toBe(403);
    const same = await post(`${server.url}/v1/experiments`, definition('same', 10), { origin: server.url });
    expect(same.status).toBe(201);
    const listed = await post(`${server.url}/v1/experiments`, definition('listed', 10), { origin: 'http://lab.example' });
    expect(listed.status).toBe(201);
    // Reads stay possible cross-origin (CORS decides what the page may see).
    expect((await fetch(`${server.url}/v1/experiments`, { headers: { origin: 'http://evil.example' } })).status).toBe(200);
  });

  it('refuses a WebSocket upgrade from a disallowed origin (cross-site WebSocket hijacking)', async () => {
    const hijack = openStream(`${server.wsUrl}/v1/experiments/${running}/stream`, { origin: 'http://evil.example' });
    expect(await hijack.refused).toBe(403);
    const ok = openStream(`${server.wsUrl}/v1/experiments/${running}/stream`, { origin: 'http://lab.example' });
    await new Promise((r) => ok.ws.once('open', r));
    ok.ws.close();
  });

  it('refuses a Host that is not an IP literal or localhost (DNS rebinding)', async () => {
    const rebound = await raw(port, '/v1/experiments', { host: `attacker.example:${port}` });
    expect(rebound.status).toBe(403);
    expect(rebound.body).toMatchObject({ statusCode: 403, code: 'forbidden' });
    expect((await raw(port, '/v1/experiments', { host: `localhost:${port}` })).status).toBe(200);
    expect((await raw(port, '/v1/experiments', { host: `127.0.0.1:${port}` })).status).toBe(200);
    expect((await raw(port, '/v1/experiments', { host: `[::1]:${port}` })).status).toBe(200);
  });

  it('answers NUL bytes in ids, query and names with a 400, not a database error', async () => {
    for (const path of ['/v1/experiments/a%00b', `/v1/experiments/${running}%00/metrics`, '/v1/experiments?status=queued%00']) {
      const res = await fetch(`${server.url}${path}`);
      const body = await json(res);
      expect(res.status, path).toBe(400);
      expect(body).toMatchObject({ statusCode: 400, code: 'validation_error' });
    }
    const named = await post(`${server.url}/v1/experiments`, { ...definition(), name: 'a\u0000b' });
    const body = await json(named);
    expect(named.status).toBe(400);
    expect(body).toMatchObject({ code: 'validation_error', field: 'name' });
    await expectDocumented('POST', '/v1/experiments', named, body);
  });

  it('answers a malformed URL with a 400 in the usual error shape', async () => {
    for (const path of ['/v1/experiments/%E0%A4%A', '/v1/experiments/%', '/v1/experiments/%zz', `/v1/experiments/${'a'.repeat(10_000)}%`]) {
      const res = await raw(port, path);
      expect(res.status, path).toBe(400);
      expect(Object.keys(res.body).sort()).toEqual(['code', 'message', 'statusCode']);
      expect(res.body.statusCode).toBe(400);
      expect(res.body.message.length).toBeLessThanOrEqual(202);
    }
  });

  it('echoes an unknown field name truncated, in the body and in the log', async () => {
    const long = 'k'.repeat(20_000);
    const res = await post(`${server.url}/v1/experiments`, { ...definition(), [long]: 1 });
    const body = await json(res);
    expect(res.status).toBe(400);
    expect(body.code).toBe('unknown_field');
    expect(body.field.length).toBeLessThanOrEqual(80);
    expect(body.message.length).toBeLessThanOrEqual(200);
    expect(logLines.some((l) => l.includes('k'.repeat(1000)))).toBe(false);
  });
});

describe('with API keys', () => {
  let server: TestServer;
  const logLines: string[] = [];
  const secret = 'very-secret-key-0123456789';
  beforeAll(async () => {
    server = await startServer(
      { API_KEYS: secret, ALLOWED_HOSTS: 'lab.example' },
      { app: { engineWorkerUrl: scripted, logger: { level: 'info', stream: { write: (line: string) => void logLines.push(line) } } } },
    );
  });
  afterAll(async () => {
    await server?.close();
  });

  it('never writes an api_key given in the query string to the log', async () => {
    const port = Number(new URL(server.url).port);
    expect((await raw(port, `/v1/experiments?api_key=${secret}&limit=5`, { host: 'lab.example' })).status).toBe(200);
    // Other spellings of the parameter are not keys (401), and are still not logged.
    expect((await raw(port, `/v1/experiments?limit=5&API_KEY=${secret}`, { host: 'lab.example' })).status).toBe(401);
    expect([200, 401]).toContain((await raw(port, `/v1/experiments?api%5Fkey=${secret}`, { host: 'lab.example' })).status);
    expect((await raw(port, '/v1/experiments', { host: 'lab.example', authorization: `Bearer ${secret}` })).status).toBe(200);
    const stream = openStream(`ws://127.0.0.1:${port}/v1/experiments/nope/stream?api_key=${secret}`, { host: 'lab.example' });
    expect((await stream.closed).code).toBe(4404);
    const all = logLines.join('\n');
    expect(all).toContain('api_key=[REDACTED]');
    expect(all).not.toContain(secret);
  });

  it('accepts only ALLOWED_HOSTS when set', async () => {
    const port = Number(new URL(server.url).port);
    expect((await raw(port, '/health', { host: 'lab.example' })).status).toBe(200);
    expect((await raw(port, '/health', { host: `127.0.0.1:${port}` })).status).toBe(403);
  });
});
