import { afterEach, describe, expect, it } from 'vitest';
import { resolveDefinition } from '../../src/experiment/presets.js';
import type { ExperimentDefinition } from '../../src/experiment/schema.js';
import { EmbeddedJobRunner } from '../../src/queue/embedded-runner.js';
import type { JobRunnerEvent } from '../../src/queue/job-runner.js';
import { transferableEvent } from '../../src/queue/worker-protocol.js';
import { ThreadClassifier } from '../../src/queue/classifier.js';
import { waitFor } from '../helpers/server.js';

const scripted = new URL('./fixtures/scripted-engine.ts', import.meta.url);

function def(overrides: { name?: string; samples?: number; msPerSample?: number; weightsEvery?: number; checkpointEvery?: number }): ExperimentDefinition {
  return resolveDefinition({
    preset: 'diehl-cook-2015',
    name: overrides.name ?? 'job',
    neurons: 4,
    train: overrides.samples ?? 20,
    test: 0,
    restBetweenSamplesMs: overrides.msPerSample ?? 1,
    checkpointEvery: overrides.checkpointEvery ?? 0,
    stream: { progressEvery: 5, weightsEvery: overrides.weightsEvery ?? 0, spikesEvery: 0 },
  });
}

let runner: EmbeddedJobRunner | undefined;
afterEach(async () => {
  await runner?.close();
  runner = undefined;
});

function record(r: EmbeddedJobRunner) {
  const events: JobRunnerEvent[] = [];
  r.on((e) => events.push(e));
  const ended = (id: string) => events.find((e) => e.id === id && ['finished', 'failed', 'cancelled'].includes(e.type));
  return { events, ended, waitEnded: (id: string) => waitFor(() => ended(id), { what: `end of ${id}` }) };
}

describe('embedded job runner (scripted engine)', () => {
  it('runs jobs first-in first-out on a single worker, each event stream in order', async () => {
    runner = new EmbeddedJobRunner({ workers: 1, workerUrl: scripted });
    await runner.start();
    const { events, waitEnded } = record(runner);
    for (const id of ['a', 'b', 'c']) await runner.submit({ id, definition: def({ samples: 10 }) });
    expect(runner.stats()).toMatchObject({ queued: 2, running: 1, workers: 1 });
    await waitEnded('c');
    expect(events.filter((e) => e.type === 'started').map((e) => e.id)).toEqual(['a', 'b', 'c']);
    // One job at a time: a's end comes before b's start.
    const order = events.filter((e) => e.type === 'started' || e.type === 'finished').map((e) => `${e.type}:${e.id}`);
    expect(order).toEqual(['started:a', 'finished:a', 'started:b', 'finished:b', 'started:c', 'finished:c']);
    const progressA = events.flatMap((e) => (e.id === 'a' && e.type === 'event' && e.event.type === 'progress' ? [e.event.done] : []));
    expect(progressA).toEqual([5, 10]);
    expect(runner.stats()).toMatchObject({ queued: 0, running: 0 });
  });

  it('runs jobs in parallel on a pool', async () => {
    runner = new EmbeddedJobRunner({ workers: 2, workerUrl: scripted });
    await runner.start();
    const { waitEnded } = record(runner);
    await runner.submit({ id: 'p1', definition: def({ samples: 200, msPerSample: 2 }) });
    await runner.submit({ id: 'p2', definition: def({ samples: 200, msPerSample: 2 }) });
    expect(runner.stats()).toMatchObject({ queued: 0, running: 2 });
    await Promise.all([waitEnded('p1'), waitEnded('p2')]);
  });

  it('rejects a second job with the same id', async () => {
    runner = new EmbeddedJobRunner({ workers: 1, workerUrl: scripted });
    await runner.start();
    await runner.submit({ id: 'dup', definition: def({ samples: 50 }) });
    await expect(runner.submit({ id: 'dup', definition: def({}) })).rejects.toThrow(/already/);
  });

  it('cancels a queued job without running it and a running one after its current sample', async () => {
    runner = new EmbeddedJobRunner({ workers: 1, workerUrl: scripted });
    await runner.start();
    const { events, ended, waitEnded } = record(runner);
    await runner.submit({ id: 'long', definition: def({ samples: 100_000, msPerSample: 1 }) });
    await runner.submit({ id: 'waiting', definition: def({}) });
    expect(await runner.cancel('waiting')).toBe(true);
    expect(ended('waiting')).toEqual({ type: 'cancelled', id: 'waiting' });
    await waitFor(() => events.some((e) => e.id === 'long' && e.type === 'event' && e.event.type === 'progress'));
    const t0 = Date.now();
    expect(await runner.cancel('long')).toBe(true);
    const end = await waitEnded('long');
    expect(Date.now() - t0).toBeLessThan(500);
    expect(end.type).toBe('finished');
    if (end.type === 'finished') {
      expect(end.result.cancelled).toBe(true);
      expect(end.result.train.samples).toBeGreaterThan(0);
      expect(end.result.train.samples).toBeLessThan(100_000);
    }
    expect(events.some((e) => e.id === 'waiting' && e.type === 'started')).toBe(false);
    expect(await runner.cancel('long')).toBe(false);
    expect(await runner.cancel('never-submitted')).toBe(false);
  });

  it('fails the job of a crashed or throwing engine thread and keeps the pool working', async () => {
    runner = new EmbeddedJobRunner({ workers: 1, workerUrl: scripted });
    await runner.start();
    const { waitEnded } = record(runner);
    await runner.submit({ id: 'crash', definition: def({ name: 'crash' }) });
    await runner.submit({ id: 'throw', definition: def({ name: 'throw' }) });
    await runner.submit({ id: 'ok', definition: def({ samples: 5 }) });
    expect(await waitEnded('crash')).toMatchObject({ type: 'failed', error: expect.stringMatching(/exited with code 3/) });
    expect(await waitEnded('throw')).toEqual({ type: 'failed', id: 'throw', error: 'scripted failure' });
    expect(await waitEnded('ok')).toMatchObject({ type: 'finished' });
    expect(runner.stats().workers).toBe(1);
  });

  it('delivers typed arrays intact and resumes from a checkpoint it is given', async () => {
    runner = new EmbeddedJobRunner({ workers: 1, workerUrl: scripted });
    await runner.start();
    const { events, waitEnded } = record(runner);
    await runner.submit({ id: 'w', definition: def({ samples: 6, weightsEvery: 1, checkpointEvery: 3 }) });
    await waitEnded('w');
    const snapshots = events.flatMap((e) => (e.type === 'event' && e.event.type === 'weights' ? [e.event] : []));
    expect(snapshots.map((s) => s.sampleIndex)).toEqual([1, 2, 3, 4, 5, 6]);
    for (const s of snapshots) {
      expect(s.data.length).toBe(784 * 4);
      expect(s.data.every((v) => v === s.sampleIndex)).toBe(true);
    }
    const checkpoint = events.flatMap((e) => (e.type === 'event' && e.event.type === 'checkpoint' ? [e.event] : []))[0]!;
    expect(checkpoint.samplesDone).toBe(3);

    await runner.submit({ id: 'r', definition: def({ samples: 6 }), resumeFrom: checkpoint.state, resumeFromSample: 3 });
    const end = await waitEnded('r');
    expect(events.find((e) => e.id === 'r' && e.type === 'started')).toEqual({ type: 'started', id: 'r', resumedFrom: 3 });
    expect(end.type === 'finished' && end.result.weightsSha256).toBe('resumed-from-3');
    // The caller's checkpoint bytes are not detached by the transfer to the thread.
    expect(checkpoint.state.byteLength).toBe(4);
  });

  it('reports nothing after close, leaving running jobs for the next start', async () => {
    runner = new EmbeddedJobRunner({ workers: 1, workerUrl: scripted });
    await runner.start();
    const { events } = record(runner);
    await runner.submit({ id: 'x', definition: def({ samples: 100_000, msPerSample: 1 }) });
    await waitFor(() => events.some((e) => e.type === 'event'));
    await runner.close();
    const count = events.length;
    await new Promise((r) => setTimeout(r, 100));
    expect(events.length).toBe(count);
    expect(events.some((e) => e.type === 'finished' || e.type === 'failed')).toBe(false);
    await expect(runner.submit({ id: 'y', definition: def({}) })).rejects.toThrow(/closed/);
    await expect(runner.check()).rejects.toThrow();
  });
});

