/**
 * The `spikelab` command as a user runs it: real child processes of the compiled CLI
 * (`npm test` builds first).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeNpyFloat32 } from '../../src/io/npy.js';

const run = promisify(execFile);
const bin = join(import.meta.dirname, '..', '..', 'bin', 'spikelab.js');
const dir = mkdtempSync(join(tmpdir(), 'spikelab-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function spikelab(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], { maxBuffer: 1 << 24 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

const lastJson = (stdout: string) => JSON.parse(stdout.trim().split('\n').pop()!);
const small = ['train', '--neurons', '20', '--train', '600', '--test', '200', '--seed', '3', '--json'];

describe('spikelab train', () => {
  it('trains, tests and reports JSON, .npy weights and the receptive-field PNG', async () => {
    const npy = join(dir, 'w.npy');
    const png = join(dir, 'grid.png');
    const { code, stdout, stderr } = await spikelab(...small, '--save-weights', npy, '--weights-png', png);
    expect(code).toBe(0);
    expect(stderr).toMatch(/train .*600\/600/);
    expect(stdout).toMatch(/confusion matrix/);
    const r = lastJson(stdout);
    expect(r.train.samples).toBe(600);
    expect(r.test.samples).toBe(200);
    expect(r.accuracy.allActivity).toBeGreaterThan(0.3); // chance is 0.1
    const weights = decodeNpyFloat32(readFileSync(npy));
    expect(weights.shape).toEqual([784, 20]);
    const { createHash } = await import('node:crypto');
    const sha = createHash('sha256').update(new Uint8Array(weights.data.buffer)).digest('hex');
    expect(sha).toBe(r.weightsSha256);
    const image = PNG.sync.read(readFileSync(png));
    expect(image.width).toBeGreaterThan(28 * 5);
  });

  it('resumes in a fresh process from a saved checkpoint with bit-identical weights', async () => {
    const straight = lastJson((await spikelab(...small)).stdout);
    const ck = join(dir, 'state.bin');
    const first = await spikelab(...small, '--checkpoint', ck, '--stop-after', '250');
    expect(first.code).toBe(0);
    expect(lastJson(first.stdout).train.samples).toBe(250);
    const resumed = lastJson((await spikelab(...small, '--resume', ck)).stdout);
    expect(resumed.weightsSha256).toBe(straight.weightsSha256);
    expect(resumed.accuracy).toEqual(straight.accuracy);
    const other = lastJson((await spikelab(...small.slice(0, -3), '--seed', '4', '--json')).stdout);
    expect(other.weightsSha256).not.toBe(straight.weightsSha256);
    // --threads changes where the work runs, not what it computes.
    const twoThreads = lastJson((await spikelab(...small, '--threads', '2')).stdout);
    expect(twoThreads.weightsSha256).toBe(straight.weightsSha256);
  });

  it.each([
    [['train', '--neurons', 'abc'], /--neurons expects a number/],
    [['train', '--bogus'], /Unknown option '--bogus'/],
    [['train', '--neurons', '0'], /^spikelab: neurons: /],
    [['train', '--time', '250.5'], /timePerSampleMs: must be a whole number of dt steps/],
    [['train', '--encoder', 'morse'], /^spikelab: encoder: /],
    [['train', '--resume', join(dir, 'missing.bin')], /cannot read checkpoint file/],
    [['fly'], /unknown command "fly"/],
    [['train', '--threads', '0'], /--threads: an integer from 1 to 32/],
    [['train', '--threads', String(availableParallelism() + 1)], /--threads: this machine has \d+ cores/],
  ])('rejects %j with one line and exit code 2', async (args, message) => {
    const { code, stderr } = await spikelab(...args);
    expect(code).toBe(2);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(message);
  });
});
