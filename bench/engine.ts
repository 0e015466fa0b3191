/**
 * `npm run bench`: the canonical engine workload (diehl-cook-2015, 250 steps per sample, learning
 * on, then inference with learning off) at 100 and 400 neurons, median of several runs, and the
 * same workload on the C reference in ../shared/ref (built here when a C compiler is present),
 * interleaved run by run so that both see the same machine load. Prints samples/s and our speed
 * as a ratio to the reference.
 *
 *   npm run bench                      # default sizes
 *   npm run bench -- --repeats 3 --neurons 100
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { resolveDefinition } from '../src/experiment/presets.js';
import { runExperiment } from '../src/experiment/run.js';
import { mnistDataDir } from '../src/io/mnist.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

interface Measure {
  train: number;
  test: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

async function ours(neurons: number, train: number, test: number, seed: number): Promise<Measure> {
  const def = resolveDefinition({
    preset: 'diehl-cook-2015',
    neurons,
    train,
    test,
    seed,
    checkpointEvery: 0,
    stream: { spikesEvery: 0, weightsEvery: 0 },
  });
  const r = await runExperiment(def, { emit: () => {}, yieldEveryMs: 1e9 });
  return { train: r.train.samplesPerSec, test: r.test.samplesPerSec };
}

function buildReference(): string | null {
  const src = join(root, '..', 'shared', 'ref');
  if (!existsSync(join(src, 'dc_ref.c'))) return null;
  const cc = spawnSync('sh', ['-c', 'command -v gcc || command -v cc'], { encoding: 'utf8' }).stdout.trim();
  if (!cc) return null;
  const dir = mkdtempSync(join(tmpdir(), 'dcref-'));
  cpSync(src, dir, { recursive: true });
  execFileSync(cc, ['-O3', '-march=native', '-ffp-contract=off', '-o', join(dir, 'dc_ref'), join(dir, 'dc_ref.c'), '-lm']);
  return join(dir, 'dc_ref');
}

function reference(bin: string, neurons: number, train: number, test: number, seed: number): Measure {
  const out = execFileSync(
    bin,
    ['--data', mnistDataDir(), '--neurons', String(neurons), '--train', String(train), '--test', String(test), '--seed', String(seed), '--quiet'],
    { encoding: 'utf8' },
  );
  const value = (key: string) => Number(/^(\S+)=(\S+)$/m.exec(out.split('\n').find((l) => l.startsWith(key + '=')) ?? '')?.[2]);
  return { train: value('train_samples_per_s'), test: value('test_samples_per_s') };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { repeats: { type: 'string', default: '5' }, neurons: { type: 'string' }, 'no-reference': { type: 'boolean' } },
  });
  const repeats = Number(values.repeats);
  const sizes = values.neurons
    ? [{ neurons: Number(values.neurons), train: 10000, test: 5000 }]
    : [
        { neurons: 100, train: 10000, test: 5000 },
        { neurons: 400, train: 5000, test: 2000 },
      ];
  const ref = values['no-reference'] ? null : buildReference();
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}`);
  console.log(ref ? `C reference: built from ../shared/ref` : 'C reference: not available (no ../shared/ref or no C compiler)');
  const rows: Record<string, unknown>[] = [];
  for (const { neurons, train, test } of sizes) {
    await ours(neurons, 500, 100, 99); // warm-up: JIT, MNIST load, kernel compile
    const mine: Measure[] = [];
    const theirs: Measure[] = [];
    for (let k = 0; k < repeats; k++) {
      mine.push(await ours(neurons, train, test, k));
      if (ref) theirs.push(reference(ref, neurons, train, test, k));
    }
    const row: Record<string, unknown> = {
      neurons,
      samples: `${train} train / ${test} test`,
      trainPerSec: Math.round(median(mine.map((m) => m.train))),
      testPerSec: Math.round(median(mine.map((m) => m.test))),
    };
    if (ref) {
      const rt = median(theirs.map((m) => m.train));
      const rs = median(theirs.map((m) => m.test));
      Object.assign(row, {
        refTrainPerSec: Math.round(rt),
        refTestPerSec: Math.round(rs),
        trainRatio: Number((Number(row.trainPerSec) / rt).toFixed(3)),
        testRatio: Number((Number(row.testPerSec) / rs).toFixed(3)),
      });
    }
    rows.push(row);
    console.log(`N=${neurons}: ${JSON.stringify(row)}`);
  }
  console.table(rows);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
