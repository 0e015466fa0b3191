/**
 * The store on PostgreSQL SQL, run unchanged by PGlite (embedded) and by a PostgreSQL server.
 * Tables live in one schema so several deployments (or test runs) can share a database.
 */
import type { ExperimentDefinition } from '../experiment/schema.js';
import type { ExperimentResult, WindowMetricsEvent } from '../experiment/events.js';
import type { ArtifactFiles } from './artifact-files.js';
import type { SqlClient, SqlParam, SqlQueryable } from './sql-client.js';
import {
  experimentStatuses,
  type ExperimentRecord,
  type ExperimentStatus,
  type ExperimentStore,
  type FinalResult,
  type ListQuery,
  type OwnerUsage,
  type ProgressSnapshot,
  type StatusPatch,
  type TrainedArtifacts,
} from './store.js';

interface ExperimentRow {
  id: string;
  name: string;
  status: ExperimentStatus;
  definition: ExperimentDefinition;
  created_at: Date | string;
  started_at: Date | string | null;
  finished_at: Date | string | null;
  progress: ProgressSnapshot | null;
  result: ExperimentResult | null;
  error: string | null;
  checkpoint_samples: number | null;
  checkpoint_at: Date | string | null;
  resumed_from: number | null;
  attempts: number;
  owner: string | null;
  cost: number | string | null;
}

const iso = (v: Date | string | null): string | null => (v === null ? null : new Date(v).toISOString());

function toRecord(row: ExperimentRow): ExperimentRecord {
  return {
    id: row.id,
    name: row.name,
    status: row.status,
    definition: row.definition,
    createdAt: iso(row.created_at)!,
    startedAt: iso(row.started_at),
    finishedAt: iso(row.finished_at),
    progress: row.progress,
    result: row.result,
    error: row.error,
    checkpoint:
      row.checkpoint_samples === null ? null : { samplesDone: row.checkpoint_samples, savedAt: iso(row.checkpoint_at)! },
    resumedFrom: row.resumed_from,
    attempts: row.attempts,
    owner: row.owner,
    cost: row.cost === null ? null : Number(row.cost),
  };
}

const columns =
  'id, name, status, definition, created_at, started_at, finished_at, progress, result, error, checkpoint_samples, checkpoint_at, resumed_from, attempts, owner, cost';

/** A copy that owns exactly its bytes, so typed-array views over it are aligned and independent. */
function ownedBytes(b: Uint8Array): Uint8Array {
  return new Uint8Array(b);
}

function float32FromBytes(b: Uint8Array): Float32Array {
  const own = ownedBytes(b);
  return new Float32Array(own.buffer, 0, own.byteLength / 4);
}

