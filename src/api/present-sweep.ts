/** How sweeps look in responses: summaries, the detail with every trial, and the trials as CSV. */
import { objectiveOf } from '../sweeps/coordinator.js';
import type { SweepRecord, TrialRow } from '../sweeps/store.js';

/** Trials as responses show them: parameters, status (or `stopped` by successive halving), objective, samples/s. */
export function presentTrials(sweep: SweepRecord, rows: TrialRow[]) {
  const promoted = new Set(rows.map((t) => `${t.stage}:${t.point}`));
  return rows.map((t) => {
    const stageOver = t.stage < sweep.stage || sweep.status !== 'running';
    const stopped = t.stage < sweep.plan.stages.length - 1 && stageOver && !promoted.has(`${t.stage + 1}:${t.point}`) && sweep.status !== 'cancelled';
    const train = sweep.plan.stages[t.stage] ?? null;
    return {
      experimentId: t.experimentId,
      point: t.point,
      seed: t.seed,
      stage: t.stage,
      trainSamples: train ?? null,
      parameters: sweep.plan.points[t.point]?.parameters ?? {},
      status: t.experimentId === null ? 'pending' : (t.status ?? 'deleted'),
      stopped,
      objective: objectiveOf(sweep.plan, t),
      samplesPerSec: t.samplesPerSec,
      progress: t.status === 'running' && t.progress ? { phase: t.progress.phase, done: t.progress.done, total: t.progress.total } : null,
    };
  });
}

export function trialCounts(trials: ReturnType<typeof presentTrials>) {
  const c = { total: trials.length, pending: 0, queued: 0, running: 0, completed: 0, failed: 0, cancelled: 0, stopped: 0 };
  for (const t of trials) {
    if (t.status in c) c[t.status as keyof typeof c]++;
    if (t.stopped) c.stopped++;
  }
  return c;
}

function summary(sweep: SweepRecord, trials: ReturnType<typeof presentTrials>) {
  return {
    id: sweep.id,
    name: sweep.name,
    status: sweep.status,
    owner: sweep.owner,
    createdAt: sweep.createdAt,
    finishedAt: sweep.finishedAt,
    objective: sweep.plan.objective,
    stage: sweep.stage,
    stages: sweep.plan.stages,
    trials: trialCounts(trials),
    best: sweep.best,
    error: sweep.error,
  };
}

export const sweepSummary = (sweep: SweepRecord, rows: TrialRow[]) => summary(sweep, presentTrials(sweep, rows));

export function sweepDetail(sweep: SweepRecord, rows: TrialRow[]) {
  const trials = presentTrials(sweep, rows);
  return {
    ...summary(sweep, trials),
    request: sweep.request,
    points: sweep.plan.points.length,
    seeds: sweep.plan.seeds,
    keep: sweep.plan.keep,
    costUpperBound: sweep.plan.costUpperBound,
    items: trials,
  };
}

const csvCell = (v: unknown): string => {
  const s = v === null || v === undefined ? '' : typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** One line per trial: its parameters in columns named by their paths, and whether it is the best. */
export function trialsCsv(sweep: SweepRecord, rows: TrialRow[]): string {
  const trials = presentTrials(sweep, rows);
  const paths = sweep.request.parameters.map((p) => p.path);
  const header = ['experiment_id', 'point', 'seed', 'stage', 'train_samples', ...paths, 'status', 'stopped', 'objective', 'samples_per_sec', 'best'];
  const lines = [header.map(csvCell).join(',')];
  for (const t of trials) {
    lines.push(
      [
        t.experimentId,
        t.point,
        t.seed,
        t.stage,
        t.trainSamples,
        ...paths.map((p) => t.parameters[p]),
        t.status,
        t.stopped,
        t.objective,
        t.samplesPerSec,
        sweep.best?.experimentId === t.experimentId && t.experimentId !== null,
      ]
        .map(csvCell)
        .join(','),
    );
  }
  return lines.join('\n') + '\n';
}
