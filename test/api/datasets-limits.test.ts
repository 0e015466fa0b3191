/**
 * The bounds of uploads that need their own server settings: a stalled upload ends with a 408
 * after DATASET_UPLOAD_TIMEOUT_MS (and leaves nothing behind), and MAX_DATASETS records is the most
 * the server keeps.
 */
import http from 'node:http';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { form, idx } from '../helpers/datasets.js';
import { json, startServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ DATASET_UPLOAD_TIMEOUT_MS: '500', MAX_DATASETS: '2' });
});
afterAll(async () => {
  await server?.close();
});

describe('upload bounds', () => {
  it('a stalled upload gets 408 after DATASET_UPLOAD_TIMEOUT_MS and leaves nothing behind', async () => {
    const { port } = new URL(server.url);
    const boundary = 'spikelabboundary';
    const started = Date.now();
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/datasets', headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'transfer-encoding': 'chunked' } }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.on('error', reject);
      // The start of a file part, then nothing more: the client stalls.
      req.write(`--${boundary}\r\ncontent-disposition: form-data; name="trainImages"; filename="x-ubyte"\r\ncontent-type: application/octet-stream\r\n\r\n`);
      req.write(Buffer.alloc(1000, 1));
    });
    expect(answer.status).toBe(408);
    expect(JSON.parse(answer.body)).toMatchObject({ code: 'request_timeout', message: expect.stringMatching(/DATASET_UPLOAD_TIMEOUT_MS = 500 ms/) });
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
    await new Promise((r) => setTimeout(r, 100));
    expect(await readdir(path.join(server.dataDir, 'uploads'))).toEqual([]);
    expect((await json(await fetch(`${server.url}/v1/datasets`))).total).toBe(0);
  });

  it('keeps at most MAX_DATASETS datasets (409 naming the limit)', async () => {
    const one = (v: number) => form({ trainImages: { bytes: idx([1, 2, 2], new Uint8Array(4).fill(v)), filename: 'a-ubyte' } });
    expect((await fetch(`${server.url}/v1/datasets`, { method: 'POST', body: one(1) })).status).toBe(201);
    expect((await fetch(`${server.url}/v1/datasets`, { method: 'POST', body: one(2) })).status).toBe(201);
    const third = await fetch(`${server.url}/v1/datasets`, { method: 'POST', body: one(3) });
    expect(third.status).toBe(409);
    expect((await json(third)).message).toMatch(/MAX_DATASETS = 2/);
  });
});
