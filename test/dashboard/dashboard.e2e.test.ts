/**
 * End-to-end test of the lab dashboard: the compiled server (dist/src/server.js, serving the
 * built dashboard/dist at `/`) runs as a child process, and headless Chromium (Debian `chromium`
 * driven by playwright-core) uses the real page: submit an experiment through the form, watch it
 * run, compare two receptive-field snapshots pixel by pixel, read the finished accuracy and
 * confusion matrix, and download the weights; upload a dataset through the Datasets page (a bad
 * file first: the error appears next to its field), train on it from the form and see 16×16
 * receptive fields; see the tuning plots of an oriented-bars run; open a sweep's page (sorted
 * trial table, objective against the parameter, the best trial); start a sweep from the form of
 * the sweeps page (the README's example prefilled; a bad path's 400 shown with its field).
 *
 * Needs `npm run build` first (`npm test` does it). When chromium is missing the test is skipped
 * locally and fails under CI=true (.ci/run installs chromium). Screenshots go to test-output/.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idx, shapesIdx } from '../helpers/datasets.js';

// Functions passed to page.waitForFunction/evaluate run in the browser; the test tsconfig has no DOM lib.
declare const document: any; // eslint-disable-line @typescript-eslint/no-explicit-any
declare const window: any; // eslint-disable-line @typescript-eslint/no-explicit-any

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const outDir = path.join(root, 'test-output', 'dashboard');
const serverJs = path.join(root, 'dist', 'src', 'server.js');
const dashboardIndex = path.join(root, 'dashboard', 'dist', 'index.html');

const chromiumPath = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find(
  (p): p is string => !!p && existsSync(p),
);
const inCI = !!process.env.CI && !['0', 'false'].includes(process.env.CI.toLowerCase());

const NEURONS = 100;
const TRAIN = 30_000;
const TEST = 1000;
const WEIGHTS_EVERY = 500;

interface CanvasPixels {
  sampleIndex: number;
  width: number;
  height: number;
  data: number[];
}

/** Starts the compiled server on a free port (PORT=0) and resolves with its base URL. */
async function startServer(dataDir: string, log: string[]): Promise<{ proc: ChildProcess; base: string }> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOST: '127.0.0.1',
    PORT: '0',
    DATA_DIR: dataDir,
    WORKERS: '1',
    LOG_LEVEL: 'info',
    API_KEYS: '',
    CORS_ORIGINS: '',
  };
  delete env.DATABASE_URL; // the embedded store, whatever the surrounding tests use
  delete env.REDIS_URL;
  const proc = spawn(process.execPath, [serverJs], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 45 s:\n${log.slice(-20).join('\n')}`)), 45_000);
    let buffered = '';
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      let nl;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (!/"msg":"(incoming request|request completed)"/.test(line)) log.push(line);
        if (log.length > 400) log.splice(0, log.length - 400);
        const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(line);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${log.slice(-20).join('\n')}`));
    });
  });
  return { proc, base };
}

/** Waits until the receptive-field canvas shows a snapshot satisfying `after`, and reads its pixels. */
async function rfPixels(page: Page, after: number, timeout: number): Promise<CanvasPixels> {
  const handle = await page.waitForFunction(
    (min: number) => {
      const c = document.querySelector('[data-testid=rf-canvas]');
      const s = Number(c?.dataset.sampleIndex ?? -1);
      if (!c || !(s > min)) return null;
      const img = c.getContext('2d').getImageData(0, 0, c.width, c.height);
      return { sampleIndex: s, width: c.width, height: c.height, data: Array.from(img.data) };
    },
    after,
    { timeout, polling: 'raf' },
  );
  return (await handle.jsonValue()) as CanvasPixels;
}

