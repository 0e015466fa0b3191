/**
 * Property-based test (fast-check) of POST /v1/experiments against a real server: random JSON and
 * near-valid definitions (a valid one with fields replaced by hostile values) never get a 5xx;
 * a 4xx has the one error shape; whatever is accepted passes the engine's own checks and the
 * cost cap. Accepted experiments are deleted at once (the scripted engine would run them).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { experimentCost } from '../../src/experiment/cost.js';
import { resolveDefinition } from '../../src/experiment/presets.js';
import { compileDefinition } from '../../src/experiment/topology.js';
import { json, startServer, type TestServer } from '../helpers/server.js';

const scripted = new URL('../queue/fixtures/scripted-engine.ts', import.meta.url);
const MAX_COST = 1e11;
let server: TestServer;
beforeAll(async () => {
  server = await startServer({ MAX_EXPERIMENT_COST: String(MAX_COST), MAX_NEURONS: '400' }, { app: { engineWorkerUrl: scripted } });
});
afterAll(async () => {
  await server?.close();
});

async function submit(body: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${server.url}/v1/experiments`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const parsed = await json(res);
  if (res.status === 201) await fetch(`${server.url}/v1/experiments/${parsed.id}`, { method: 'DELETE' });
  return { status: res.status, body: parsed };
}

function check(text: string, r: { status: number; body: any }) {
  expect(r.status, text.slice(0, 300)).toBeLessThan(500);
  if (r.status >= 400) {
    expect(Object.keys(r.body).every((k) => ['statusCode', 'code', 'message', 'field'].includes(k))).toBe(true);
    expect(r.body.statusCode).toBe(r.status);
    return;
  }
  expect(r.status).toBe(201);
  // What the server accepted, the engine can run, and it is within the cost cap.
  const def = resolveDefinition(JSON.parse(text));
  expect(() => compileDefinition(def)).not.toThrow();
  expect(experimentCost(def).total).toBeLessThanOrEqual(MAX_COST);
}

const hostile = fc.oneof(
  fc.jsonValue(),
  fc.constantFrom(0, -1, 1e308, -1e308, 1e-320, 2 ** 53, 0.5, 1e15, 60_001, '\u0000', 'x'.repeat(5000), null, [], {}, true),
  fc.double({ noNaN: true }),
  fc.integer(),
  fc.string(),
);

const presetBase = { preset: 'diehl-cook-2015', neurons: 10, train: 20, test: 10 };
const presetFields = [
  'preset', 'name', 'neurons', 'train', 'test', 'validation', 'epochs', 'seed', 'timePerSampleMs', 'dtMs', 'restBetweenSamplesMs', 'encoder',
  'maxRateHz', 'nuPre', 'nuPost', 'thetaPlusMv', 'labelUpdateInterval', 'assignment', 'labelSamples', 'representBelowSpikes',
  'checkpointEvery', 'shuffle', 'unknownField',
];
const fullBase = () => resolveDefinition(presetBase) as unknown as Record<string, any>;
const fullPaths = [
  ['dtMs'], ['restBetweenSamplesMs'], ['timePerSampleMs'], ['epochs'], ['seed'], ['name'], ['checkpointEvery'], ['dataset', 'train'], ['dataset', 'test'],
  ['dataset', 'validation'], ['layers', 1, 'size'], ['layers', 2, 'size'], ['layers', 1, 'tauMs'], ['layers', 1, 'tauThetaMs'],
  ['layers', 1, 'refractoryMs'], ['layers', 0, 'traceTauMs'], ['encoder', 'maxRateHz'], ['represent', 'maxRepeats'], ['represent', 'belowSpikes'],
  ['represent', 'rateStepHz'], ['stream', 'voltageNeurons'], ['stream', 'weightsEvery'], ['stream', 'progressEvery'], ['evaluation', 'labelSamples'],
  ['connections', 0, 'wMax'], ['connections', 1, 'weight'], ['layers'], ['connections'], ['layers', 1, 'type'],
] as const;

it('random JSON never gets a 5xx', async () => {
  await fc.assert(
    fc.asyncProperty(fc.jsonValue(), async (value) => {
      const text = JSON.stringify(value) ?? 'null';
      check(text, await submit(text));
    }),
    { numRuns: 150 },
  );
});

it('near-valid preset requests never get a 5xx; accepted ones pass the engine and the cost cap', async () => {
  await fc.assert(
    fc.asyncProperty(fc.dictionary(fc.constantFrom(...presetFields), hostile, { maxKeys: 4 }), async (overrides) => {
      const text = JSON.stringify({ ...presetBase, ...overrides });
      check(text, await submit(text));
    }),
    { numRuns: 200 },
  );
});

it('near-valid full definitions never get a 5xx; accepted ones pass the engine and the cost cap', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.tuple(fc.constantFrom(...fullPaths), hostile), { minLength: 1, maxLength: 3 }), async (edits) => {
      const def = fullBase();
      for (const [path, value] of edits) {
        let o: any = def;
        for (const k of path.slice(0, -1)) o = o?.[k];
        if (o && typeof o === 'object') o[path[path.length - 1]!] = value;
      }
      const text = JSON.stringify(def);
      check(text, await submit(text));
    }),
    { numRuns: 200 },
  );
});
