/**
 * Where the canonical bytes of datasets live, keyed by content hash (so identical content is
 * stored once, whoever uploads it):
 *
 * - embedded mode: files `DATA_DIR/datasets/<sha256>/<part>.bin`, beside the other artifacts; the
 *   engine threads read them in place.
 * - distributed mode: PostgreSQL (`dataset_chunks`, 1 MiB bytea rows), which every API instance
 *   and worker on every machine already reaches; a worker copies a dataset once into its local
 *   cache directory (by hash, so it never goes stale) before running an experiment on it.
 *   bytea chunks rather than large objects: they are plain rows (schema-scoped, deleted with a
 *   DELETE, dumped and replicated like everything else) and each chunk is streamed separately,
 *   so neither side ever holds a whole dataset in memory.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, utimes } from 'node:fs/promises';
import { once } from 'node:events';
import path from 'node:path';
import type { SqlClient } from '../store/sql-client.js';
import type { CanonicalPart } from './loader.js';

export interface DatasetBlobs {
  readonly kind: 'files' | 'postgres';
  init(): Promise<void>;
  has(sha256: string): Promise<boolean>;
  /** Stores the part files of `dir` (`<part>.bin`) under the hash; a no-op if already stored. */
  put(sha256: string, dir: string, parts: CanonicalPart[]): Promise<void>;
  remove(sha256: string): Promise<void>;
  /** Bytes [start, start+length) of a part (for previews). */
  read(sha256: string, part: CanonicalPart, start: number, length: number): Promise<Uint8Array>;
  /** A local directory where `<sha256>/<part>.bin` exists once `ensureLocal` resolved. */
  readonly localRoot: string;
  ensureLocal(sha256: string): Promise<void>;
}

const hashOk = (sha: string) => {
  if (!/^[0-9a-f]{64}$/.test(sha)) throw new Error(`invalid dataset hash ${sha}`);
  return sha;
};

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

