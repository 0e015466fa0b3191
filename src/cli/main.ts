/**
 * `spikelab` command line: train and test an experiment locally, without the server.
 *
 *   spikelab train --preset diehl-cook-2015 --neurons 100 --train 60000 --test 10000 --seed 1
 *   spikelab train --definition experiment.json --json
 *   spikelab presets
 *
 * Bad arguments print one line and exit with code 2.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { ZodError } from 'zod';
import type { ExperimentEvent, ExperimentResult, ProgressEvent, WindowMetricsEvent } from '../experiment/events.js';
import { listPresets, resolveDefinition } from '../experiment/presets.js';
import { runExperiment } from '../experiment/run.js';
import { MAX_ENGINE_THREADS } from '../engine/network.js';
import { DefinitionError } from '../experiment/topology.js';
import { encodeNpyFloat32 } from '../io/npy.js';
import { receptiveFieldsPng } from '../io/receptive-fields.js';
import { formatZodIssue } from '../experiment/errors.js';

class UsageError extends Error {}

const USAGE = `usage: spikelab train [--preset diehl-cook-2015|diehl-cook-2015-hybrid|diehl-cook-2015-original | --definition FILE] [options]
       spikelab presets
options: --neurons N --train K --test M --validation K --epochs E --seed S --time MS --dt MS
         --encoder bindsnet-poisson|poisson|latency --max-rate HZ --nu-pre X --nu-post X
         --theta-plus MV --update-interval U --rest MS (gap between samples)
         --spike-lockout MS (no spike until this long after the last; original preset: 50)
         --assignment training-windows|frozen-pass --label-samples K --represent-below SPIKES
         --checkpoint FILE [--checkpoint-every K] [--stop-after N] --resume FILE
         --save-weights FILE.npy --weights-png FILE.png --json --quiet
         --threads N (threads the network is stepped on; same results for any N)`;

const numberOptions = {
  neurons: 'neurons',
  train: 'train',
  test: 'test',
  validation: 'validation',
  epochs: 'epochs',
  seed: 'seed',
  time: 'timePerSampleMs',
  dt: 'dtMs',
  rest: 'restBetweenSamplesMs',
  'max-rate': 'maxRateHz',
  'nu-pre': 'nuPre',
  'nu-post': 'nuPost',
  'theta-plus': 'thetaPlusMv',
  'update-interval': 'labelUpdateInterval',
  'label-samples': 'labelSamples',
  'represent-below': 'representBelowSpikes',
  'checkpoint-every': 'checkpointEvery',
  'spike-lockout': 'spikeLockoutMs',
} as const;

function parseNumber(flag: string, text: string): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v)) throw new UsageError(`--${flag} expects a number, got "${text}"`);
  return v;
}

function buildRequest(values: Record<string, string | boolean | undefined>): unknown {
  if (values.definition !== undefined) {
    const given = Object.keys(numberOptions).filter((k) => values[k] !== undefined);
    if (values.preset !== undefined || given.length > 0)
      throw new UsageError('--definition cannot be combined with --preset or preset options');
    const path = String(values.definition);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      throw new UsageError(`cannot read definition file ${path}`);
    }
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new UsageError(`${path} is not valid JSON: ${(e as Error).message}`);
    }
  }
  const req: Record<string, unknown> = { preset: values.preset ?? 'diehl-cook-2015' };
  for (const [flag, field] of Object.entries(numberOptions)) {
    const v = values[flag];
    if (v !== undefined) req[field] = parseNumber(flag, String(v));
  }
  if (values.encoder !== undefined) req.encoder = values.encoder;
  if (values.assignment !== undefined) req.assignment = values.assignment;
  req.checkpointEvery ??= 0;
  return req;
}

function formatDuration(s: number): string {
  if (!Number.isFinite(s)) return '--';
  if (s < 60) return `${s.toFixed(0)}s`;
  return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
}

class ProgressBar {
  private lastWindow: WindowMetricsEvent | null = null;
  private lastLine = 0;
  constructor(private readonly quiet: boolean) {}

  onEvent(e: ExperimentEvent): void {
    if (this.quiet) return;
    if (e.type === 'metrics') this.lastWindow = e;
    if (e.type === 'progress') this.draw(e);
  }

  private draw(e: ProgressEvent): void {
    const tty = process.stderr.isTTY;
    const now = Date.now();
    const finished = e.done === e.total;
    if (!finished && now - this.lastLine < (tty ? 100 : 5000)) return;
    this.lastLine = now;
    const width = 24;
    const filled = Math.round((width * e.done) / Math.max(e.total, 1));
    const acc = this.lastWindow && e.phase === 'train' && this.lastWindow.accuracy.allActivity !== null
      ? `  window acc ${(100 * this.lastWindow.accuracy.allActivity).toFixed(1)}%`
      : '';
    const line = `${e.phase.padEnd(5)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${e.done}/${e.total}  ${Math.round(e.samplesPerSec)} samples/s  ETA ${formatDuration(e.etaSec)}${acc}`;
    process.stderr.write(tty ? `\r${line}\x1b[K${finished ? '\n' : ''}` : `${line}\n`);
  }
}

function report(r: ExperimentResult): string {
  const pct = (x: number | null) => (x === null ? 'n/a' : `${(100 * x).toFixed(2)}%`);
  const lines = [
    `accuracy (all-activity):        ${pct(r.accuracy.allActivity)}`,
    `accuracy (proportion weighting): ${pct(r.accuracy.proportionWeighting)}`,
  ];
  if (r.validation.accuracy) lines.push(`validation (${r.validation.samples}): all-activity ${pct(r.validation.accuracy.allActivity)}, proportion ${pct(r.validation.accuracy.proportionWeighting)}`);
  lines.push(
    `train: ${r.train.samples} samples, ${r.train.samplesPerSec.toFixed(0)} samples/s, ${r.train.seconds.toFixed(2)} s`,
    `test:  ${r.test.samples} samples, ${r.test.samplesPerSec.toFixed(0)} samples/s, ${r.test.seconds.toFixed(2)} s`,
    `wall time: ${r.wallSeconds.toFixed(2)} s   exc spikes/test sample: ${r.spikesPerTestSample.toFixed(2)}   mean θ: ${r.thetaMean.toFixed(2)} mV`,
    `weights sha256: ${r.weightsSha256}`,
    'confusion matrix (rows: true label, columns: predicted, all-activity):',
    '      ' + Array.from({ length: 10 }, (_, c) => String(c).padStart(6)).join(''),
    ...r.confusion.map((row, t) => String(t).padStart(6) + row.map((x) => String(x).padStart(6)).join('')),
  );
  return lines.join('\n');
}

async function train(args: string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        preset: { type: 'string' },
        definition: { type: 'string' },
        ...Object.fromEntries(Object.keys(numberOptions).map((k) => [k, { type: 'string' as const }])),
        encoder: { type: 'string' },
        assignment: { type: 'string' },
        'save-weights': { type: 'string' },
        'weights-png': { type: 'string' },
        checkpoint: { type: 'string' },
        resume: { type: 'string' },
        'stop-after': { type: 'string' },
        threads: { type: 'string' },
        json: { type: 'boolean' },
        quiet: { type: 'boolean' },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message.split('\n')[0]);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const resolved = resolveDefinition(buildRequest(values));
  // The CLI streams nothing, so it records no rasters or snapshots (they never change results).
  const definition = { ...resolved, stream: { ...resolved.stream, spikesEvery: 0, weightsEvery: 0 } };
  const stopAfter = values['stop-after'] === undefined ? Infinity : parseNumber('stop-after', String(values['stop-after']));
  const checkpointFile = values.checkpoint === undefined ? null : String(values.checkpoint);
  let resumeFrom: Uint8Array | undefined;
  if (values.resume !== undefined) {
    try {
      resumeFrom = readFileSync(String(values.resume));
    } catch {
      throw new UsageError(`cannot read checkpoint file ${String(values.resume)}`);
    }
  }
  const threads = values.threads === undefined ? 1 : parseNumber('threads', String(values.threads));
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_ENGINE_THREADS) throw new UsageError(`--threads: an integer from 1 to ${MAX_ENGINE_THREADS}`);
  if (threads > availableParallelism()) throw new UsageError(`--threads: this machine has ${availableParallelism()} cores; more threads than cores only wait for each other`);
  const bar = new ProgressBar(Boolean(values.quiet));
  let weights: Float32Array | null = null;
  const result = await runExperiment(definition, {
    resumeFrom,
    threads,
    shouldStop: (trained) => trained >= stopAfter,
    emit: (e) => {
      if (e.type === 'done') weights = e.weights;
      if (e.type === 'checkpoint' && checkpointFile) {
        // Write then rename, so an interrupted run never leaves a torn checkpoint.
        writeFileSync(`${checkpointFile}.tmp`, e.state);
        renameSync(`${checkpointFile}.tmp`, checkpointFile);
      }
      bar.onEvent(e);
    },
  });
  const saveNpy = values['save-weights'];
  const savePng = values['weights-png'];
  if (weights !== null) {
    // The input follows the definition's dataset (28×28 for MNIST).
    const shape = result.input ?? { height: 28, width: 28, channels: 1 };
    const inputs = shape.height * shape.width * shape.channels;
    if (typeof saveNpy === 'string') writeFileSync(saveNpy, encodeNpyFloat32(weights, [inputs, result.neurons]));
    if (typeof savePng === 'string') writeFileSync(savePng, receptiveFieldsPng(weights, inputs, result.neurons, { ...shape, scale: 2 }));
  }
  if (!values.quiet) process.stdout.write(report(result) + '\n');
  if (values.json) {
    const summary = {
      accuracy: result.accuracy,
      validation: result.validation,
      confusion: result.confusion,
      train: result.train,
      test: result.test,
      wallSeconds: result.wallSeconds,
      spikesPerTestSample: result.spikesPerTestSample,
      thetaMean: result.thetaMean,
      neurons: result.neurons,
      weightsSha256: result.weightsSha256,
      definition,
    };
    process.stdout.write(JSON.stringify(summary) + '\n');
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...commandArgs] = argv;
  try {
    if (command === 'train') {
      await train(commandArgs);
      return 0;
    }
    if (command === 'presets') {
      process.stdout.write(JSON.stringify(listPresets(), null, 2) + '\n');
      return 0;
    }
    if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
      process.stdout.write(USAGE + '\n');
      return command === undefined ? 2 : 0;
    }
    throw new UsageError(`unknown command "${command}" (try: spikelab help)`);
  } catch (e) {
    if (e instanceof UsageError || e instanceof DefinitionError) {
      process.stderr.write(`spikelab: ${e.message}\n`);
      return 2;
    }
    if (e instanceof ZodError) {
      process.stderr.write(`spikelab: ${formatZodIssue(e)}\n`);
      return 2;
    }
    process.stderr.write(`spikelab: ${(e as Error).stack ?? String(e)}\n`);
    return 1;
  }
}

export { main };

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
