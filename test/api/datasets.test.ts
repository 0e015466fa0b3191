/**
 * Datasets over real HTTP against a real listening server (embedded store): upload in the
 * documented multipart shape, describe, preview, deduplicate, train on it, download the weights,
 * delete — and every bad upload rejected with a 4xx naming the problem, leaving nothing behind.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMnist } from '../../src/io/mnist.js';
import { decodeNpyFloat32 } from '../../src/io/npy.js';
import { encodeNmnist, eventsToSpikeTrain } from '../../src/data/events.js';
import { movingBars } from '../../src/data/generators.js';
import { bytesOf, form, idx, npy, shapesIdx } from '../helpers/datasets.js';
import { expectDocumented } from '../helpers/openapi.js';
import { json, post, startServer, waitFor, type TestServer } from '../helpers/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ MAX_DATASET_BYTES: String(2 * 1024 * 1024) });
});
afterAll(async () => {
  await server?.close();
});

async function upload(fd: FormData) {
  const res = await fetch(`${server.url}/v1/datasets`, { method: 'POST', body: fd });
  const body = await json(res);
  await expectDocumented('POST', '/v1/datasets', res, body);
  return { res, body };
}

const storedDirs = async () => (await readdir(path.join(server.dataDir, 'datasets'))).sort();
const uploadLeftovers = async () => readdir(path.join(server.dataDir, 'uploads'));

const waitDone = (id: string) =>
  waitFor(async () => {
    const e = await json(await fetch(`${server.url}/v1/experiments/${id}`));
    return ['completed', 'failed', 'cancelled'].includes(e.status) ? e : undefined;
  }, { what: 'experiment end', timeoutMs: 120_000 });

describe('datasets API', () => {
  const set = shapesIdx(800, 200);
  let id: string;
  let sha: string;

  it('stores an IDX upload and describes it', async () => {
    const { trainImages, trainLabels, testImages, testLabels } = set;
    const { res, body } = await upload(form({ trainImages, trainLabels, testImages, testLabels }, { name: 'shapes 16×16' }));
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe(`/v1/datasets/${body.id}`);
    expect(body).toMatchObject({
      name: 'shapes 16×16',
      kind: 'images',
      shape: { height: 16, width: 16, channels: 1 },
      classes: 4,
      labelled: true,
      train: { count: 800, classCounts: [200, 200, 200, 200] },
      test: { count: 200, classCounts: [50, 50, 50, 50] },
      deduplicated: false,
    });
    expect(body.sha256).toMatch(/^[0-9a-f]{64}$/);
    id = body.id;
    sha = body.sha256;
    expect(await storedDirs()).toEqual([sha]);

    const got = await fetch(`${server.url}/v1/datasets/${id}`);
    const detail = await json(got);
    await expectDocumented('GET', '/v1/datasets/{id}', got, detail);
    expect(detail).toMatchObject({ id, sha256: sha, usedBy: [] });

    const list = await fetch(`${server.url}/v1/datasets`);
    const page = await json(list);
    await expectDocumented('GET', '/v1/datasets', list, page);
    expect(page.items.map((d: { id: string }) => d.id)).toEqual([id]);
    expect(page.total).toBe(1);
  });

  it('draws a preview of the first samples', async () => {
    const res = await fetch(`${server.url}/v1/datasets/${id}/preview.png?count=4&scale=1`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    const png = PNG.sync.read(Buffer.from(await res.arrayBuffer()));
    // 2×2 tiles of 16×16 with 1-pixel gaps.
    expect([png.width, png.height]).toEqual([2 * 17 + 1, 2 * 17 + 1]);
    // Tile 0 is training image 0, pixel for pixel.
    for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) expect(png.data[((1 + y) * png.width + 1 + x) * 4]).toBe(set.raw.train.images[y * 16 + x]);
  });

  it('stores identical content once: the same data as NPY (int64 labels, float32 in [0, 1]) is the same dataset', async () => {
    const tr = set.raw.train;
    const te = set.raw.test;
    const f32 = (b: Uint8Array) => bytesOf(Float32Array.from(b, (v) => v / 255));
    const i64 = (b: Uint8Array) => bytesOf(BigInt64Array.from(b, (v) => BigInt(v)));
    const { res, body } = await upload(
      form({
        trainImages: { bytes: npy('<f4', [800, 256], f32(tr.images)), filename: 'x_train.npy' },
        trainLabels: { bytes: npy('<i8', [800], i64(tr.labels)), filename: 'y_train.npy' },
        testImages: { bytes: npy('<f4', [200, 16, 16], f32(te.images)), filename: 'x_test.npy' },
        testLabels: { bytes: npy('<i8', [200], i64(te.labels)), filename: 'y_test.npy' },
      }),
    );
    expect(res.status).toBe(200);
    expect(body).toMatchObject({ id, sha256: sha, deduplicated: true });
    expect(await storedDirs()).toEqual([sha]);
  });

  it('trains a 16×16 network on it far above chance, and the weights follow 16×16', async () => {
    const res = await post(`${server.url}/v1/experiments`, {
      preset: 'diehl-cook-2015', neurons: 16, seed: 3, dataset: { id }, labelUpdateInterval: 200,
      stream: { spikesEvery: 0, weightsEvery: 0 },
    });
    const created = await json(res);
    expect(res.status, JSON.stringify(created)).toBe(201);
    expect(created.definition.layers[0].size).toBe(256);
    expect(created.definition.dataset).toMatchObject({ name: 'upload', id, train: 800, test: 200, resolved: { sha256: sha, height: 16, width: 16 } });
    const done = await waitDone(created.id);
    expect(done.status, done.error).toBe('completed');
    // 4 classes: chance is 25 %.
    expect(done.result.accuracy.allActivity).toBeGreaterThan(0.7);
    console.log(`shapes 16×16, 16 neurons, 800 train: test accuracy ${done.result.accuracy.allActivity}`);
    const conf = await json(await fetch(`${server.url}/v1/experiments/${created.id}/confusion`));
    expect(conf.labels).toEqual([0, 1, 2, 3]);

    const npyRes = await fetch(`${server.url}/v1/experiments/${created.id}/weights?format=npy`);
    const w = decodeNpyFloat32(new Uint8Array(await npyRes.arrayBuffer()));
    expect(w.shape).toEqual([256, 16]);
    const pngRes = await fetch(`${server.url}/v1/experiments/${created.id}/weights?format=png`);
    const png = PNG.sync.read(Buffer.from(await pngRes.arrayBuffer()));
    expect([png.width, png.height]).toEqual([4 * 17 + 1, 4 * 17 + 1]);

    // Classify takes 16×16 images now.
    const cls = await post(`${server.url}/v1/experiments/${created.id}/classify`, { images: [Array.from(set.raw.test.images.subarray(0, 256))] });
    expect(cls.status).toBe(200);
    const bad = await post(`${server.url}/v1/experiments/${created.id}/classify`, { images: [new Array(784).fill(0)] });
    expect(bad.status).toBe(400);
    expect((await json(bad)).message).toMatch(/256 pixel values or 16 rows of 16/);
  });

  it('refuses to delete a dataset a queued or running experiment uses (409), deletes it otherwise', async () => {
    const res = await post(`${server.url}/v1/experiments`, {
      preset: 'diehl-cook-2015', neurons: 16, dataset: { id }, epochs: 10, stream: { spikesEvery: 0, weightsEvery: 0 },
    });
    const exp = await json(res);
    expect(res.status).toBe(201);
    const del = await fetch(`${server.url}/v1/datasets/${id}`, { method: 'DELETE' });
    const body = await json(del);
    await expectDocumented('DELETE', '/v1/datasets/{id}', del, body);
    expect(del.status).toBe(409);
    expect(body.message).toContain(exp.id);
    await post(`${server.url}/v1/experiments/${exp.id}/cancel`, {});
    const del2 = await fetch(`${server.url}/v1/datasets/${id}`, { method: 'DELETE' });
    expect(del2.status).toBe(204);
    expect((await fetch(`${server.url}/v1/datasets/${id}`)).status).toBe(404);
    expect(await storedDirs()).toEqual([]);
    // An experiment naming a deleted dataset is a 400 naming the field.
    const again = await post(`${server.url}/v1/experiments`, { preset: 'diehl-cook-2015', dataset: { id } });
    expect(again.status).toBe(400);
    expect(await json(again)).toMatchObject({ field: 'dataset.id' });
  });
});

describe('unlabelled datasets', () => {
  it('train and show receptive fields, with no accuracy; scoring them is a 400 naming the field', async () => {
    const set = shapesIdx(300, 10, 9);
    const { res, body } = await upload(form({ trainImages: set.trainImages }));
    expect(res.status).toBe(201);
    expect(body).toMatchObject({ labelled: false, classes: 1, train: { count: 300, classCounts: null }, test: { count: 0 } });
    const scored = await post(`${server.url}/v1/experiments`, { preset: 'diehl-cook-2015', neurons: 9, dataset: { id: body.id }, validation: 10 });
    expect(scored.status).toBe(400);
    expect(await json(scored)).toMatchObject({ field: 'dataset.validation', message: expect.stringMatching(/no labels/) });
    const sub = await post(`${server.url}/v1/experiments`, { preset: 'diehl-cook-2015', neurons: 9, dataset: { id: body.id }, labelUpdateInterval: 100, stream: { spikesEvery: 0, weightsEvery: 0 } });
    const exp = await json(sub);
    expect(sub.status, JSON.stringify(exp)).toBe(201);
    const done = await waitDone(exp.id);
    expect(done.status, done.error).toBe('completed');
    expect(done.result.accuracy).toEqual({ allActivity: null, proportionWeighting: null });
    const metrics = await json(await fetch(`${server.url}/v1/experiments/${exp.id}/metrics`));
    expect(metrics.items.length).toBe(3);
    for (const m of metrics.items) expect(m.accuracy).toEqual({ allActivity: null, proportionWeighting: null });
    const png = PNG.sync.read(Buffer.from(await (await fetch(`${server.url}/v1/experiments/${exp.id}/weights?format=png`)).arrayBuffer()));
    expect([png.width, png.height]).toEqual([3 * 17 + 1, 3 * 17 + 1]);
    expect((await fetch(`${server.url}/v1/datasets/${body.id}`, { method: 'DELETE' })).status).toBe(204);
  });
});

describe('an upload of MNIST images is MNIST', () => {
  it('trains to the same weights, bit for bit, as the built-in MNIST on the same images', async () => {
    const m = loadMnist();
    const [nTrain, nTest] = [1200, 300];
    const files = {
      trainImages: { bytes: idx([nTrain, 28, 28], m.train.images.subarray(0, nTrain * 784)), filename: 'train-images-idx3-ubyte' },
      trainLabels: { bytes: idx([nTrain], m.train.labels.subarray(0, nTrain)), filename: 'train-labels-idx1-ubyte' },
      testImages: { bytes: idx([nTest, 28, 28], m.test.images.subarray(0, nTest * 784)), filename: 't10k-images-idx3-ubyte' },
      testLabels: { bytes: idx([nTest], m.test.labels.subarray(0, nTest)), filename: 't10k-labels-idx1-ubyte' },
    };
    const { res, body } = await upload(form(files));
    expect(res.status).toBe(201);
    // Unshuffled, both runs see training images 0..999 in order and test images 0..299.
    const common = { preset: 'diehl-cook-2015', neurons: 20, seed: 4, train: 1000, test: nTest, shuffle: false, stream: { spikesEvery: 0, weightsEvery: 0 } };
    const ids = [];
    for (const extra of [{ dataset: { id: body.id } }, {}]) {
      const r = await post(`${server.url}/v1/experiments`, { ...common, ...extra });
      expect(r.status).toBe(201);
      ids.push((await json(r)).id);
    }
    const [uploaded, builtin] = [await waitDone(ids[0]), await waitDone(ids[1])];
    expect(uploaded.status, uploaded.error).toBe('completed');
    expect(builtin.status, builtin.error).toBe('completed');
    expect(uploaded.result.weightsSha256).toBe(builtin.result.weightsSha256);
    expect(uploaded.result.accuracy).toEqual(builtin.result.accuracy);
    const w = decodeNpyFloat32(new Uint8Array(await (await fetch(`${server.url}/v1/experiments/${ids[0]}/weights?format=npy`)).arrayBuffer()));
    expect(w.shape).toEqual([784, 20]);
    expect((await fetch(`${server.url}/v1/datasets/${body.id}`, { method: 'DELETE' })).status).toBe(204);
  });
});

describe('event-stream datasets', () => {
  // 24 moving-bar samples (8 directions) as concatenated events with per-sample offsets.
  const bars = movingBars({ side: 16, directions: 8, barWidth: 2, speed: 0.1, eventProbability: 0.9, noiseHz: 1, dataSeed: 2 }, 'train', 24);
  const total = bars.samples.reduce((a, e) => a + e.tUs.length, 0);
  const rows = new Int32Array(total * 4);
  const offsets = new Int32Array(24);
  let at = 0;
  bars.samples.forEach((e, k) => {
    offsets[k] = at;
    for (let i = 0; i < e.tUs.length; i++, at++) rows.set([e.x[i], e.y[i], e.tUs[i], e.p[i]], at * 4);
  });
  const nmnist = new Uint8Array(total * 5);
  let o = 0;
  for (const e of bars.samples) {
    nmnist.set(encodeNmnist(e), o);
    o += e.tUs.length * 5;
  }
  const labels = { bytes: idx([24], bars.labels), filename: 'labels-idx1-ubyte' };
  let id: string;

  it('stores NPY [E, 4] events with offsets; N-MNIST binary of the same events is the same dataset', async () => {
    const { res, body } = await upload(
      form({ trainEvents: { bytes: npy('<i4', [total, 4], bytesOf(rows)), filename: 'events.npy' }, trainOffsets: { bytes: npy('<i4', [24], bytesOf(offsets)), filename: 'offsets.npy' }, trainLabels: labels }),
    );
    expect(res.status, JSON.stringify(body)).toBe(201);
    expect(body).toMatchObject({ kind: 'events', shape: { height: 16, width: 16, channels: 2 }, classes: 8, train: { count: 24, classCounts: [3, 3, 3, 3, 3, 3, 3, 3] } });
    id = body.id;
    const again = await upload(
      form({ trainEvents: { bytes: nmnist, filename: 'train.bin' }, trainOffsets: { bytes: npy('<i8', [25], bytesOf(BigInt64Array.from([...offsets, total].map(BigInt)))), filename: 'offsets.npy' }, trainLabels: labels }),
    );
    expect(again.res.status, JSON.stringify(again.body)).toBe(200);
    expect(again.body).toMatchObject({ id, deduplicated: true });
    const png = await fetch(`${server.url}/v1/datasets/${id}/preview.png?count=8&scale=1`);
    expect(png.status).toBe(200);
    const img = PNG.sync.read(Buffer.from(await png.arrayBuffer()));
    expect([img.width, img.height]).toEqual([3 * 17 + 1, 3 * 17 + 1]);
  });

  it('trains on it: events drive the input layer (2 channels) at their own times', async () => {
    const res = await post(`${server.url}/v1/experiments`, { preset: 'diehl-cook-2015', neurons: 8, dataset: { id }, test: 0, labelUpdateInterval: 8, stream: { spikesEvery: 1, weightsEvery: 0 } });
    const created = await json(res);
    expect(res.status, JSON.stringify(created)).toBe(201);
    expect(created.definition.layers[0].size).toBe(2 * 16 * 16);
    const done = await waitDone(created.id);
    expect(done.status, done.error).toBe('completed');
    const w = decodeNpyFloat32(new Uint8Array(await (await fetch(`${server.url}/v1/experiments/${created.id}/weights?format=npy`)).arrayBuffer()));
    expect(w.shape).toEqual([512, 8]);
    // Receptive fields: the OFF and ON channels side by side.
    const png = PNG.sync.read(Buffer.from(await (await fetch(`${server.url}/v1/experiments/${created.id}/weights?format=png`)).arrayBuffer()));
    expect([png.width, png.height]).toEqual([3 * 33 + 1, 3 * 17 + 1]);
    // The input spikes are exactly the events (one per input and step), not a rate code: three
    // windows of 8 cover the 24 samples once, so their mean is the mean spike-train size.
    const metrics = await json(await fetch(`${server.url}/v1/experiments/${created.id}/metrics`));
    expect(metrics.items).toHaveLength(3);
    const expected = bars.samples.reduce((a, e) => a + eventsToSpikeTrain(e, { dtMs: 1, width: 16, height: 16, steps: 250 }).index.length, 0) / 24;
    const seen = metrics.items.reduce((a: number, m: { spikesPerSample: { input: number } }) => a + m.spikesPerSample.input, 0) / 3;
    expect(seen).toBeCloseTo(expected, 9);
    const cls = await post(`${server.url}/v1/experiments/${created.id}/classify`, { images: [new Array(256).fill(0)] });
    expect(cls.status).toBe(400);
    expect((await json(cls)).message).toMatch(/learned event streams; classify takes images only/);
    expect((await fetch(`${server.url}/v1/datasets/${id}`, { method: 'DELETE' })).status).toBe(204);
  });

  const ev = (r: number[][]) => ({ bytes: npy('<i4', [r.length, 4], bytesOf(Int32Array.from(r.flat()))), filename: 'e.npy' });
  const off = (v: number[]) => ({ bytes: npy('<i4', [v.length], bytesOf(Int32Array.from(v))), filename: 'o.npy' });
  const bad: [string, () => FormData, string, RegExp][] = [
    ['polarity other than 0/1', () => form({ trainEvents: ev([[0, 0, 5, 1], [1, 1, 9, 2]]), trainOffsets: off([0]) }), 'trainEvents', /event 1: polarity 2 must be 0 \(OFF\) or 1 \(ON\)/],
    ['offsets out of order', () => form({ trainEvents: ev([[0, 0, 5, 1], [1, 1, 9, 0]]), trainOffsets: off([0, 2, 1]) }), 'trainOffsets', /offset 1 at index 2 is out of order/],
    ['events outside the declared field', () => form({ trainEvents: ev([[20, 0, 5, 1]]), trainOffsets: off([0]) }, { width: '16', height: '16' }), 'trainEvents', /x = 20 is outside the field \(0…15\)/],
    ['a truncated N-MNIST file', () => form({ trainEvents: { bytes: nmnist.subarray(0, 12), filename: 'x.bin' }, trainOffsets: off([0]) }), 'trainEvents', /whole 5-byte events; 12 bytes leave 2 over/],
    ['events without offsets', () => form({ trainEvents: ev([[0, 0, 5, 1]]) }), 'trainOffsets', /offsets are required/],
    ['events [E, 3]', () => form({ trainEvents: { bytes: npy('<i4', [1, 3], new Uint8Array(12)), filename: 'e.npy' }, trainOffsets: off([0]) }), 'trainEvents', /events must be \[E, 4\]/],
    ['labels for another number of samples', () => form({ trainEvents: ev([[0, 0, 5, 1], [1, 1, 9, 0]]), trainOffsets: off([0, 1]), trainLabels: { bytes: idx([3], new Uint8Array(3)), filename: 'l-ubyte' } }), 'trainLabels', /3 labels for 2 samples/],
  ];
  for (const [name, fd, field, message] of bad) {
    it(`rejects ${name} (400) and stores nothing`, async () => {
      const before = await storedDirs();
      const { res, body } = await upload(fd());
      expect(res.status).toBe(400);
      expect(body).toMatchObject({ field });
      expect(body.message).toMatch(message);
      expect(await storedDirs()).toEqual(before);
      expect(await uploadLeftovers()).toEqual([]);
    });
  }
});

describe('bad uploads: a 4xx naming the problem, and nothing stored', () => {
  const img = (n: number) => idx([n, 8, 8], new Uint8Array(n * 64).fill(7));
  const lab = (n: number, v = 1) => idx([n], new Uint8Array(n).fill(v));
  const f = (bytes: Uint8Array, filename: string) => ({ bytes, filename });
  const truncated = img(10).subarray(0, 16 + 9 * 64 + 5);
  const cases: { name: string; fd: () => FormData; status: number; field: string; message: RegExp }[] = [
    {
      name: 'wrong magic number',
      fd: () => form({ trainImages: f(Uint8Array.from([0x50, 0x4b, 3, 4, ...new Uint8Array(64)]), 'train-images-idx3-ubyte') }),
      status: 400, field: 'trainImages', message: /bad IDX magic number 0x504b0304/,
    },
    {
      name: 'NPY name without the NPY magic',
      fd: () => form({ trainImages: f(img(2), 'x.npy') }),
      status: 400, field: 'trainImages', message: /magic \\x93NUMPY is missing/,
    },
    {
      name: 'truncated file',
      fd: () => form({ trainImages: f(truncated, 'train-images-idx3-ubyte') }),
      status: 400, field: 'trainImages', message: /truncated IDX file: 597 bytes, expected 656/,
    },
    {
      name: 'image/label count mismatch',
      fd: () => form({ trainImages: f(img(10), 'a-ubyte'), trainLabels: f(lab(9), 'b-ubyte') }),
      status: 400, field: 'trainLabels', message: /9 labels for 10 images/,
    },
    {
      name: 'label out of the declared classes',
      fd: () => form({ trainImages: f(img(10), 'a-ubyte'), trainLabels: f(lab(10, 7), 'b-ubyte') }, { classes: '4' }),
      status: 400, field: 'trainLabels', message: /label 7 at index 0 is out of range: labels must be 0…3/,
    },
    {
      name: 'negative label',
      fd: () => form({ trainImages: f(img(2), 'a-ubyte'), trainLabels: f(npy('<i4', [2], bytesOf(Int32Array.from([0, -1]))), 'y.npy') }),
      status: 400, field: 'trainLabels', message: /label -1 at index 1 is out of range/,
    },
    {
      name: 'wrong dtype (float64 images)',
      fd: () => form({ trainImages: f(npy('<f8', [2, 8, 8], new Uint8Array(2 * 64 * 8)), 'x.npy') }),
      status: 400, field: 'trainImages', message: /unsupported \.npy dtype '<f8'/,
    },
    {
      name: 'wrong dtype (float labels)',
      fd: () => form({ trainImages: f(img(2), 'a-ubyte'), trainLabels: f(npy('<f4', [2], new Uint8Array(8)), 'y.npy') }),
      status: 400, field: 'trainLabels', message: /labels must be integers/,
    },
    {
      name: 'float32 intensities out of range',
      fd: () => form({ trainImages: f(npy('<f4', [1, 2, 2], bytesOf(Float32Array.from([0, 1, 300, 2]))), 'x.npy') }),
      status: 400, field: 'trainImages', message: /must lie in \[0, 1\] or \[0, 255\]/,
    },
    {
      name: 'too large',
      fd: () => form({ trainImages: f(idx([3000, 28, 28], new Uint8Array(3000 * 784)), 'train-images-idx3-ubyte') }),
      status: 413, field: 'body', message: /exceeds MAX_DATASET_BYTES = 2097152 bytes/,
    },
    {
      name: 'unsupported format',
      fd: () => form({ trainImages: f(new Uint8Array([0x89, 0x50, 0x4e, 0x47]), 'digits.png') }),
      status: 415, field: 'trainImages', message: /unsupported format "digits.png"/,
    },
    {
      name: 'gzip-compressed IDX',
      fd: () => form({ trainImages: f(new Uint8Array([0x1f, 0x8b, 8, 0]), 'train-images-idx3-ubyte.gz') }),
      status: 415, field: 'trainImages', message: /gzip-compressed/,
    },
    {
      name: 'test images of another size',
      fd: () => form({ trainImages: f(img(2), 'a-ubyte'), testImages: f(idx([2, 9, 9], new Uint8Array(162)), 'b-ubyte') }),
      status: 400, field: 'testImages', message: /test images are 9×9 but training images 8×8/,
    },
    {
      name: 'no training images',
      fd: () => form({ testImages: f(img(2), 'a-ubyte') }),
      status: 400, field: 'trainImages', message: /training images file is required/,
    },
    {
      name: 'unknown file field',
      fd: () => form({ trainImages: f(img(2), 'a-ubyte'), extra: f(img(2), 'b-ubyte') }),
      status: 400, field: 'extra', message: /unknown file field extra/,
    },
  ];

  for (const c of cases) {
    it(c.name, async () => {
      const before = await storedDirs();
      const listed = (await json(await fetch(`${server.url}/v1/datasets`))).total;
      const { res, body } = await upload(c.fd());
      expect(res.status).toBe(c.status);
      expect(body).toMatchObject({ statusCode: c.status, field: c.field });
      expect(body.message).toMatch(c.message);
      expect(await storedDirs()).toEqual(before);
      expect(await uploadLeftovers()).toEqual([]);
      expect((await json(await fetch(`${server.url}/v1/datasets`))).total).toBe(listed);
    });
  }

  it('a body that is not multipart is a 415', async () => {
    const res = await post(`${server.url}/v1/datasets`, { trainImages: [1, 2, 3] });
    const body = await json(res);
    await expectDocumented('POST', '/v1/datasets', res, body);
    expect(res.status).toBe(415);
    expect(body.message).toMatch(/multipart\/form-data/);
  });
});

describe('built-in generators through the API', () => {
  it('trains on oriented bars and reports orientation tuning', async () => {
    const res = await post(`${server.url}/v1/experiments`, {
      preset: 'diehl-cook-2015', neurons: 16, seed: 0, dataset: { name: 'oriented-bars', train: 800, test: 160 }, stream: { spikesEvery: 0, weightsEvery: 0 },
    });
    const created = await json(res);
    expect(res.status, JSON.stringify(created)).toBe(201);
    expect(created.definition.layers[0].size).toBe(256);
    const done = await waitDone(created.id);
    expect(done.status, done.error).toBe('completed');
    const t = await fetch(`${server.url}/v1/experiments/${created.id}/tuning`);
    const tuning = await json(t);
    await expectDocumented('GET', '/v1/experiments/{id}/tuning', t, tuning);
    expect(tuning).toMatchObject({ kind: 'orientation', anglesDeg: [0, 22.5, 45, 67.5, 90, 112.5, 135, 157.5] });
    expect(tuning.curves).toHaveLength(16);
  });
});