describe('transferableEvent', () => {
  it('transfers whole buffers and copies views into larger buffers', () => {
    const whole = new Float32Array([1, 2, 3]);
    const t1 = transferableEvent({ type: 'weights', sampleIndex: 1, shape: [3, 1], data: whole });
    expect(t1.transfer).toEqual([whole.buffer]);
    expect((t1.event as { data: Float32Array }).data).toBe(whole);

    const big = new Float32Array(10);
    const view = big.subarray(2, 5);
    const t2 = transferableEvent({ type: 'weights', sampleIndex: 1, shape: [3, 1], data: view });
    const sent = (t2.event as { data: Float32Array }).data;
    expect(sent).not.toBe(view);
    expect(sent.buffer.byteLength).toBe(12);
    expect(t2.transfer).toEqual([sent.buffer]);

    // Two arrays over one buffer: the second is copied so the buffer is listed once.
    const shared = new Float32Array(4);
    const t3 = transferableEvent({ type: 'done', result: {} as never, weights: shared, theta: shared });
    expect(new Set(t3.transfer).size).toBe(t3.transfer.length);
    expect(transferableEvent({ type: 'progress', phase: 'train', epoch: 0, done: 1, total: 2, samplesPerSec: 1, etaSec: 1 }).transfer).toEqual([]);
  });
});

describe('thread classifier', () => {
  it('classifies on its own thread and can be closed', async () => {
    const classifier = new ThreadClassifier(scripted);
    const model = { definition: def({}), weights: new Float32Array(784 * 4), theta: new Float32Array(4), assignments: [0, 1, 2, 3], proportions: [] };
    const predictions = await classifier.classify(model, [new Uint8Array(784), new Uint8Array(784)]);
    expect(predictions.map((p) => p.label)).toEqual([7, 7]);
    await classifier.close();
    await expect(classifier.classify(model, [new Uint8Array(784)])).rejects.toThrow(/closed/);
  });
});
