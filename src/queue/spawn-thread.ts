/**
 * Starts a worker thread from a module next to this one. Compiled (dist/*.js) it is the `.js`
 * sibling. Run from TypeScript source (vitest imports src/*.ts, `tsx src/server.ts`) it is the
 * `.ts` sibling, loaded through tsx: Node 20 ignores `--import tsx` in a worker's execArgv, so a
 * small bootstrap registers tsx's loader inside the thread before importing the module.
 */
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const runningFromSource = import.meta.url.endsWith('.ts');

function tsxApiUrl(): string {
  const require = createRequire(import.meta.url);
  const tsxDir = path.dirname(require.resolve('tsx/package.json'));
  return pathToFileURL(path.join(tsxDir, 'dist/esm/api/index.mjs')).href;
}

/** `moduleBaseName` without extension, e.g. 'engine-worker', resolved next to this file. */
export function spawnThread(moduleBaseName: string, opts: { name?: string } = {}): Worker {
  return spawnThreadFromUrl(new URL(`./${moduleBaseName}${runningFromSource ? '.ts' : '.js'}`, import.meta.url), opts);
}

export function spawnThreadFromUrl(url: URL, opts: { name?: string } = {}): Worker {
  if (!url.pathname.endsWith('.ts')) return new Worker(url, { name: opts.name });
  const bootstrap = `import(${JSON.stringify(tsxApiUrl())})
    .then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(bootstrap, { eval: true, name: opts.name });
}
