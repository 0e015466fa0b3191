/**
 * Sweeps in the same database as the experiments, in their own two tables (so the experiments
 * table is untouched): `sweeps` (the request, its plan, the current stage, the outcome) and
 * `sweep_trials` (one row per point × seed × stage, linked to the experiment that runs it).
 * Every change that more than one API instance could race on is a compare-and-set.
 */
import type { SqlClient } from '../store/sql-client.js';
import type { SweepPlan } from './expand.js';
import type { SweepRequest } from './schema.js';

export const sweepStatuses = ['running', 'completed', 'failed', 'cancelled'] as const;
export type SweepStatus = (typeof sweepStatuses)[number];

export interface BestTrial {
  point: number;
  seed: number;
  experimentId: string;
  parameters: Record<string, unknown>;
  /** Objective of this trial, and the mean over the point's seeds (what the choice ranked). */
  objective: number;
  pointObjective: number;
  /** Test accuracy of the chosen trial only (reported once it is chosen). */
  testAccuracy: { allActivity: number | null; proportionWeighting: number | null } | null;
}

export interface SweepRecord {
  id: string;
  owner: string | null;
  name: string;
  status: SweepStatus;
  request: SweepRequest;
  plan: SweepPlan;
  stage: number;
  best: BestTrial | null;
  error: string | null;
  createdAt: string;
  finishedAt: string | null;
}

export type TrialState = 'pending' | 'submitting' | 'submitted';

/** A trial row joined with its experiment's live columns. */
export interface TrialRow {
  point: number;
  seedIndex: number;
  stage: number;
  seed: number;
  experimentId: string | null;
  state: TrialState;
  /** null when the experiment is not there (not yet submitted, or deleted). */
  status: string | null;
  validation: { allActivity: number; proportionWeighting: number } | null;
  test: { allActivity: number | null; proportionWeighting: number | null } | null;
  samplesPerSec: number | null;
  progress: { phase: string; done: number; total: number; samplesPerSec: number } | null;
  cancelledEarly: boolean;
}

const iso = (v: Date | string | null): string | null => (v === null ? null : new Date(v).toISOString());

interface SweepRow {
  id: string;
  owner: string | null;
  name: string;
  status: SweepStatus;
  request: SweepRequest;
  plan: SweepPlan;
  stage: number;
  best: BestTrial | null;
  error: string | null;
  created_at: Date | string;
  finished_at: Date | string | null;
}

const toSweep = (r: SweepRow): SweepRecord => ({
  id: r.id,
  owner: r.owner,
  name: r.name,
  status: r.status,
  request: typeof r.request === 'string' ? JSON.parse(r.request) : r.request,
  plan: typeof r.plan === 'string' ? JSON.parse(r.plan) : r.plan,
  stage: r.stage,
  best: r.best,
  error: r.error,
  createdAt: iso(r.created_at)!,
  finishedAt: iso(r.finished_at),
});

const sweepColumns = 'id, owner, name, status, request, plan, stage, best, error, created_at, finished_at';

export class SweepStore {
  private readonly t: { sweeps: string; trials: string; experiments: string };

