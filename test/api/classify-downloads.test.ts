/**
 * Findings 3 and 4 of issue 9, against a real server: classify has a cost bound, a timeout, and
 * is abandoned when its client goes away (a slow request no longer starves the next one);
 * weights downloads are streamed, bounded in number, and leave memory and /health alone.
 * The scripted engine supplies the models: one whose classification busy-waits 5 s (an engine
 * loop nothing interrupts from outside), one of 6,400 neurons with realistic float weights.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectDocumented } from '../helpers/openapi.js';
import { json, post, startServer, waitFor, type TestServer } from '../helpers/server.js';

const scripted = new URL('../queue/fixtures/scripted-engine.ts', import.meta.url);
const model = (name: string, neurons = 10) => ({
  name,
  layers: [
    { id: 'X', type: 'input', size: 784 },
    { id: 'Ae', type: 'adaptive-lif', size: neurons },
    { id: 'Ai', type: 'lif', size: neurons },
  ],
  connections: [
    { from: 'X', to: 'Ae', type: 'dense' },
    { from: 'Ae', to: 'Ai', type: 'one-to-one', weight: 22.5 },
    { from: 'Ai', to: 'Ae', type: 'all-but-self', weight: -120 },
  ],
  dataset: { train: 2, test: 0 },
  stream: { weightsEvery: 0 },
  checkpointEvery: 0,
});
const image = () => new Array(784).fill(0);

let server: TestServer;
let fast: string;
let slow: string;
let big: string;
beforeAll(async () => {
  // Per image: (784 + 10 + 10) neurons × 250 steps ≈ 2.0e5 neuron-steps; 4 images fit, 5 do not.
  server = await startServer(
    { MAX_CLASSIFY_COST: '900000', CLASSIFY_TIMEOUT_MS: '1500', MAX_CONCURRENT_DOWNLOADS: '4' },
    { app: { engineWorkerUrl: scripted } },
  );
  const submit = async (body: object) => {
    const res = await post(`${server.url}/v1/experiments`, body);
    expect(res.status).toBe(201);
    return (await json(res)).id as string;
  };
  [fast, slow, big] = [await submit(model('fast')), await submit(model('slow-classify')), await submit(model('real-weights', 6400))];
  for (const id of [fast, slow, big]) {
    await waitFor(async () => (await json(await fetch(`${server.url}/v1/experiments/${id}`))).status === 'completed', { what: id });
  }
});
afterAll(async () => {
  await server?.close();
});

const classify = (id: string, n: number, signal?: AbortSignal) =>
  fetch(`${server.url}/v1/experiments/${id}/classify`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ images: Array.from({ length: n }, image) }),
    signal,
  });

describe('classify', () => {
  it('refuses a request over MAX_CLASSIFY_COST with the estimate and the cap', async () => {
    const res = await classify(fast, 5);
    const body = await json(res);
    expect(res.status).toBe(400);
    expect(body).toMatchObject({ code: 'limit_exceeded', field: 'images' });
    expect(body.message).toMatch(/estimated at 1\.0\de\+6 neuron-steps, over the limit MAX_CLASSIFY_COST = 9\.00e\+5/);
    await expectDocumented('POST', '/v1/experiments/{id}/classify', res, body);
    expect((await classify(fast, 4)).status).toBe(200);
  });

  it('ends a classification that runs past CLASSIFY_TIMEOUT_MS, and the next one is served at once', async () => {
    const t0 = Date.now();
    const res = await classify(slow, 1);
    const body = await json(res);
    expect(res.status).toBe(503);
    expect(body.code).toBe('timeout');
    expect(Date.now() - t0).toBeLessThan(3000);
    await expectDocumented('POST', '/v1/experiments/{id}/classify', res, body);
    const t1 = Date.now();
    expect((await classify(fast, 1)).status).toBe(200);
    expect(Date.now() - t1).toBeLessThan(1500);
  });

  it('abandons a classification whose client went away, so it does not starve the next', async () => {
    const gone = new AbortController();
    const abandoned = classify(slow, 1, gone.signal).catch(() => null);
    await new Promise((r) => setTimeout(r, 300));
    gone.abort();
    await abandoned;
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    expect((await classify(fast, 1)).status).toBe(200);
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});

/** Starts a download and reads it only when told to. */
function slowDownload(url: string) {
  let resolveHead!: (r: http.IncomingMessage) => void;
  const head = new Promise<http.IncomingMessage>((r) => (resolveHead = r));
  const req = http.get(url, (res) => {
    res.pause();
    resolveHead(res);
  });
  req.on('error', () => {});
  return {
    head,
    /** The body, or only its length when `keep` is false (the test client shares the server's memory). */
    async read(keep: boolean): Promise<{ bytes: number; body?: Buffer }> {
      const res = await head;
      const chunks: Buffer[] = [];
      let bytes = 0;
      for await (const c of res) {
        bytes += (c as Buffer).byteLength;
        if (keep) chunks.push(c as Buffer);
      }
      return { bytes, body: keep ? Buffer.concat(chunks) : undefined };
    },
  };
}

