/**
 * Dataset bytes in PostgreSQL (distributed mode): chunked storage, range reads across chunk
 * boundaries, the per-process cache (copied once, by hash) and its LRU bound.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHUNK_BYTES, PgDatasetBlobs } from '../../src/data/blobs.js';
import { openPostgres, type SqlClient } from '../../src/store/sql-client.js';
import { PG_URL, postgresReachable } from '../helpers/postgres.js';
import { tempDir } from '../helpers/server.js';

const pgAvailable = await postgresReachable();
if (process.env.CI && !pgAvailable) throw new Error(`CI is set but PostgreSQL at ${PG_URL} is unreachable`);

describe.skipIf(!pgAvailable)('PgDatasetBlobs', () => {
  const schema = `spikelab_test_${randomBytes(6).toString('hex')}`;
  let db: SqlClient;
  let dir: string;
  const sha = (c: string) => c.repeat(64);

  beforeAll(async () => {
    db = await openPostgres(PG_URL);
    await db.query(`CREATE SCHEMA ${schema}`);
    dir = await tempDir('spikelab-blobs-');
  });
  afterAll(async () => {
    await db?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await db?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function stage(name: string, bytes: Uint8Array): Promise<string> {
    const d = path.join(dir, name);
    await mkdir(d, { recursive: true });
    await writeFile(path.join(d, 'train-images.bin'), bytes);
    return d;
  }

  it('stores chunks, reads any range across chunk boundaries, and caches a copy by hash', async () => {
    const blobs = new PgDatasetBlobs(db, schema, path.join(dir, 'cache'));
    await blobs.init();
    const bytes = randomBytes(CHUNK_BYTES * 2 + 123);
    await blobs.put(sha('a'), await stage('a', bytes), ['train-images']);
    expect(await blobs.has(sha('a'))).toBe(true);
    // Idempotent: storing the same content again changes nothing.
    await blobs.put(sha('a'), await stage('a2', bytes), ['train-images']);
    const rows = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${schema}.dataset_chunks`);
    expect(rows[0]!.n).toBe(3);
    const from = CHUNK_BYTES - 10;
    const got = await blobs.read(sha('a'), 'train-images', from, CHUNK_BYTES + 20);
    expect(Buffer.compare(Buffer.from(got), bytes.subarray(from, from + CHUNK_BYTES + 20))).toBe(0);
    // Past the end: what there is.
    expect((await blobs.read(sha('a'), 'train-images', bytes.length - 5, 100)).length).toBe(5);
    await blobs.ensureLocal(sha('a'));
    expect(Buffer.compare(await readFile(path.join(dir, 'cache', sha('a'), 'train-images.bin')), bytes)).toBe(0);
    await blobs.remove(sha('a'));
    expect(await blobs.has(sha('a'))).toBe(false);
    expect(await readdir(path.join(dir, 'cache'))).toEqual([]);
  });

  it('keeps the cache within its bound, removing the least recently used dataset first', async () => {
    const cache = path.join(dir, 'lru');
    const blobs = new PgDatasetBlobs(db, schema, cache, 2500);
    await blobs.init();
    for (const c of ['b', 'c', 'd']) await blobs.put(sha(c), await stage(c, randomBytes(1000)), ['train-images']);
    await blobs.ensureLocal(sha('b'));
    await blobs.ensureLocal(sha('c'));
    // b was used long ago, c recently: d pushes b (not c) out.
    const old = new Date(Date.now() - 60_000);
    await utimes(path.join(cache, sha('b')), old, old);
    await blobs.ensureLocal(sha('d'));
    expect((await readdir(cache)).sort()).toEqual([sha('c'), sha('d')]);
    // A dataset that is gone from the database is an error naming it.
    await expect(blobs.ensureLocal(sha('e'))).rejects.toThrow(/not in the database/);
  });
});
