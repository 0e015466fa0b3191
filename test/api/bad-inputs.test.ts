/**
 * Every kind of bad input gets its documented 4xx in the one error shape, and changes nothing:
 * the experiment count and the existing experiment are the same afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectDocumented } from '../helpers/openapi.js';
import { json, post, startServer, waitFor, type TestServer } from '../helpers/server.js';
import { openStream } from '../helpers/ws.js';
import { smallNetwork } from '../helpers/small-network.js';

let server: TestServer;
let finishedId: string;
let runningId: string;
const small = { preset: 'diehl-cook-2015', neurons: 10, train: 100, test: 20 };

beforeAll(async () => {
  server = await startServer({ MAX_NEURONS: '400', MAX_TRAIN_SAMPLES: '5000', MAX_EPOCHS: '3', MAX_BODY_BYTES: '200000', MAX_CLASSIFY_IMAGES: '5' });
  finishedId = (await json(await post(`${server.url}/v1/experiments`, small))).id;
  await waitFor(async () => (await json(await fetch(`${server.url}/v1/experiments/${finishedId}`))).status === 'completed', {
    what: 'completion',
  });
  runningId = (await json(await post(`${server.url}/v1/experiments`, { ...small, train: 5000, timePerSampleMs: 1000 }))).id;
});
afterAll(async () => {
  await server?.close();
});

async function snapshot() {
  const list = await json(await fetch(`${server.url}/v1/experiments`));
  const finished = await json(await fetch(`${server.url}/v1/experiments/${finishedId}`));
  const { progress: _p, ...stable } = finished;
  return { total: list.total, ids: list.items.map((x: { id: string }) => x.id), finished: stable };
}

interface Case {
  name: string;
  method: 'GET' | 'POST' | 'DELETE';
  path: () => string;
  template: string;
  body?: string;
  contentType?: string;
  status: number;
  code: string;
  field?: string;
  message?: RegExp;
}

const image = () => new Array(784).fill(0);
const experimentsPath = () => '/v1/experiments';
const fullDefinition = (patch: (d: any) => void) => {
  const d = smallNetwork({ dataset: { train: 10, test: 10 } });
  patch(d);
  return JSON.stringify(d);
};

const cases: Case[] = [
  { name: 'malformed JSON', method: 'POST', path: experimentsPath, template: '/v1/experiments', body: '{"preset": "diehl-cook-2015",', status: 400, code: 'invalid_json' },
  { name: 'a JSON array', method: 'POST', path: experimentsPath, template: '/v1/experiments', body: '[1,2]', status: 400, code: 'validation_error' },
  { name: 'no body', method: 'POST', path: experimentsPath, template: '/v1/experiments', body: '', status: 400, code: 'validation_error' },
  { name: 'not JSON', method: 'POST', path: experimentsPath, template: '/v1/experiments', body: 'preset=x', contentType: 'text/plain', status: 415, code: 'unsupported_media_type' },
  { name: 'wrong type', method: 'POST', path: experimentsPath, template: '/v1/experiments', body: JSON.stringify({ ...small, neurons: '100' }), status: 400, code: 'validation_error', field: 'neurons' },
  { name: 'negative count', method: 'POST', path: experimentsPath, template: '/v1/experiments', body: JSON.stringify({ ...small, train: -1 }), status: 400, code: 'validation_error', field: 'train' },
  { name: 'unknown preset', method: 'POST', path: experimentsPath, template: '/v1/experiments', body: JSON.stringify({ ...small, preset: 'nope' }), status: 400, code: 'validation_error', field: 'preset' },
  { name: 'unknown top-level field', method: 'POST', path: experimentsPath, template: '/v1/experiments', body: JSON.stringify({ ...small, learningRate: 1 }), status: 400, code: 'unknown_field', field: 'learningRate' },
  { name: 'unknown nested field', method: 'POST', path: experimentsPath, template: '/v1/experiments', body: fullDefinition((d) => (d.layers[1].gain = 2)), status: 400, code: 'unknown_field', field: 'layers.1.gain' },
  { name: 'wrong nested type', method: 'POST', path: experimentsPath, template: '/v1/experiments', body: fullDefinition((d) => (d.dataset.train = 'ten')), status: 400, code: 'validation_error', field: 'dataset.train' },
  { name: 'a topology the engine cannot run', method: 'POST', path: experimentsPath, template: '/v1/experiments', body: JSON.stringify({ ...small, stream: { voltageNeurons: [50] } }), status: 400, code: 'validation_error', field: 'stream.voltageNeurons.0' },
  { name: 'too many neurons (preset)', method: 'POST', path: experimentsPath, template: '/v1/experiments', body: JSON.stringify({ ...small, neurons: 100_000 }), status: 400, code: 'limit_exceeded', field: 'neurons', message: /MAX_NEURONS = 400/ },
  { name: 'too many neurons (definition)', method: 'POST', path: experimentsPath, template: '/v1/experiments', body: fullDefinition((d) => ((d.layers[1].size = 1000), (d.layers[2].size = 1000))), status: 400, code: 'limit_exceeded', field: 'layers.1.size', message: /MAX_NEURONS/ },
  { name: 'too many samples', method: 'POST', path: experimentsPath, template: '/v1/experiments', body: JSON.stringify({ ...small, train: 6000 }), status: 400, code: 'limit_exceeded', field: 'train', message: /MAX_TRAIN_SAMPLES = 5000/ },
  { name: 'too many epochs', method: 'POST', path: experimentsPath, template: '/v1/experiments', body: JSON.stringify({ ...small, epochs: 4 }), status: 400, code: 'limit_exceeded', field: 'epochs' },
  { name: 'too long per sample', method: 'POST', path: experimentsPath, template: '/v1/experiments', body: JSON.stringify({ ...small, timePerSampleMs: 5000 }), status: 400, code: 'limit_exceeded', field: 'timePerSampleMs', message: /MAX_TIME_PER_SAMPLE_MS/ },
  { name: 'body over MAX_BODY_BYTES', method: 'POST', path: experimentsPath, template: '/v1/experiments', body: JSON.stringify({ ...small, name: 'x'.repeat(250_000) }), status: 413, code: 'payload_too_large', message: /MAX_BODY_BYTES = 200000/ },
  { name: 'unknown query parameter', method: 'GET', path: () => '/v1/experiments?sort=name', template: '/v1/experiments', status: 400, code: 'unknown_field', field: 'sort' },
  { name: 'bad status filter', method: 'GET', path: () => '/v1/experiments?status=done', template: '/v1/experiments', status: 400, code: 'validation_error', field: 'status' },
  { name: 'bad page size', method: 'GET', path: () => '/v1/experiments?limit=0', template: '/v1/experiments', status: 400, code: 'validation_error', field: 'limit' },
  { name: 'unknown id', method: 'GET', path: () => '/v1/experiments/nope', template: '/v1/experiments/{id}', status: 404, code: 'not_found' },
  { name: 'unknown id: cancel', method: 'POST', path: () => '/v1/experiments/nope/cancel', template: '/v1/experiments/{id}/cancel', status: 404, code: 'not_found' },
  { name: 'unknown id: delete', method: 'DELETE', path: () => '/v1/experiments/nope', template: '/v1/experiments/{id}', status: 404, code: 'not_found' },
  { name: 'unknown id: metrics', method: 'GET', path: () => '/v1/experiments/nope/metrics', template: '/v1/experiments/{id}/metrics', status: 404, code: 'not_found' },
  { name: 'unknown id: weights', method: 'GET', path: () => '/v1/experiments/nope/weights', template: '/v1/experiments/{id}/weights', status: 404, code: 'not_found' },
  { name: 'unknown id: confusion', method: 'GET', path: () => '/v1/experiments/nope/confusion', template: '/v1/experiments/{id}/confusion', status: 404, code: 'not_found' },
  { name: 'unknown id: classify', method: 'POST', path: () => '/v1/experiments/nope/classify', template: '/v1/experiments/{id}/classify', body: JSON.stringify({ images: [image()] }), status: 404, code: 'not_found' },
  { name: 'bad weights format', method: 'GET', path: () => `/v1/experiments/${finishedId}/weights?format=bmp`, template: '/v1/experiments/{id}/weights', status: 400, code: 'validation_error', field: 'format' },
  { name: 'weights before the end', method: 'GET', path: () => `/v1/experiments/${runningId}/weights`, template: '/v1/experiments/{id}/weights', status: 409, code: 'not_ready' },
  { name: 'confusion before the end', method: 'GET', path: () => `/v1/experiments/${runningId}/confusion`, template: '/v1/experiments/{id}/confusion', status: 409, code: 'not_ready' },
  { name: 'classify before the end', method: 'POST', path: () => `/v1/experiments/${runningId}/classify`, template: '/v1/experiments/{id}/classify', body: JSON.stringify({ images: [image()] }), status: 409, code: 'not_ready' },
  { name: 'cancel a finished experiment', method: 'POST', path: () => `/v1/experiments/${finishedId}/cancel`, template: '/v1/experiments/{id}/cancel', status: 409, code: 'conflict' },
  { name: 'classify: pixel over 255', method: 'POST', path: () => `/v1/experiments/${finishedId}/classify`, template: '/v1/experiments/{id}/classify', body: JSON.stringify({ images: [image(), [...image().slice(0, 5), 256, ...image().slice(6)]] }), status: 400, code: 'validation_error', field: 'images.1.5' },
  { name: 'classify: fractional pixel in a row', method: 'POST', path: () => `/v1/experiments/${finishedId}/classify`, template: '/v1/experiments/{id}/classify', body: JSON.stringify({ images: [Array.from({ length: 28 }, (_, r) => new Array(28).fill(r === 3 ? 0.5 : 0))] }), status: 400, code: 'validation_error', field: 'images.0.3.0' },
  { name: 'classify: wrong image size', method: 'POST', path: () => `/v1/experiments/${finishedId}/classify`, template: '/v1/experiments/{id}/classify', body: JSON.stringify({ images: [new Array(100).fill(0)] }), status: 400, code: 'validation_error', field: 'images.0' },
  { name: 'classify: ragged rows', method: 'POST', path: () => `/v1/experiments/${finishedId}/classify`, template: '/v1/experiments/{id}/classify', body: JSON.stringify({ images: [Array.from({ length: 28 }, (_, r) => new Array(r === 27 ? 27 : 28).fill(0))] }), status: 400, code: 'validation_error', field: 'images.0.27' },
  { name: 'classify: no images', method: 'POST', path: () => `/v1/experiments/${finishedId}/classify`, template: '/v1/experiments/{id}/classify', body: JSON.stringify({ images: [] }), status: 400, code: 'validation_error', field: 'images' },
  { name: 'classify: images not an array', method: 'POST', path: () => `/v1/experiments/${finishedId}/classify`, template: '/v1/experiments/{id}/classify', body: JSON.stringify({ images: 'cat.png' }), status: 400, code: 'validation_error', field: 'images' },
  { name: 'classify: too many images', method: 'POST', path: () => `/v1/experiments/${finishedId}/classify`, template: '/v1/experiments/{id}/classify', body: JSON.stringify({ images: new Array(6).fill(image()) }), status: 400, code: 'limit_exceeded', field: 'images', message: /MAX_CLASSIFY_IMAGES = 5/ },
  { name: 'classify: unknown field', method: 'POST', path: () => `/v1/experiments/${finishedId}/classify`, template: '/v1/experiments/{id}/classify', body: JSON.stringify({ images: [image()], topK: 3 }), status: 400, code: 'unknown_field', field: 'topK' },
  { name: 'classify: malformed JSON', method: 'POST', path: () => `/v1/experiments/${finishedId}/classify`, template: '/v1/experiments/{id}/classify', body: '{"images": [[0,0', status: 400, code: 'invalid_json' },
];

describe('bad inputs', () => {
  it.each(cases)('$name → $status $code', async (c) => {
    const before = await snapshot();
    const headers: Record<string, string> = {};
    if (c.body !== undefined) headers['content-type'] = c.contentType ?? 'application/json';
    const res = await fetch(`${server.url}${c.path()}`, { method: c.method, headers, body: c.body });
    const body = await json(res);
    expect(res.status).toBe(c.status);
    expect(body.code).toBe(c.code);
    expect(body.statusCode).toBe(c.status);
    if (c.field) expect(body.field).toBe(c.field);
    if (c.message) expect(body.message).toMatch(c.message);
    await expectDocumented(c.method, c.template, res, body);
    expect(await snapshot()).toEqual(before);
  });

  it('answers an unknown route with the same error shape', async () => {
    const res = await fetch(`${server.url}/v2/nothing`);
    expect(res.status).toBe(404);
    expect(await json(res)).toEqual({ statusCode: 404, code: 'not_found', message: 'no route GET /v2/nothing' });
  });

  it('refuses a stream with bad query parameters before the upgrade', async () => {
    const stream = openStream(`${server.wsUrl}/v1/experiments/${finishedId}/stream?channels=progress,gossip`);
    expect(await stream.refused).toBe(400);
  });

  it('closes the stream of an unknown experiment with 4404', async () => {
    const stream = openStream(`${server.wsUrl}/v1/experiments/nope/stream`);
    expect(await stream.closed).toEqual({ code: 4404, reason: 'experiment not found' });
  });

  it('echoes a request id in every response', async () => {
    const res = await fetch(`${server.url}/v1/experiments/nope`);
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});
