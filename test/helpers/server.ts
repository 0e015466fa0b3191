/** A real listening SpikeLab server on a random port, with its own data directory. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildApp, type AppOptions, type SpikeLab } from '../../src/api/app.js';
import { loadConfig } from '../../src/config.js';

export interface TestServer {
  lab: SpikeLab;
  url: string;
  wsUrl: string;
  dataDir: string;
  close(): Promise<void>;
}

export async function tempDir(prefix = 'spikelab-test-'): Promise<string> {
  return mkdtemp(path.join(tmpdir(), prefix));
}

export async function startServer(
  env: Record<string, string> = {},
  opts: { dataDir?: string; app?: AppOptions; removeDataDir?: boolean } = {},
): Promise<TestServer> {
  const dataDir = opts.dataDir ?? (await tempDir());
  const config = loadConfig({ DATA_DIR: dataDir, PORT: '0', WORKERS: '1', LOG_LEVEL: 'silent', ...env });
  const lab = await buildApp(config, { dashboardDir: path.join(dataDir, 'no-dashboard'), ...opts.app });
  await lab.app.listen({ host: '127.0.0.1', port: 0 });
  const address = lab.app.server.address();
  if (!address || typeof address === 'string') throw new Error('no address');
  const url = `http://127.0.0.1:${address.port}`;
  const removeDataDir = opts.removeDataDir ?? opts.dataDir === undefined;
  return {
    lab,
    url,
    wsUrl: url.replace('http', 'ws'),
    dataDir,
    async close() {
      await lab.app.close();
      if (removeDataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export async function waitFor<T>(
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  { timeoutMs = 30_000, intervalMs = 20, what = 'condition' } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export async function json(res: Response): Promise<any> {
  const text = await res.text();
  return text ? JSON.parse(text) : undefined;
}

export function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}