async function readRange(file: string, start: number, length: number): Promise<Uint8Array> {
  const fh = await open(file, 'r');
  try {
    const buf = new Uint8Array(length);
    const { bytesRead } = await fh.read(buf, 0, length, start);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** Moves a fully written directory into place with one rename, so readers never see half a dataset. */
async function publishDir(tmp: string, final: string): Promise<void> {
  try {
    await rename(tmp, final);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // Someone stored the same content meanwhile: theirs is identical.
    if (code === 'EEXIST' || code === 'ENOTEMPTY' || code === 'EPERM') await rm(tmp, { recursive: true, force: true });
    else throw err;
  }
}

export class FileDatasetBlobs implements DatasetBlobs {
  readonly kind = 'files' as const;
  constructor(readonly localRoot: string) {}

  async init(): Promise<void> {
    await mkdir(this.localRoot, { recursive: true });
  }

  has(sha256: string): Promise<boolean> {
    return exists(path.join(this.localRoot, hashOk(sha256)));
  }

  async put(sha256: string, dir: string, parts: CanonicalPart[]): Promise<void> {
    const final = path.join(this.localRoot, hashOk(sha256));
    if (await exists(final)) return;
    const tmp = path.join(this.localRoot, `.tmp-${randomUUID()}`);
    await mkdir(tmp);
    try {
      for (const p of parts) await rename(path.join(dir, `${p}.bin`), path.join(tmp, `${p}.bin`));
      await publishDir(tmp, final);
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      throw err;
    }
  }

  async remove(sha256: string): Promise<void> {
    await rm(path.join(this.localRoot, hashOk(sha256)), { recursive: true, force: true });
  }

  read(sha256: string, part: CanonicalPart, start: number, length: number): Promise<Uint8Array> {
    return readRange(path.join(this.localRoot, hashOk(sha256), `${part}.bin`), start, length);
  }

  async ensureLocal(sha256: string): Promise<void> {
    if (!(await this.has(sha256))) throw new Error(`dataset ${sha256} is not stored in ${this.localRoot}`);
  }
}

export const CHUNK_BYTES = 1 << 20;

export class PgDatasetBlobs implements DatasetBlobs {
  readonly kind = 'postgres' as const;
  private readonly chunks: string;
  private readonly index: string;

  constructor(
    private readonly db: SqlClient,
    private readonly schema: string,
    /** This process's cache of datasets copied out of the database. */
    readonly localRoot: string,
    /** The cache holds at most this many bytes: least recently used datasets are removed first. */
    private readonly maxCacheBytes = 8 * 1024 ** 3,
  ) {
    this.chunks = `${schema}.dataset_chunks`;
    this.index = `${schema}.dataset_blobs`;
  }

  async init(): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`spikelab:${this.schema}:datasets`]);
      await tx.query(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
      // A blob is visible (in dataset_blobs) only once all its chunks are written, in one transaction.
      await tx.query(`CREATE TABLE IF NOT EXISTS ${this.index} (
        sha256 text PRIMARY KEY,
        parts jsonb NOT NULL,
        stored_at timestamptz NOT NULL DEFAULT now()
      )`);
      await tx.query(`CREATE TABLE IF NOT EXISTS ${this.chunks} (
        sha256 text NOT NULL,
        part text NOT NULL,
        seq integer NOT NULL,
        data bytea NOT NULL,
        PRIMARY KEY (sha256, part, seq)
      )`);
    });
    await mkdir(this.localRoot, { recursive: true });
  }

  async has(sha256: string): Promise<boolean> {
    return (await this.db.query(`SELECT 1 FROM ${this.index} WHERE sha256 = $1`, [sha256])).length > 0;
  }

  async put(sha256: string, dir: string, parts: CanonicalPart[]): Promise<void> {
    hashOk(sha256);
    if (await this.has(sha256)) return;
    await this.db.transaction(async (tx) => {
      // Two API instances storing the same content: the second waits here and then finds it.
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`spikelab:dataset:${sha256}`]);
      if ((await tx.query(`SELECT 1 FROM ${this.index} WHERE sha256 = $1`, [sha256])).length > 0) return;
      const sizes: Record<string, number> = {};
      for (const part of parts) {
        let seq = 0;
        let size = 0;
        for await (const chunk of createReadStream(path.join(dir, `${part}.bin`), { highWaterMark: CHUNK_BYTES }) as AsyncIterable<Buffer>) {
          await tx.query(`INSERT INTO ${this.chunks} (sha256, part, seq, data) VALUES ($1, $2, $3, $4)`, [sha256, part, seq++, chunk]);
          size += chunk.length;
        }
        sizes[part] = size;
      }
      await tx.query(`INSERT INTO ${this.index} (sha256, parts) VALUES ($1, $2::jsonb)`, [sha256, JSON.stringify(sizes)]);
    });
  }

  async remove(sha256: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query(`DELETE FROM ${this.index} WHERE sha256 = $1`, [sha256]);
      await tx.query(`DELETE FROM ${this.chunks} WHERE sha256 = $1`, [sha256]);
    });
    await rm(path.join(this.localRoot, hashOk(sha256)), { recursive: true, force: true });
  }

  async read(sha256: string, part: CanonicalPart, start: number, length: number): Promise<Uint8Array> {
    const first = Math.floor(start / CHUNK_BYTES);
    const last = Math.floor((start + Math.max(length, 1) - 1) / CHUNK_BYTES);
    const rows = await this.db.query<{ seq: number; data: Uint8Array }>(
      `SELECT seq, data FROM ${this.chunks} WHERE sha256 = $1 AND part = $2 AND seq BETWEEN $3 AND $4 ORDER BY seq`,
      [sha256, part, first, last],
    );
    const out = new Uint8Array(length);
    let filled = 0;
    for (const r of rows) {
      const base = r.seq * CHUNK_BYTES;
      const from = Math.max(start, base) - base;
      const to = Math.min(start + length, base + r.data.length) - base;
      if (to > from) {
        out.set(r.data.subarray(from, to), base + from - start);
        filled = Math.max(filled, base + to - start);
      }
    }
    return out.subarray(0, filled);
  }

  /** Copies the dataset into the local cache, one chunk at a time, then publishes it with a rename. */
  async ensureLocal(sha256: string): Promise<void> {
    const final = path.join(this.localRoot, hashOk(sha256));
    if (await exists(final)) {
      // Its modification time is its last use (the LRU order of evictCache).
      const now = new Date();
      await utimes(final, now, now).catch(() => {});
      return;
    }
    const rows = await this.db.query<{ parts: Record<string, number> }>(`SELECT parts FROM ${this.index} WHERE sha256 = $1`, [sha256]);
    if (!rows[0]) throw new Error(`dataset ${sha256} is not in the database (deleted?)`);
    const tmp = path.join(this.localRoot, `.tmp-${randomUUID()}`);
    await mkdir(tmp, { recursive: true });
    try {
      for (const [part, size] of Object.entries(rows[0].parts)) {
        const out = createWriteStream(path.join(tmp, `${part}.bin`));
        const chunks = Math.ceil(size / CHUNK_BYTES);
        for (let seq = 0; seq < chunks; seq++) {
          const r = await this.db.query<{ data: Uint8Array }>(`SELECT data FROM ${this.chunks} WHERE sha256 = $1 AND part = $2 AND seq = $3`, [sha256, part, seq]);
          if (!r[0]) throw new Error(`dataset ${sha256}: chunk ${seq} of ${part} is missing`);
          if (!out.write(r[0].data)) await once(out, 'drain');
        }
        await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
      }
      await publishDir(tmp, final);
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      throw err;
    }
    await this.evictCache(sha256);
  }

  /**
   * Removes the least recently used cached datasets (never `keep`) until the cache fits
   * maxCacheBytes. A job reads its dataset into memory when it starts, so removing the files of
   * a dataset in use does not disturb it; a later job copies them again.
   */
  async evictCache(keep: string): Promise<void> {
    const entries: { dir: string; bytes: number; usedAt: number }[] = [];
    for (const name of await readdir(this.localRoot)) {
      if (!/^[0-9a-f]{64}$/.test(name)) continue;
      const dir = path.join(this.localRoot, name);
      let bytes = 0;
      for (const f of await readdir(dir).catch(() => [] as string[])) bytes += (await stat(path.join(dir, f)).catch(() => ({ size: 0 }))).size;
      entries.push({ dir, bytes, usedAt: (await stat(dir).catch(() => ({ mtimeMs: 0 }))).mtimeMs });
    }
    let total = entries.reduce((a, e) => a + e.bytes, 0);
    for (const e of entries.sort((a, b) => a.usedAt - b.usedAt)) {
      if (total <= this.maxCacheBytes) break;
      if (path.basename(e.dir) === keep) continue;
      await rm(e.dir, { recursive: true, force: true });
      total -= e.bytes;
    }
  }
}

/** Leftover temporary directories of interrupted stores (a crash mid-upload) are removed at start. */
export async function removeStaleTemps(root: string): Promise<void> {
  try {
    for (const name of await readdir(root)) if (name.startsWith('.tmp-')) await rm(path.join(root, name), { recursive: true, force: true });
  } catch {
    // The directory does not exist yet.
  }
}
