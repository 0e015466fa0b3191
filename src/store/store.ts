/**
 * The store port: experiments, their live state, results and artifacts. The database (not the job
 * queue, not process memory) is the source of truth, so every state change is a compare-and-set
 * on the status and can be made from any process (API instance or worker).
 */
import type { ExperimentDefinition } from '../experiment/schema.js';
import type { ExperimentResult, ProgressEvent, WindowMetricsEvent } from '../experiment/events.js';

export const experimentStatuses = ['queued', 'running', 'completed', 'failed', 'cancelled'] as const;
export type ExperimentStatus = (typeof experimentStatuses)[number];
export const unfinishedStatuses: ExperimentStatus[] = ['queued', 'running'];
export const finishedStatuses: ExperimentStatus[] = ['completed', 'failed', 'cancelled'];

export type ProgressSnapshot = Omit<ProgressEvent, 'type'>;

export interface ExperimentRecord {
  id: string;
  name: string;
  status: ExperimentStatus;
  definition: ExperimentDefinition;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  progress: ProgressSnapshot | null;
  result: ExperimentResult | null;
  error: string | null;
  /** The latest checkpoint saved (its bytes are loaded separately). */
  checkpoint: { samplesDone: number; savedAt: string } | null;
  /** Training sample the current attempt resumed from (null: started from scratch). */
  resumedFrom: number | null;
  /** How many times the job has been started (more than 1 after restarts). */
  attempts: number;
  /** Principal id of the API key that created it (null: created without keys configured). */
  owner: string | null;
  /** Estimated cost when it was accepted (src/experiment/cost.ts); null for older records. */
  cost: number | null;
}

export interface OwnerUsage {
  queued: number;
  running: number;
  /** Summed estimated cost of the experiments created in the last 24 hours (deleted ones included). */
  costLastDay: number;
}

export interface ListQuery {
  status?: ExperimentStatus[];
  /** Only experiments of this owner (undefined: everyone's). */
  owner?: string;
  limit: number;
  offset: number;
}

export interface StatusPatch {
  error?: string | null;
  resumedFrom?: number | null;
  /** Counts a new attempt and stamps startedAt (first start only). */
  started?: boolean;
  /** Stamps finishedAt. */
  finished?: boolean;
}

export interface FinalResult {
  status: 'completed' | 'cancelled';
  result: ExperimentResult;
  /** [inputs, neurons] row-major, as the engine emits it; null if the run produced none. */
  weights: Float32Array | null;
  weightsShape: [number, number];
  /** Adaptive thresholds; null if the run produced none (needed to classify). */
  theta: Float32Array | null;
}

export interface TrainedArtifacts {
  weights: Float32Array;
  weightsShape: [number, number];
  theta: Float32Array | null;
}

export interface ExperimentStore {
  readonly kind: 'pglite' | 'postgres';
  /** Creates the schema if needed. */
  init(): Promise<void>;
  close(): Promise<void>;
  /** Throws when the database cannot answer. */
  ping(): Promise<void>;

  create(input: { id: string; definition: ExperimentDefinition; owner?: string | null; cost?: number | null }): Promise<ExperimentRecord>;
  /** What one owner holds now and has submitted in the last 24 hours (quotas). */
  usage(owner: string): Promise<OwnerUsage>;
  get(id: string): Promise<ExperimentRecord | null>;
  /** Newest first. */
  list(query: ListQuery): Promise<{ items: ExperimentRecord[]; total: number }>;
  countByStatus(): Promise<Record<ExperimentStatus, number>>;
  /** Queued and running experiments, oldest first (the order they are resubmitted in). */
  listUnfinished(): Promise<ExperimentRecord[]>;
  /** Deletes the experiment and all its data; false if it did not exist. */
  delete(id: string): Promise<boolean>;

  /**
   * Moves the experiment to `to` only if its status is one of `from` (compare-and-set, so two
   * processes racing on one job cannot both win). Returns the updated record, or null.
   */
  transition(id: string, from: ExperimentStatus[], to: ExperimentStatus, patch?: StatusPatch): Promise<ExperimentRecord | null>;
  saveProgress(id: string, progress: ProgressSnapshot): Promise<void>;
  /** Idempotent per (experiment, samplesSeen): a resumed run re-emits windows after its checkpoint. */
  /** Stores labelling windows in one write; a window already stored (same samplesSeen) is replaced. */
  appendMetrics(id: string, windows: WindowMetricsEvent[]): Promise<void>;
  listMetrics(id: string): Promise<WindowMetricsEvent[]>;

  /** Keeps only the latest checkpoint of an experiment. */
  saveCheckpoint(id: string, samplesDone: number, state: Uint8Array): Promise<void>;
  loadCheckpoint(id: string): Promise<{ samplesDone: number; state: Uint8Array } | null>;

  /**
   * Stores the result and trained arrays and sets the final status in one transaction, only if
   * the experiment is still running. Returns the updated record, or null.
   */
  finish(id: string, final: FinalResult): Promise<ExperimentRecord | null>;
  loadArtifacts(id: string): Promise<TrainedArtifacts | null>;
}