describe.skipIf(!chromiumPath && !inCI)('dashboard (headless Chromium)', () => {
  let browser: Browser | undefined;
  let server: ChildProcess | undefined;
  let base = '';
  let dataDir = '';
  const serverLog: string[] = [];

  beforeAll(async () => {
    if (!chromiumPath) throw new Error('chromium is not installed (apt-get install chromium); CI requires the dashboard test to run');
    for (const [file, hint] of [
      [serverJs, 'the server'],
      [dashboardIndex, 'the dashboard'],
    ]) {
      if (!existsSync(file)) throw new Error(`${file} is missing: run npm run build to build ${hint}`);
    }
    rmSync(outDir, { recursive: true, force: true });
    mkdirSync(outDir, { recursive: true });
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'spikelab-dashboard-'));
    const [started, launched] = await Promise.all([
      startServer(dataDir, serverLog),
      chromium.launch({
        executablePath: chromiumPath,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-quic',
          '--no-first-run',
          '--disable-component-update',
          '--disable-sync',
        ],
      }),
    ]);
    server = started.proc;
    base = started.base;
    browser = launched;
  }, 60_000);

  /** A fresh page of its own context; `pageErrors` collects its uncaught errors and console errors (the API's 400s aside). */
  async function watchedPage(options: { acceptDownloads?: boolean } = {}) {
    const context = await browser!.newContext({ viewport: { width: 1280, height: 800 }, ...options });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.stack ?? err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error' && !/status of 400/.test(msg.text())) pageErrors.push(`console: ${msg.text()}`);
    });
    return { context, page, pageErrors };
  }

  /** A failed test's error: a full-page screenshot saved as `shot`, the server log's tail appended. */
  async function failed(page: Page, shot: string, err: unknown): Promise<Error> {
    await page.screenshot({ path: path.join(outDir, shot), fullPage: true }).catch(() => {});
    return new Error(`${(err as Error).message}\n--- server log (tail) ---\n${serverLog.slice(-15).join('\n')}`, { cause: err });
  }

  afterAll(async () => {
    await browser?.close();
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server!.once('exit', r));
      server.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 8000))]);
      if (server.exitCode === null) server.kill('SIGKILL');
    }
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('submits an experiment through the form, watches it learn, and downloads the weights', async () => {
    const { context, page, pageErrors } = await watchedPage({ acceptDownloads: true });

    try {
      // ---- the form shows the API's validation error next to the field ----
      await page.goto(`${base}/#/new`);
      await page.waitForSelector('form.experiment-form[data-ready=true]');
      await page.getByLabel('Excitatory neurons').fill('0');
      await page.getByRole('button', { name: 'Start experiment' }).click();
      const neuronsError = page.locator('#f-neurons-error');
      await expect.poll(() => neuronsError.textContent(), { timeout: 10_000 }).toMatch(/neurons/);
      expect(await page.getAttribute('#f-neurons', 'aria-invalid')).toBe('true');
      await page.screenshot({ path: path.join(outDir, 'new-validation-error-1280x800.png') });

      // ---- submit a small experiment ----
      await page.getByLabel('Name').fill('dashboard e2e');
      await page.getByLabel('Excitatory neurons').fill(String(NEURONS));
      await page.getByLabel('Training samples per epoch').fill(String(TRAIN));
      await page.getByLabel('Test samples').fill(String(TEST));
      await page.getByLabel('Seed').fill('7');
      await page.getByLabel('Weight snapshot every (samples)').fill(String(WEIGHTS_EVERY));
      await page.getByRole('button', { name: 'Start experiment' }).click();
      await page.waitForURL(/#\/experiments\/[0-9a-f-]{36}$/, { timeout: 10_000 });
      const id = decodeURIComponent(page.url().split('#/experiments/')[1]!);

      // ---- status reaches running ----
      await page.waitForFunction(
        () => document.querySelector('[data-testid=status-history]')?.dataset.statuses?.split(' ').includes('running'),
        undefined,
        { timeout: 30_000, polling: 'raf' },
      );

      // ---- the receptive fields change between two snapshots, across a dropped connection ----
      const first = await rfPixels(page, 0, 30_000);
      expect(first.sampleIndex).toBeLessThan(TRAIN);
      await page.screenshot({ path: path.join(outDir, 'running-1280x800.png') });
      // Drop the stream: the page reconnects with backoff and the next snapshot arrives on the new socket.
      await page.getByRole('button', { name: 'Reconnect' }).click();
      await page.waitForFunction(
        () => /reconnect/.test(document.querySelector('[data-testid=dropped]')?.textContent ?? ''),
        undefined,
        { timeout: 10_000 },
      );
      await page.waitForFunction(
        () => ['live', 'ended'].includes(document.querySelector('[data-testid=stream-state]')?.dataset.state ?? ''),
        undefined,
        { timeout: 20_000 },
      );
      const second = await rfPixels(page, first.sampleIndex, 30_000);
      expect(second.sampleIndex).toBeGreaterThan(first.sampleIndex);
      expect([second.width, second.height]).toEqual([first.width, first.height]);
      // 10×10 tiles of 28×28 with 1-px gaps.
      expect(first.width).toBe(10 * 29 + 1);
      let changed = 0;
      for (let k = 0; k < first.data.length; k += 4) {
        if (first.data[k] !== second.data[k] || first.data[k + 1] !== second.data[k + 1] || first.data[k + 2] !== second.data[k + 2]) changed++;
      }
      const tilePixels = NEURONS * 28 * 28;
      expect(changed / tilePixels).toBeGreaterThan(0.01);

      // ---- finished: accuracy and confusion matrix ----
      const confusion = page.getByTestId('confusion');
      await confusion.waitFor({ timeout: 60_000 });
      await page.waitForFunction(() => document.querySelector('[data-testid=status]')?.dataset.status === 'completed');
      const cells = await confusion.locator('tbody tr').evaluateAll((rows) =>
        rows.map((r) => Array.from(r.querySelectorAll('td:not(.recall)') as ArrayLike<{ textContent: string | null }>).map((td) => Number(td.textContent))),
      );
      expect(cells).toHaveLength(10);
      for (const row of cells) expect(row).toHaveLength(10);
      expect(cells.flat().reduce((a, b) => a + b, 0)).toBe(TEST);

      const detail = (await (await fetch(`${base}/v1/experiments/${id}`)).json()) as {
        status: string;
        result: { accuracy: { allActivity: number }; confusion: number[][] };
      };
      expect(detail.status).toBe('completed');
      expect(cells).toEqual(detail.result.confusion);
      const accuracyText = (await page.getByTestId('accuracy').textContent()) ?? '';
      const shown = /Test accuracy \(all activity\)\s*([\d.]+)%/.exec(accuracyText);
      expect(shown, accuracyText).not.toBeNull();
      expect(Number(shown![1])).toBeCloseTo(detail.result.accuracy.allActivity * 100, 1);
      // Learning quality is the engine tests' business; here the page must show what the API reports.
      expect(detail.result.accuracy.allActivity).toBeGreaterThanOrEqual(0);
      expect(detail.result.accuracy.allActivity).toBeLessThanOrEqual(1);
      await expect.poll(() => page.getAttribute('[data-testid=rf-canvas]', 'data-sample-index'), { timeout: 10_000 }).toBe(String(TRAIN));
      await page.getByTestId('assignments').waitFor();

      // ---- download the weights (.npy) ----
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-npy').click()]);
      const npyPath = path.join(outDir, `weights-${id}.npy`);
      await download.saveAs(npyPath);
      const npy = readFileSync(npyPath);
      expect(npy.subarray(0, 6).equals(Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]))).toBe(true);
      const major = npy[6]!;
      const headerLen = major === 1 ? npy.readUInt16LE(8) : npy.readUInt32LE(8);
      const headerStart = major === 1 ? 10 : 12;
      const header = npy.subarray(headerStart, headerStart + headerLen).toString('latin1');
      expect(header).toMatch(/'descr':\s*'<f4'/);
      expect(header).toMatch(/'fortran_order':\s*False/);
      expect(header).toMatch(new RegExp(`'shape':\\s*\\(784,\\s*${NEURONS}\\)`));
      expect(npy.length).toBe(headerStart + headerLen + 784 * NEURONS * 4);

      // ---- screenshots: 1280×800 and a narrow screen ----
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: path.join(outDir, 'finished-1280x800.png') });
      await page.screenshot({ path: path.join(outDir, 'finished-full-1280.png'), fullPage: true });
      // Nothing may overflow the viewport horizontally (wide tables scroll inside their box).
      const pageWidth = () => page.evaluate(() => document.documentElement.scrollWidth as number);
      expect(await pageWidth()).toBeLessThanOrEqual(1280);
      await page.setViewportSize({ width: 390, height: 844 });
      await expect.poll(pageWidth, { timeout: 5000 }).toBeLessThanOrEqual(390);
      await page.screenshot({ path: path.join(outDir, 'finished-390x844.png') });
      await page.goto(`${base}/#/experiments`);
      await page.getByTestId('experiment-list').locator(`tr[data-id="${id}"]`).waitFor();
      await expect.poll(pageWidth, { timeout: 5000 }).toBeLessThanOrEqual(390);
      await page.screenshot({ path: path.join(outDir, 'list-390x844.png') });
      await page.setViewportSize({ width: 1280, height: 800 });
      await page.screenshot({ path: path.join(outDir, 'list-1280x800.png') });

      expect(pageErrors).toEqual([]);
    } catch (err) {
      throw await failed(page, 'failure.png', err);
    } finally {
      await context.close();
    }
  }, 120_000);

  it('uploads a dataset, shows the bad-file error next to its field, trains on it, and draws tuning plots', async () => {
    const { context, page, pageErrors } = await watchedPage();
    const set = shapesIdx(800, 200, 3);
    const file = (f: { bytes: Uint8Array; filename: string }) => ({ name: f.filename, mimeType: 'application/octet-stream', buffer: Buffer.from(f.bytes) });
    try {
      await page.goto(`${base}/#/datasets`);
      await page.getByTestId('upload-form').waitFor();
      // ---- a bad upload: 799 labels for 800 images ----
      await page.setInputFiles('#ds-trainImages', file(set.trainImages));
      await page.setInputFiles('#ds-trainLabels', file({ bytes: idx([799], set.raw.train.labels.subarray(0, 799)), filename: 'short-labels-idx1-ubyte' }));
      await page.getByTestId('upload-submit').click();
      const labelsError = page.locator('#ds-trainLabels-error');
      await expect.poll(() => labelsError.textContent(), { timeout: 10_000 }).toMatch(/799 labels for 800 images/);
      expect(await page.getAttribute('#ds-trainLabels', 'aria-invalid')).toBe('true');
      expect(await page.getByTestId('dataset-list').textContent()).toMatch(/No datasets yet/);
      await page.screenshot({ path: path.join(outDir, 'datasets-upload-error-1280x800.png') });

      // ---- the good upload ----
      await page.getByLabel('Name').fill('shapes e2e');
      await page.setInputFiles('#ds-trainLabels', file(set.trainLabels));
      await page.setInputFiles('#ds-testImages', file(set.testImages));
      await page.setInputFiles('#ds-testLabels', file(set.testLabels));
      await page.getByTestId('upload-submit').click();
      const row = page.getByTestId('dataset-list').locator('tr[data-dataset-id]');
      await row.waitFor({ timeout: 10_000 });
      expect(await row.textContent()).toMatch(/shapes e2e.*16×16.*4.*800 \/ 200/);
      const datasetId = (await row.getAttribute('data-dataset-id'))!;
      // The preview image loaded (a real PNG from the API).
      await expect.poll(() => row.locator('img').evaluate((img: any) => img.complete && img.naturalWidth), { timeout: 10_000 }).toBeGreaterThan(0);
      await page.screenshot({ path: path.join(outDir, 'datasets-1280x800.png') });

      // ---- train on it from the form ----
      await row.getByRole('link', { name: 'Train on it' }).click();
      await page.waitForSelector('#dataset-select[data-ready=true]');
      expect(await page.inputValue('#dataset-select')).toBe(`upload:${datasetId}`);
      await page.getByLabel('Excitatory neurons').fill('16');
      await page.getByLabel('Weight snapshot every (samples)').fill('100');
      await page.getByRole('button', { name: 'Start experiment' }).click();
      await page.waitForURL(/#\/experiments\/[0-9a-f-]{36}$/, { timeout: 10_000 });
      await page.waitForFunction(() => document.querySelector('[data-testid=status]')?.dataset.status === 'completed', undefined, { timeout: 60_000 });
      // 4×4 tiles of 16×16 with 1-px gaps.
      await expect.poll(() => page.evaluate(() => document.querySelector('[data-testid=rf-canvas]').width as number), { timeout: 10_000 }).toBe(4 * 17 + 1);
      const cells = await page.getByTestId('confusion').locator('tbody tr').count();
      expect(cells).toBe(4);

      // ---- oriented bars: the tuning plots ----
      await page.goto(`${base}/#/new`);
      await page.waitForSelector('form.experiment-form[data-ready=true]');
      await page.selectOption('#dataset-select', 'oriented-bars');
      await page.getByLabel('Excitatory neurons').fill('16');
      await page.getByRole('button', { name: 'Start experiment' }).click();
      await page.waitForURL(/#\/experiments\/[0-9a-f-]{36}$/, { timeout: 10_000 });
      const tuning = page.getByTestId('tuning');
      await tuning.waitFor({ timeout: 60_000 });
      expect(await page.getByTestId('tuning-summary').textContent()).toMatch(/of 16 responsive neurons have OSI ≥ 0\.8 .* 8 orientations/);
      expect(await page.evaluate(() => document.querySelector('[data-testid=tuning-canvas]').width as number)).toBeGreaterThan(0);
      await tuning.scrollIntoViewIfNeeded();
      await page.screenshot({ path: path.join(outDir, 'tuning-1280x800.png') });
      expect(pageErrors).toEqual([]);
    } catch (err) {
      throw await failed(page, 'failure-datasets.png', err);
    } finally {
      await context.close();
    }
  }, 120_000);

  it('shows a sweep: trials in a sortable table, objective against the parameter, the best with its test accuracy', async () => {
    const res = await fetch(`${base}/v1/sweeps`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'e2e rates',
        base: { preset: 'diehl-cook-2015', neurons: 16, train: 300, validation: 100, test: 100, labelUpdateInterval: 100 },
        parameters: [{ type: 'grid', path: '/encoder/maxRateHz', values: [48, 96, 128] }],
      }),
    });
    expect(res.status).toBe(201);
    const sweep = (await res.json()) as { id: string };
    const context = await browser!.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.stack ?? err.message));
    try {
      await page.goto(`${base}/#/sweeps`);
      await page.getByTestId('sweep-list').getByRole('link', { name: 'e2e rates' }).click();
      await page.waitForURL(new RegExp(`#/sweeps/${sweep.id}$`));
      await page.getByTestId('sweep-best').waitFor({ timeout: 60_000 });
      expect(await page.getByTestId('sweep-head').textContent()).toMatch(/completed.*3\/3 trials completed/);
      expect(await page.getByTestId('sweep-best').textContent()).toMatch(/\/encoder\/maxRateHz = \d+.*validation \d+\.\d%.*test \d+\.\d%/);
      expect(await page.getByTestId('sweep-scatter').locator('circle').count()).toBe(3);
      const rows = page.getByTestId('sweep-trials').locator('tbody tr');
      expect(await rows.count()).toBe(3);
      // Sorted by objective (descending) first; by the parameter (ascending) after a click.
      expect(await rows.first().getAttribute('data-best')).toBe('true');
      await page.locator('button[data-sort="p:/encoder/maxRateHz"]').click();
      expect(await rows.locator('td:nth-child(3)').allTextContents()).toEqual(['48', '96', '128']);
      // Learning curves of the 3 (best) trials, selected by default, overlaid.
      await expect.poll(() => page.getByTestId('sweep-curves').locator('.u-legend .u-series').count(), { timeout: 10_000 }).toBe(4);
      expect(await rows.locator('input[type=checkbox]:checked').count()).toBe(3);
      await rows.first().locator('input[type=checkbox]').uncheck();
      await expect.poll(() => page.getByTestId('sweep-curves').locator('.u-legend .u-series').count(), { timeout: 10_000 }).toBe(3);
      await page.screenshot({ path: path.join(outDir, 'sweep-1280x800.png') });

      // Compare the 2 still selected: the differing field (the rate) highlighted, curves, receptive fields.
      await page.getByTestId('compare-link').click();
      await page.waitForURL(/#\/compare\?ids=/);
      const diff = page.getByTestId('compare-diff');
      await diff.waitFor({ timeout: 10_000 });
      expect(await diff.locator('tbody tr').evaluateAll((trs: any[]) => trs.map((tr) => tr.dataset.path))).toEqual(['/encoder/maxRateHz']);
      expect(await diff.locator('td.diff').count()).toBe(2);
      await expect.poll(() => page.getByTestId('compare-curves').locator('.u-legend .u-series').count(), { timeout: 10_000 }).toBe(3);
      await expect
        .poll(() => page.getByTestId('compare-rf').locator('img').evaluateAll((imgs: any[]) => imgs.filter((i) => i.complete && i.naturalWidth > 0).length), { timeout: 10_000 })
        .toBe(2);
      await page.screenshot({ path: path.join(outDir, 'compare-1280x800.png'), fullPage: true });
      expect(pageErrors).toEqual([]);
    } catch (err) {
      await page.screenshot({ path: path.join(outDir, 'failure-sweep.png'), fullPage: true }).catch(() => {});
      throw new Error(`${(err as Error).message}\n--- server log (tail) ---\n${serverLog.slice(-15).join('\n')}`, { cause: err });
    } finally {
      await context.close();
    }
  }, 120_000);

  it('starts a sweep from the sweeps page form: the README example prefilled, a 400 shown with its field, then the new sweep', async () => {
    const { context, page, pageErrors } = await watchedPage();
    try {
      await page.goto(`${base}/#/sweeps`);
      const form = page.getByTestId('sweep-form');
      await form.waitFor();
      // Prefilled with the request README's "Parameter sweeps" section tells a new user to paste.
      const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
      const readmeRequest = /curl -s -X POST http:\/\/127\.0\.0\.1:8080\/v1\/sweeps [^\n]*-d '(\{[\s\S]*?\})'/.exec(readme)?.[1];
      expect(readmeRequest, 'the README sweep example').toBeDefined();
      expect(JSON.parse(await page.inputValue('#sweep-json'))).toEqual(JSON.parse(readmeRequest!));

      // ---- a bad path: the server's 400 and the field it names, nothing created ----
      const request = {
        name: 'form sweep',
        base: { preset: 'diehl-cook-2015', neurons: 16, train: 300, validation: 100, test: 100, labelUpdateInterval: 100 },
        parameters: [{ type: 'grid', path: '/encoder/nope', values: [48, 96] }],
      };
      const sweepsBefore = ((await (await fetch(`${base}/v1/sweeps`)).json()) as { total: number }).total;
      await page.fill('#sweep-json', JSON.stringify(request));
      await page.getByRole('button', { name: 'Start sweep' }).click();
      const error = page.getByTestId('sweep-form-error');
      await expect.poll(() => error.textContent(), { timeout: 10_000 }).toMatch(/400 validation_error.*\/encoder\/nope.*\(field parameters\.0\.path\)/);
      expect(await error.getAttribute('data-field')).toBe('parameters.0.path');
      expect(await page.getAttribute('#sweep-json', 'aria-invalid')).toBe('true');
      expect(page.url()).toMatch(/#\/sweeps$/);
      expect(((await (await fetch(`${base}/v1/sweeps`)).json()) as { total: number }).total).toBe(sweepsBefore);
      await page.screenshot({ path: path.join(outDir, 'sweep-form-error-1280x800.png') });

      // ---- fixed: the sweep starts and the page shows it ----
      request.parameters[0]!.path = '/encoder/maxRateHz';
      await page.fill('#sweep-json', JSON.stringify(request));
      await page.getByRole('button', { name: 'Start sweep' }).click();
      await page.waitForURL(/#\/sweeps\/[0-9a-f-]{36}$/, { timeout: 10_000 });
      const id = decodeURIComponent(page.url().split('#/sweeps/')[1]!);
      const created = (await (await fetch(`${base}/v1/sweeps/${id}`)).json()) as { name: string; request: { parameters: unknown[] } };
      expect(created.name).toBe('form sweep');
      expect(created.request.parameters).toEqual([{ type: 'grid', path: '/encoder/maxRateHz', values: [48, 96] }]);
      await page.getByTestId('sweep-best').waitFor({ timeout: 60_000 });
      expect(await page.getByTestId('sweep-head').textContent()).toMatch(/completed.*2\/2 trials completed/);
      expect(await page.getByTestId('sweep-trials').locator('tbody tr').count()).toBe(2);
      expect(pageErrors).toEqual([]);
    } catch (err) {
      throw await failed(page, 'failure-sweep-form.png', err);
    } finally {
      await context.close();
    }
  }, 120_000);
});
