/**
 * A server stopped mid-run resumes the experiment from its last checkpoint on the next start
 * (same DATA_DIR) and finishes with exactly the weights of an uninterrupted run.
 */
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { expectDocumented } from '../helpers/openapi.js';
import { json, post, startServer, tempDir, waitFor, type TestServer } from '../helpers/server.js';
import { openStream, texts } from '../helpers/ws.js';

const definition = {
  preset: 'diehl-cook-2015',
  neurons: 30,
  train: 2500,
  test: 50,
  seed: 42,
  labelUpdateInterval: 250,
  checkpointEvery: 200,
  stream: { progressEvery: 10 },
};

let dataDir: string;
const servers: TestServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.close().catch(() => {});
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function start() {
  const s = await startServer({}, { dataDir, removeDataDir: false });
  servers.push(s);
  return s;
}

const getExperiment = async (s: TestServer, id: string) => json(await fetch(`${s.url}/v1/experiments/${id}`));
const npySha = async (s: TestServer, id: string) =>
  createHash('sha256')
    .update(new Uint8Array(await (await fetch(`${s.url}/v1/experiments/${id}/weights?format=npy`)).arrayBuffer()))
    .digest('hex');

describe('restart mid-run', () => {
  it('resumes a running experiment from its checkpoint and ends bit-identical to an uninterrupted run', async () => {
    dataDir = await tempDir('spikelab-restart-');
    const first = await start();
    const { id } = await json(await post(`${first.url}/v1/experiments`, definition));
    // A second experiment still queued behind it must be queued again after the restart.
    const { id: queuedId } = await json(await post(`${first.url}/v1/experiments`, { ...definition, train: 100 }));

    // Stop once a checkpoint is stored and training has moved past it, well before the end (so the
    // shutdown's own checkpoint is a later point than the periodic one, however loaded the machine).
    const checkpointed = await waitFor(
      async () => {
        const e = await getExperiment(first, id);
        return e.checkpoint && e.progress?.phase === 'train' && e.progress.done > e.checkpoint.samplesDone ? e : undefined;
      },
      { intervalMs: 5, what: 'training past the first checkpoint' },
    );
    await first.close();
    servers.length = 0;
    expect(checkpointed.status).toBe('running');
    const stoppedAt = checkpointed.checkpoint.samplesDone;
    expect(stoppedAt).toBeGreaterThanOrEqual(200);
    expect(stoppedAt).toBeLessThan(2500);

    const second = await start();
    const afterRestart = await getExperiment(second, id);
    // The stored state after the stop: still running (not cancelled, not failed).
    expect(['running', 'completed']).toContain(afterRestart.status);
    const stream = openStream(`${second.wsUrl}/v1/experiments/${id}/stream`);
    expect((await stream.closed).code).toBe(1000);
    const resumed = await getExperiment(second, id);
    expect(resumed.status).toBe('completed');
    expect(resumed.attempts).toBe(2);
    // Shutdown stops the engine at a sample boundary and stores a checkpoint of that point, past
    // the periodic one the test waited for.
    expect(resumed.resumedFrom).toBeGreaterThan(stoppedAt);
    expect(resumed.result.train.samples).toBe(2500);
    expect(texts(stream.frames).at(-1)).toMatchObject({ type: 'end', status: 'completed' });
    // Windows re-emitted after the checkpoint are stored once.
    const metrics = await json(await fetch(`${second.url}/v1/experiments/${id}/metrics`));
    expect(metrics.items.map((m: { samplesSeen: number }) => m.samplesSeen)).toEqual([250, 500, 750, 1000, 1250, 1500, 1750, 2000, 2250, 2500]);

    await waitFor(async () => (await getExperiment(second, queuedId)).status === 'completed', { what: 'queued one' });

    // The same definition uninterrupted.
    const reference = await json(await post(`${second.url}/v1/experiments`, definition));
    await waitFor(async () => (await getExperiment(second, reference.id)).status === 'completed', { what: 'reference run' });
    const ref = await getExperiment(second, reference.id);
    await expectDocumented('GET', '/v1/experiments/{id}', new Response(JSON.stringify(ref), { headers: { 'content-type': 'application/json' } }), ref);
    expect(ref.resumedFrom).toBeNull();
    expect(resumed.result.weightsSha256).toBe(ref.result.weightsSha256);
    expect(await npySha(second, id)).toBe(await npySha(second, reference.id));
    expect(resumed.result.accuracy).toEqual(ref.result.accuracy);
  });
});
