/**
 * ENGINE_THREADS through the embedded runner and the real engine thread: a network large enough
 * gets helper threads (they appear in the process while it trains and are gone after), a small
 * one does not, and the results are those of one thread.
 */
import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveDefinition } from '../../src/experiment/presets.js';
import { runExperiment } from '../../src/experiment/run.js';
import type { ExperimentResult } from '../../src/experiment/events.js';
import { EmbeddedJobRunner } from '../../src/queue/embedded-runner.js';
import type { JobRunnerEvent } from '../../src/queue/job-runner.js';
import { waitFor } from '../helpers/server.js';

const threadsOfProcess = () => readdirSync('/proc/self/task').length;

let runner: EmbeddedJobRunner | undefined;
afterEach(async () => {
  await runner?.close();
  runner = undefined;
});

async function runThrough(r: EmbeddedJobRunner, id: string, neurons: number) {
  const definition = resolveDefinition({ preset: 'diehl-cook-2015', neurons, train: 30, test: 10, seed: 4, checkpointEvery: 0 });
  const events: JobRunnerEvent[] = [];
  r.on((e) => events.push(e));
  const before = threadsOfProcess();
  let most = before;
  const sampler = setInterval(() => (most = Math.max(most, threadsOfProcess())), 5);
  await r.submit({ id, definition });
  const end = await waitFor(() => events.find((e) => e.id === id && ['finished', 'failed', 'cancelled'].includes(e.type)), { what: `end of ${id}`, timeoutMs: 60_000 });
  clearInterval(sampler);
  expect(end.type).toBe('finished');
  const result = (end as Extract<JobRunnerEvent, { type: 'finished' }>).result as ExperimentResult;
  const reference = await runExperiment(definition, { emit: () => {}, threads: 1 });
  expect(result.weightsSha256).toBe(reference.weightsSha256);
  return { before, most };
}

describe('engine threads in the runner', () => {
  it('a 6,400-neuron network trains on 2 threads under ENGINE_THREADS=2 (same weights as 1), a 100-neuron one on 1, and no thread is left behind', async () => {
    runner = new EmbeddedJobRunner({ workers: 1, engineThreads: 2 });
    await runner.start();
    await readFile('/proc/self/status'); // libuv's thread pool starts now, not during a job
    const first = await runThrough(runner, 'big-1', 6400);
    expect(first.most).toBeGreaterThan(first.before);
    // The engine thread keeps one more thread after its first helper; what matters is that
    // helpers end with their network: the count after each job stays put.
    const settled = threadsOfProcess();
    const second = await runThrough(runner, 'big-2', 6400);
    expect(second.most).toBeGreaterThan(settled);
    await waitFor(() => threadsOfProcess() <= settled, { what: "the second job's helper to end" });
    const small = await runThrough(runner, 'small', 100);
    expect(small.most).toBeLessThanOrEqual(settled);
  }, 180_000);
});