async function healthP99(n: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fetch(`${server.url}/health`);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(0.99 * (times.length - 1))]!;
}

describe('weights downloads', () => {
  it('streams the JSON of a 6,400-neuron model: chunked, exact, and without building it in memory', async () => {
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    let rssMax = rssBefore;
    const sampler = setInterval(() => (rssMax = Math.max(rssMax, process.memoryUsage().rss)), 20);
    const downloads = Array.from({ length: 4 }, () => slowDownload(`${server.url}/v1/experiments/${big}/weights?format=json`));
    const heads = await Promise.all(downloads.map((d) => d.head));
    for (const h of heads) {
      expect(h.statusCode).toBe(200);
      expect(h.headers['content-length']).toBeUndefined();
      expect(h.headers['transfer-encoding']).toBe('chunked');
    }
    // While four clients hold their downloads open, a fifth is refused and /health stays fast.
    const fifth = await fetch(`${server.url}/v1/experiments/${big}/weights?format=json`);
    const fifthBody = await json(fifth);
    expect(fifth.status).toBe(503);
    expect(fifthBody.message).toMatch(/MAX_CONCURRENT_DOWNLOADS/);
    await expectDocumented('GET', '/v1/experiments/{id}/weights', fifth, fifthBody);
    expect(await healthP99(30)).toBeLessThan(100);
    // Held open for a while: a server that built the bodies in memory holds them all now.
    await new Promise((r) => setTimeout(r, 1000));
    clearInterval(sampler);
    // Four ~100 MB JSON documents built at once would take far more than this.
    expect(rssMax - rssBefore).toBeLessThan(200 * 1024 * 1024);
    const bodies = await Promise.all(downloads.map((d, i) => d.read(i === 0)));
    const parsed = JSON.parse(bodies[0]!.body!.toString('utf8'));
    expect(parsed.shape).toEqual([784, 6400]);
    expect(parsed.data).toHaveLength(784 * 6400);
    for (const i of [0, 1, 12345, 784 * 6400 - 1]) expect(parsed.data[i]).toBe(Math.fround(0.5 + 0.5 * Math.sin(i)));
    expect(bodies.every((b) => b.bytes === bodies[0]!.bytes)).toBe(true);
  });

  it('streams the .npy byte-exactly', async () => {
    const res = await fetch(`${server.url}/v1/experiments/${big}/weights?format=npy`);
    expect(res.status).toBe(200);
    const bytes = Buffer.from(await res.arrayBuffer());
    const artifacts = (await server.lab.store.loadArtifacts(big))!;
    expect(bytes.subarray(bytes.byteLength - artifacts.weights.byteLength).equals(Buffer.from(artifacts.weights.buffer))).toBe(true);
    expect(bytes.subarray(0, 6).toString('latin1')).toBe('\x93NUMPY');
  });
});
