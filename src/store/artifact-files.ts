/**
 * Artifact bytes (checkpoints, weights, θ) as files under DATA_DIR/artifacts/<experiment>/, used
 * with the embedded database. PGlite runs PostgreSQL in the main thread, and a bytea of a few
 * hundred kB costs it ~50 ms of blocked event loop (megabytes for large networks), which would
 * stall every stream; file I/O is asynchronous. With a PostgreSQL server the bytes stay in the
 * database, where every API instance and worker can reach them.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

const safeId = (id: string) => {
  // Ids are UUIDs we generate; anything else must not escape the directory.
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(id)) throw new Error(`invalid experiment id for a file name: ${id}`);
  return id;
};

export class ArtifactFiles {
  constructor(private readonly dir: string) {}

  private file(id: string, kind: string) {
    return path.join(this.dir, safeId(id), `${kind}.bin`);
  }

  /** Written to a temporary name and renamed, so a crash never leaves a torn checkpoint. */
  async put(id: string, kind: string, data: Uint8Array): Promise<void> {
    const file = this.file(id, kind);
    await mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.tmp`;
    await writeFile(tmp, data);
    await rename(tmp, file);
  }

  async get(id: string, kind: string): Promise<Uint8Array | null> {
    try {
      return new Uint8Array(await readFile(this.file(id, kind)));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async remove(id: string, kind?: string): Promise<void> {
    if (kind) await rm(this.file(id, kind), { force: true });
    else await rm(path.join(this.dir, safeId(id)), { recursive: true, force: true });
  }
}
