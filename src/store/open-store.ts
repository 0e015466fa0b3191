import path from 'node:path';
import { ArtifactFiles } from './artifact-files.js';
import { openPglite, openPostgres } from './sql-client.js';
import { SqlExperimentStore } from './sql-store.js';
import type { ExperimentStore } from './store.js';

export interface StoreOptions {
  /** PostgreSQL connection string; without it an embedded PGlite database under dataDir is used. */
  databaseUrl?: string;
  dataDir: string;
  schema?: string;
}

export async function openStore(opts: StoreOptions): Promise<ExperimentStore> {
  const client = opts.databaseUrl
    ? await openPostgres(opts.databaseUrl)
    : await openPglite(path.join(opts.dataDir, 'pglite'));
  // Embedded: artifact bytes as files next to the database (see artifact-files.ts).
  const files = opts.databaseUrl ? undefined : new ArtifactFiles(path.join(opts.dataDir, 'artifacts'));
  const store = new SqlExperimentStore(client, opts.schema ?? 'public', files);
  try {
    await store.init();
  } catch (err) {
    await client.close().catch(() => {});
    throw err;
  }
  return store;
}
