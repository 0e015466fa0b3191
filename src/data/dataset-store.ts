/**
 * Dataset records (who uploaded what, its shape and hash) in the experiments database; the bytes
 * are in DatasetBlobs, shared between records of identical content.
 *
 * Tenancy: `owner` is the uploading principal's id (null without API-key principals). A principal
 * sees its own datasets; an admin, or a server without principals, sees all.
 */
import type { SqlClient } from '../store/sql-client.js';
import type { DatasetBlobs } from './blobs.js';
import type { DatasetMeta } from './ingest.js';

/** The caller and the visibility rule are the API's (src/api/ownership.ts): one contract for every resource. */
export { canSee, type RequestPrincipal as Principal } from '../api/ownership.js';

export interface DatasetRecord {
  id: string;
  name: string;
  owner: string | null;
  sha256: string;
  meta: DatasetMeta;
  createdAt: string;
}

interface Row {
  id: string;
  name: string;
  owner: string | null;
  sha256: string;
  meta: DatasetMeta;
  created_at: Date | string;
}

const toRecord = (r: Row): DatasetRecord => ({
  id: r.id,
  name: r.name,
  owner: r.owner,
  sha256: r.sha256,
  meta: r.meta,
  createdAt: new Date(r.created_at).toISOString(),
});

export class DatasetStore {
  private readonly table: string;
  private readonly experiments: string;

  constructor(
    private readonly db: SqlClient,
    private readonly schema: string,
    readonly blobs: DatasetBlobs,
  ) {
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`invalid schema name ${schema}`);
    this.table = `${schema}.datasets`;
    this.experiments = `${schema}.experiments`;
  }

  async init(): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`spikelab:${this.schema}`]);
      await tx.query(`CREATE TABLE IF NOT EXISTS ${this.table} (
        seq bigserial NOT NULL,
        id text PRIMARY KEY,
        name text NOT NULL,
        owner text,
        sha256 text NOT NULL,
        meta jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
      // One record per owner and content: uploading the same data again returns the existing one.
      await tx.query(`CREATE UNIQUE INDEX IF NOT EXISTS datasets_owner_sha ON ${this.table} (coalesce(owner, ''), sha256)`);
    });
    await this.blobs.init();
  }

  async findByHash(owner: string | null, sha256: string): Promise<DatasetRecord | null> {
    const rows = await this.db.query<Row>(
      `SELECT id, name, owner, sha256, meta, created_at FROM ${this.table} WHERE coalesce(owner, '') = coalesce($1, '') AND sha256 = $2`,
      [owner, sha256],
    );
    return rows[0] ? toRecord(rows[0]) : null;
  }

  /** Inserts the record; if the owner already has this content, returns that record instead (created: false). */
  async create(input: { id: string; name: string; owner: string | null; sha256: string; meta: DatasetMeta }): Promise<{ record: DatasetRecord; created: boolean }> {
    const rows = await this.db.query<Row>(
      `INSERT INTO ${this.table} (id, name, owner, sha256, meta) VALUES ($1, $2, $3, $4, $5::jsonb)
       ON CONFLICT (coalesce(owner, ''), sha256) DO NOTHING
       RETURNING id, name, owner, sha256, meta, created_at`,
      [input.id, input.name, input.owner, input.sha256, JSON.stringify(input.meta)],
    );
    if (rows[0]) return { record: toRecord(rows[0]), created: true };
    const existing = await this.findByHash(input.owner, input.sha256);
    if (!existing) throw new Error('dataset record vanished during upload');
    return { record: existing, created: false };
  }

  async get(id: string): Promise<DatasetRecord | null> {
    const rows = await this.db.query<Row>(`SELECT id, name, owner, sha256, meta, created_at FROM ${this.table} WHERE id = $1`, [id]);
    return rows[0] ? toRecord(rows[0]) : null;
  }

  /** Newest first; `owner` undefined = everyone's. */
  async list(q: { owner?: string | null; limit: number; offset: number }): Promise<{ items: DatasetRecord[]; total: number }> {
    const all = q.owner === undefined;
    const where = all ? '' : `WHERE coalesce(owner, '') = coalesce($3, '')`;
    const params = all ? [q.limit, q.offset] : [q.limit, q.offset, q.owner ?? null];
    const rows = await this.db.query<Row>(
      `SELECT id, name, owner, sha256, meta, created_at FROM ${this.table} ${where} ORDER BY seq DESC LIMIT $1 OFFSET $2`,
      params,
    );
    const count = await this.db.query<{ n: number | string }>(
      `SELECT count(*)::int AS n FROM ${this.table} ${all ? '' : `WHERE coalesce(owner, '') = coalesce($1, '')`}`,
      all ? [] : [q.owner ?? null],
    );
    return { items: rows.map(toRecord), total: Number(count[0]!.n) };
  }

  async count(): Promise<number> {
    const rows = await this.db.query<{ n: number | string }>(`SELECT count(*)::int AS n FROM ${this.table}`);
    return Number(rows[0]!.n);
  }

  /** Queued or running experiments that train on the dataset. */
  /** Queued or running experiments on this dataset, with their owners (callers show only what the requester may see). */
  async usedBy(id: string): Promise<{ id: string; owner: string | null }[]> {
    const rows = await this.db.query<{ id: string; owner: string | null }>(
      `SELECT id, owner FROM ${this.experiments} WHERE status IN ('queued', 'running') AND definition->'dataset'->>'id' = $1 ORDER BY seq LIMIT 10`,
      [id],
    );
    return rows.map((r) => ({ id: r.id, owner: r.owner ?? null }));
  }

  /** Deletes the record, and the bytes when no other record shares them. */
  async delete(id: string): Promise<boolean> {
    const rows = await this.db.query<{ sha256: string }>(`DELETE FROM ${this.table} WHERE id = $1 RETURNING sha256`, [id]);
    if (!rows[0]) return false;
    const sha = rows[0].sha256;
    const others = await this.db.query(`SELECT 1 FROM ${this.table} WHERE sha256 = $1 LIMIT 1`, [sha]);
    if (others.length === 0) await this.blobs.remove(sha);
    return true;
  }
}
