/** How experiments look in responses. */
import type { ExperimentRecord } from '../store/store.js';

/** A list item: no definition or full result, so a page of 100 stays small. */
export function experimentSummary(r: ExperimentRecord) {
  return {
    id: r.id,
    name: r.name,
    status: r.status,
    createdAt: r.createdAt,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
    progress: r.progress,
    accuracy: r.result?.accuracy ?? null,
    error: r.error,
  };
}

export function experimentDetail(r: ExperimentRecord) {
  return {
    ...experimentSummary(r),
    definition: r.definition,
    result: r.result,
    checkpoint: r.checkpoint,
    resumedFrom: r.resumedFrom,
    attempts: r.attempts,
  };
}