  constructor(
    private readonly db: SqlClient,
    private readonly schema = 'public',
  ) {
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`invalid schema name ${schema}`);
    this.t = { sweeps: `${schema}.sweeps`, trials: `${schema}.sweep_trials`, experiments: `${schema}.experiments` };
  }

  async init(): Promise<void> {
    const { sweeps, trials } = this.t;
    await this.db.transaction(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`spikelab-sweeps:${this.schema}`]);
      await tx.query(`CREATE TABLE IF NOT EXISTS ${sweeps} (
        seq bigserial NOT NULL,
        id text PRIMARY KEY,
        owner text,
        name text NOT NULL,
        status text NOT NULL,
        request jsonb NOT NULL,
        -- json keeps the base definition's key order (trial definitions are derived from it)
        plan json NOT NULL,
        stage integer NOT NULL DEFAULT 0,
        best jsonb,
        error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz
      )`);
      await tx.query(`CREATE TABLE IF NOT EXISTS ${trials} (
        sweep_id text NOT NULL REFERENCES ${sweeps}(id) ON DELETE CASCADE,
        point integer NOT NULL,
        seed_index integer NOT NULL,
        stage integer NOT NULL,
        seed bigint NOT NULL,
        experiment_id text,
        state text NOT NULL DEFAULT 'pending',
        claimed_at timestamptz,
        PRIMARY KEY (sweep_id, stage, point, seed_index)
      )`);
      await tx.query(`CREATE INDEX IF NOT EXISTS sweep_trials_experiment ON ${trials} (experiment_id)`);
    });
  }

  /** Creates the sweep and the trial rows of its first stage (all pending). */
  async create(input: { id: string; owner: string | null; request: SweepRequest; plan: SweepPlan }): Promise<SweepRecord> {
    return this.db.transaction(async (tx) => {
      const rows = await tx.query<SweepRow>(
        `INSERT INTO ${this.t.sweeps} (id, owner, name, status, request, plan) VALUES ($1, $2, $3, 'running', $4::jsonb, $5::json)
         RETURNING ${sweepColumns}`,
        [input.id, input.owner, input.plan.name, JSON.stringify(input.request), JSON.stringify(input.plan)],
      );
      await this.insertTrials(tx, input.id, 0, input.plan.points.map((p) => p.index), input.plan.seeds);
      return toSweep(rows[0]!);
    });
  }

  private async insertTrials(
    q: { query: SqlClient['query'] },
    sweepId: string,
    stage: number,
    points: number[],
    seeds: number[],
  ): Promise<void> {
    // One statement per point keeps parameter counts small and bounded.
    for (const point of points) {
      const values = seeds.map((_, k) => `($1, $2, ${k}, $3, $${4 + k})`).join(', ');
      await q.query(
        `INSERT INTO ${this.t.trials} (sweep_id, point, seed_index, stage, seed) VALUES ${values} ON CONFLICT DO NOTHING`,
        [sweepId, point, stage, ...seeds],
      );
    }
  }

  async get(id: string): Promise<SweepRecord | null> {
    const rows = await this.db.query<SweepRow>(`SELECT ${sweepColumns} FROM ${this.t.sweeps} WHERE id = $1`, [id]);
    return rows[0] ? toSweep(rows[0]) : null;
  }

  /** Newest first; `owner` filters (undefined: everyone's). */
  async list(q: { owner?: string; status?: SweepStatus[]; limit: number; offset: number }): Promise<{ items: SweepRecord[]; total: number }> {
    const statuses = q.status && q.status.length > 0 ? q.status.join(',') : null;
    const where = `WHERE ($1::text IS NULL OR owner = $1) AND ($2::text IS NULL OR status = ANY(string_to_array($2::text, ',')))`;
    const rows = await this.db.query<SweepRow>(
      `SELECT ${sweepColumns} FROM ${this.t.sweeps} ${where} ORDER BY seq DESC LIMIT $3 OFFSET $4`,
      [q.owner ?? null, statuses, q.limit, q.offset],
    );
    const count = await this.db.query<{ n: number | string }>(`SELECT count(*)::int AS n FROM ${this.t.sweeps} ${where}`, [
      q.owner ?? null,
      statuses,
    ]);
    return { items: rows.map(toSweep), total: Number(count[0]!.n) };
  }

  async listRunning(): Promise<SweepRecord[]> {
    const rows = await this.db.query<SweepRow>(`SELECT ${sweepColumns} FROM ${this.t.sweeps} WHERE status = 'running' ORDER BY seq ASC`);
    return rows.map(toSweep);
  }

  async sweepOfExperiment(experimentId: string): Promise<string | null> {
    const rows = await this.db.query<{ sweep_id: string }>(`SELECT sweep_id FROM ${this.t.trials} WHERE experiment_id = $1 LIMIT 1`, [
      experimentId,
    ]);
    return rows[0]?.sweep_id ?? null;
  }

  /** Every trial row of the sweep with its experiment's status and figures, ordered by stage, point, seed. */
  async trials(sweepId: string): Promise<TrialRow[]> {
    const rows = await this.db.query<{
      point: number;
      seed_index: number;
      stage: number;
      seed: string | number;
      experiment_id: string | null;
      state: TrialState;
      status: string | null;
      validation: TrialRow['validation'];
      test: TrialRow['test'];
      train_sps: number | null;
      progress: TrialRow['progress'];
      cancelled_early: boolean | null;
    }>(
      `SELECT t.point, t.seed_index, t.stage, t.seed, t.experiment_id, t.state, e.status,
              e.result->'validation'->'accuracy' AS validation, e.result->'accuracy' AS test,
              (e.result->'train'->>'samplesPerSec')::float8 AS train_sps, e.progress,
              (e.result->>'cancelled')::boolean AS cancelled_early
       FROM ${this.t.trials} t LEFT JOIN ${this.t.experiments} e ON e.id = t.experiment_id
       WHERE t.sweep_id = $1 ORDER BY t.stage, t.point, t.seed_index`,
      [sweepId],
    );
    return rows.map((r) => ({
      point: r.point,
      seedIndex: r.seed_index,
      stage: r.stage,
      seed: Number(r.seed),
      experimentId: r.experiment_id,
      state: r.state,
      status: r.status,
      validation: r.validation ?? null,
      test: r.test ?? null,
      samplesPerSec: r.train_sps ?? r.progress?.samplesPerSec ?? null,
      progress: r.progress ?? null,
      cancelledEarly: r.cancelled_early ?? false,
    }));
  }

  /**
   * Claims pending trial rows of a stage for submission (and rows a crashed instance left
   * `submitting` for over a minute). Returns the claimed (point, seedIndex) pairs.
   */
  async claimPending(sweepId: string, stage: number): Promise<{ point: number; seedIndex: number }[]> {
    const rows = await this.db.query<{ point: number; seed_index: number }>(
      `UPDATE ${this.t.trials} SET state = 'submitting', claimed_at = now()
       WHERE sweep_id = $1 AND stage = $2 AND experiment_id IS NULL
         AND (state = 'pending' OR (state = 'submitting' AND claimed_at < now() - interval '60 seconds'))
       RETURNING point, seed_index`,
      [sweepId, stage],
    );
    return rows.map((r) => ({ point: r.point, seedIndex: r.seed_index })).sort((a, b) => a.point - b.point || a.seedIndex - b.seedIndex);
  }

  async markSubmitted(sweepId: string, stage: number, point: number, seedIndex: number, experimentId: string): Promise<void> {
    await this.db.query(
      `UPDATE ${this.t.trials} SET state = 'submitted', experiment_id = $5 WHERE sweep_id = $1 AND stage = $2 AND point = $3 AND seed_index = $4`,
      [sweepId, stage, point, seedIndex, experimentId],
    );
  }

  async releaseClaim(sweepId: string, stage: number, point: number, seedIndex: number): Promise<void> {
    await this.db.query(
      `UPDATE ${this.t.trials} SET state = 'pending', claimed_at = NULL WHERE sweep_id = $1 AND stage = $2 AND point = $3 AND seed_index = $4 AND experiment_id IS NULL`,
      [sweepId, stage, point, seedIndex],
    );
  }

  /** Moves a running sweep from `stage` to `stage + 1` with the promoted points' rows; false if another instance did it. */
  async promote(sweepId: string, stage: number, points: number[], seeds: number[]): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const moved = await tx.query(
        `UPDATE ${this.t.sweeps} SET stage = stage + 1 WHERE id = $1 AND stage = $2 AND status = 'running' RETURNING id`,
        [sweepId, stage],
      );
      if (moved.length === 0) return false;
      await this.insertTrials(tx, sweepId, stage + 1, points, seeds);
      return true;
    });
  }

  /** Sets a final status if the sweep is still running (compare-and-set). */
  async finish(id: string, status: Exclude<SweepStatus, 'running'>, patch: { best?: BestTrial | null; error?: string | null } = {}) {
    const rows = await this.db.query<SweepRow>(
      `UPDATE ${this.t.sweeps} SET status = $2, best = $3::jsonb, error = $4, finished_at = now()
       WHERE id = $1 AND status = 'running' RETURNING ${sweepColumns}`,
      [id, status, patch.best ? JSON.stringify(patch.best) : null, patch.error ?? null],
    );
    return rows[0] ? toSweep(rows[0]) : null;
  }

  async delete(id: string): Promise<boolean> {
    const rows = await this.db.query(`DELETE FROM ${this.t.sweeps} WHERE id = $1 RETURNING id`, [id]);
    return rows.length > 0;
  }
}