function bytesOfFloat32(a: Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

export class SqlExperimentStore implements ExperimentStore {
  private readonly t: { experiments: string; metrics: string; artifacts: string; usage: string };

  constructor(
    private readonly db: SqlClient,
    private readonly schema = 'public',
    /** Where artifact bytes go; undefined: in the database (bytea). */
    private readonly files?: ArtifactFiles,
  ) {
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`invalid schema name ${schema}`);
    this.t = {
      experiments: `${schema}.experiments`,
      metrics: `${schema}.experiment_metrics`,
      artifacts: `${schema}.experiment_artifacts`,
      usage: `${schema}.owner_usage`,
    };
  }

  get kind() {
    return this.db.kind;
  }

  /** The SQL client and schema, for modules whose tables live in the same database (datasets, sweeps). */
  get sql(): { client: SqlClient; schema: string } {
    return { client: this.db, schema: this.schema };
  }

  async init(): Promise<void> {
    const { experiments, metrics, artifacts, usage } = this.t;
    await this.db.transaction(async (tx) => {
      // Several processes may start at once against one database; serialize the DDL.
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`spikelab:${this.schema}`]);
      await tx.query(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
      await tx.query(`CREATE TABLE IF NOT EXISTS ${experiments} (
        seq bigserial NOT NULL,
        id text PRIMARY KEY,
        name text NOT NULL,
        status text NOT NULL,
        -- json (not jsonb) keeps the key order: the engine hashes the definition text to match checkpoints.
        definition json NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz,
        finished_at timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now(),
        progress jsonb,
        result jsonb,
        error text,
        checkpoint_samples integer,
        checkpoint_at timestamptz,
        resumed_from integer,
        attempts integer NOT NULL DEFAULT 0
      )`);
      await tx.query(`CREATE INDEX IF NOT EXISTS experiments_status_seq ON ${experiments} (status, seq)`);
      // Added with tenants: databases created before keep working (older rows have no owner).
      await tx.query(`ALTER TABLE ${experiments} ADD COLUMN IF NOT EXISTS owner text`);
      await tx.query(`ALTER TABLE ${experiments} ADD COLUMN IF NOT EXISTS cost double precision`);
      await tx.query(`CREATE INDEX IF NOT EXISTS experiments_owner_seq ON ${experiments} (owner, seq)`);
      // What each owner submitted, kept when experiments are deleted: the cost-per-day quota
      // must not be regained by deleting finished experiments.
      await tx.query(`CREATE TABLE IF NOT EXISTS ${usage} (
        owner text NOT NULL,
        cost double precision NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
      await tx.query(`CREATE INDEX IF NOT EXISTS owner_usage_owner_time ON ${usage} (owner, created_at)`);
      await tx.query(`CREATE TABLE IF NOT EXISTS ${metrics} (
        experiment_id text NOT NULL REFERENCES ${experiments}(id) ON DELETE CASCADE,
        samples_seen integer NOT NULL,
        data jsonb NOT NULL,
        PRIMARY KEY (experiment_id, samples_seen)
      )`);
      await tx.query(`CREATE TABLE IF NOT EXISTS ${artifacts} (
        experiment_id text NOT NULL REFERENCES ${experiments}(id) ON DELETE CASCADE,
        kind text NOT NULL,
        data bytea, -- NULL when the bytes live in artifact files (embedded mode)
        meta jsonb NOT NULL DEFAULT '{}',
        saved_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (experiment_id, kind)
      )`);
    });
  }

  close(): Promise<void> {
    return this.db.close();
  }

  async ping(): Promise<void> {
    await this.db.query('SELECT 1');
  }

  async create(input: { id: string; definition: ExperimentDefinition; owner?: string | null; cost?: number | null }): Promise<ExperimentRecord> {
    const owner = input.owner ?? null;
    const cost = input.cost ?? null;
    const rows = await this.db.transaction(async (tx) => {
      const inserted = await tx.query<ExperimentRow>(
        `INSERT INTO ${this.t.experiments} (id, name, status, definition, owner, cost)
         VALUES ($1, $2, 'queued', $3::json, $4, $5) RETURNING ${columns}`,
        [input.id, input.definition.name, JSON.stringify(input.definition), owner, cost],
      );
      if (owner !== null && cost !== null) {
        await tx.query(`INSERT INTO ${this.t.usage} (owner, cost) VALUES ($1, $2)`, [owner, cost]);
      }
      return inserted;
    });
    return toRecord(rows[0]!);
  }

  async usage(owner: string): Promise<OwnerUsage> {
    const rows = await this.db.query<{ queued: number | string; running: number | string; cost: number | string | null }>(
      `SELECT count(*) FILTER (WHERE status = 'queued')::int AS queued,
              count(*) FILTER (WHERE status = 'running')::int AS running,
              (SELECT coalesce(sum(cost), 0)::float8 FROM ${this.t.usage}
               WHERE owner = $1 AND created_at > now() - interval '1 day') AS cost
       FROM ${this.t.experiments} WHERE owner = $1`,
      [owner],
    );
    const r = rows[0]!;
    return { queued: Number(r.queued), running: Number(r.running), costLastDay: Number(r.cost ?? 0) };
  }

  async get(id: string): Promise<ExperimentRecord | null> {
    const rows = await this.db.query<ExperimentRow>(`SELECT ${columns} FROM ${this.t.experiments} WHERE id = $1`, [id]);
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async list(query: ListQuery): Promise<{ items: ExperimentRecord[]; total: number }> {
    const statuses = query.status && query.status.length > 0 ? query.status.join(',') : null;
    const owner = query.owner ?? null;
    // A null filter matches everything, so one statement serves every case.
    const where = (n: number) =>
      `WHERE ($${n}::text IS NULL OR status = ANY(string_to_array($${n}::text, ','))) AND ($${n + 1}::text IS NULL OR owner = $${n + 1}::text)`;
    const rows = await this.db.query<ExperimentRow>(
      `SELECT ${columns} FROM ${this.t.experiments} ${where(3)} ORDER BY seq DESC LIMIT $1 OFFSET $2`,
      [query.limit, query.offset, statuses, owner],
    );
    const countRows = await this.db.query<{ n: number | string }>(
      `SELECT count(*)::int AS n FROM ${this.t.experiments} ${where(1)}`,
      [statuses, owner],
    );
    return { items: rows.map(toRecord), total: Number(countRows[0]!.n) };
  }

  async countByStatus(): Promise<Record<ExperimentStatus, number>> {
    const rows = await this.db.query<{ status: ExperimentStatus; n: number | string }>(
      `SELECT status, count(*)::int AS n FROM ${this.t.experiments} GROUP BY status`,
    );
    const counts = Object.fromEntries(experimentStatuses.map((s) => [s, 0])) as Record<ExperimentStatus, number>;
    for (const r of rows) counts[r.status] = Number(r.n);
    return counts;
  }

  async listUnfinished(): Promise<ExperimentRecord[]> {
    const rows = await this.db.query<ExperimentRow>(
      `SELECT ${columns} FROM ${this.t.experiments} WHERE status IN ('queued', 'running') ORDER BY seq ASC`,
    );
    return rows.map(toRecord);
  }

  async delete(id: string): Promise<boolean> {
    const rows = await this.db.query(`DELETE FROM ${this.t.experiments} WHERE id = $1 RETURNING id`, [id]);
    if (rows.length > 0) await this.files?.remove(id);
    return rows.length > 0;
  }

  async transition(
    id: string,
    from: ExperimentStatus[],
    to: ExperimentStatus,
    patch: StatusPatch = {},
  ): Promise<ExperimentRecord | null> {
    return this.transitionWith(this.db, id, from, to, patch);
  }

  private async transitionWith(
    q: SqlQueryable,
    id: string,
    from: ExperimentStatus[],
    to: ExperimentStatus,
    patch: StatusPatch,
    result?: ExperimentResult,
  ): Promise<ExperimentRecord | null> {
    const sets = ['status = $3', 'updated_at = now()'];
    const params: (string | number | null)[] = [id, from.join(','), to];
    const param = (v: string | number | null) => {
      params.push(v);
      return `$${params.length}`;
    };
    if (patch.error !== undefined) sets.push(`error = ${param(patch.error)}`);
    if (patch.resumedFrom !== undefined) sets.push(`resumed_from = ${param(patch.resumedFrom)}`);
    if (patch.started) sets.push('attempts = attempts + 1', 'started_at = coalesce(started_at, now())');
    if (patch.finished) sets.push('finished_at = now()');
    if (result !== undefined) sets.push(`result = ${param(JSON.stringify(result))}::jsonb`);
    const rows = await q.query<ExperimentRow>(
      `UPDATE ${this.t.experiments} SET ${sets.join(', ')}
       WHERE id = $1 AND status = ANY(string_to_array($2, ',')) RETURNING ${columns}`,
      params,
    );
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async saveProgress(id: string, progress: ProgressSnapshot): Promise<void> {
    await this.db.query(`UPDATE ${this.t.experiments} SET progress = $2::jsonb, updated_at = now() WHERE id = $1`, [
      id,
      JSON.stringify(progress),
    ]);
  }

  async appendMetrics(id: string, windows: WindowMetricsEvent[]): Promise<void> {
    // One row per window; a resumed run re-emits windows, and one statement may not update a row twice.
    const latest = [...new Map(windows.map((w) => [w.samplesSeen, w])).values()];
    // PostgreSQL takes at most 65,535 parameters in one statement.
    for (let from = 0; from < latest.length; from += 1000) {
      const params: SqlParam[] = [id];
      const rows = latest.slice(from, from + 1000).map((w) => {
        params.push(w.samplesSeen, JSON.stringify(w));
        return `($1, $${params.length - 1}, $${params.length}::jsonb)`;
      });
      await this.db.query(
        `INSERT INTO ${this.t.metrics} (experiment_id, samples_seen, data) VALUES ${rows.join(', ')}
         ON CONFLICT (experiment_id, samples_seen) DO UPDATE SET data = excluded.data`,
        params,
      );
    }
  }

  async listMetrics(id: string): Promise<WindowMetricsEvent[]> {
    const rows = await this.db.query<{ data: WindowMetricsEvent }>(
      `SELECT data FROM ${this.t.metrics} WHERE experiment_id = $1 ORDER BY samples_seen`,
      [id],
    );
    return rows.map((r) => r.data);
  }

  /** Bytes go to a file first (file mode), then the row with its metadata is written. */
  private async putArtifactBytes(id: string, kind: string, data: Uint8Array): Promise<Uint8Array | null> {
    if (!this.files) return data;
    await this.files.put(id, kind, data);
    return null;
  }

  private upsertArtifact(q: SqlQueryable, id: string, kind: string, inline: Uint8Array | null, meta: object) {
    return q.query(
      `INSERT INTO ${this.t.artifacts} (experiment_id, kind, data, meta) VALUES ($1, $2, $3, $4::jsonb)
       ON CONFLICT (experiment_id, kind) DO UPDATE SET data = excluded.data, meta = excluded.meta, saved_at = now()`,
      [id, kind, inline, JSON.stringify(meta)],
    );
  }

  private async artifactBytes(id: string, kind: string, inline: Uint8Array | null): Promise<Uint8Array | null> {
    if (inline) return ownedBytes(inline);
    return this.files ? this.files.get(id, kind) : null;
  }

  async saveCheckpoint(id: string, samplesDone: number, state: Uint8Array): Promise<void> {
    const inline = await this.putArtifactBytes(id, 'checkpoint', state);
    await this.db.transaction(async (tx) => {
      await this.upsertArtifact(tx, id, 'checkpoint', inline, { samplesDone });
      await tx.query(
        `UPDATE ${this.t.experiments} SET checkpoint_samples = $2, checkpoint_at = now(), updated_at = now() WHERE id = $1`,
        [id, samplesDone],
      );
    });
  }

  async loadCheckpoint(id: string): Promise<{ samplesDone: number; state: Uint8Array } | null> {
    const rows = await this.db.query<{ data: Uint8Array | null; meta: { samplesDone: number } }>(
      `SELECT data, meta FROM ${this.t.artifacts} WHERE experiment_id = $1 AND kind = 'checkpoint'`,
      [id],
    );
    const row = rows[0];
    if (!row) return null;
    const state = await this.artifactBytes(id, 'checkpoint', row.data);
    return state ? { samplesDone: row.meta.samplesDone, state } : null;
  }

  async finish(id: string, final: FinalResult): Promise<ExperimentRecord | null> {
    const weights = final.weights ? await this.putArtifactBytes(id, 'weights', bytesOfFloat32(final.weights)) : null;
    const theta = final.theta ? await this.putArtifactBytes(id, 'theta', bytesOfFloat32(final.theta)) : null;
    const record = await this.db.transaction(async (tx) => {
      const updated = await this.transitionWith(tx, id, ['running'], final.status, { finished: true }, final.result);
      if (!updated) return null;
      if (final.weights) await this.upsertArtifact(tx, id, 'weights', weights, { shape: final.weightsShape });
      if (final.theta) await this.upsertArtifact(tx, id, 'theta', theta, { length: final.theta.length });
      await tx.query(`DELETE FROM ${this.t.artifacts} WHERE experiment_id = $1 AND kind = 'checkpoint'`, [id]);
      return updated;
    });
    if (record) await this.files?.remove(id, 'checkpoint');
    return record;
  }

  async loadArtifacts(id: string): Promise<TrainedArtifacts | null> {
    const rows = await this.db.query<{ kind: string; data: Uint8Array | null; meta: { shape?: [number, number] } }>(
      `SELECT kind, data, meta FROM ${this.t.artifacts} WHERE experiment_id = $1 AND kind IN ('weights', 'theta')`,
      [id],
    );
    const weightsRow = rows.find((r) => r.kind === 'weights');
    const thetaRow = rows.find((r) => r.kind === 'theta');
    const weights = weightsRow ? await this.artifactBytes(id, 'weights', weightsRow.data) : null;
    if (!weightsRow || !weights) return null;
    const theta = thetaRow ? await this.artifactBytes(id, 'theta', thetaRow.data) : null;
    return {
      weights: float32FromBytes(weights),
      weightsShape: weightsRow.meta.shape!,
      theta: theta ? float32FromBytes(theta) : null,
    };
  }
}
