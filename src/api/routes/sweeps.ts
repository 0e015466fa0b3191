/**
 * /v1/sweeps: parameter sweeps (src/sweeps/). A sweep's trials are ordinary experiments submitted
 * through the ExperimentService; the coordinator follows them and advances the sweep.
 * When a request carries an authenticated principal ({id, admin}), the sweep records its owner
 * and other owners' sweeps answer 404.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { WebSocket } from 'ws';
import { z } from 'zod';
import type { Limits, Principal, SweepSettings } from '../../config.js';
import type { JobRunner } from '../../queue/job-runner.js';
import type { JobRecorder } from '../../queue/job-recorder.js';
import { SqlExperimentStore } from '../../store/sql-store.js';
import type { ExperimentStore } from '../../store/store.js';
import { SweepCoordinator, objectiveOf, type SweepEvent } from '../../sweeps/coordinator.js';
import { planSweep, SweepValidationError } from '../../sweeps/expand.js';
import { sweepRequestSchema } from '../../sweeps/schema.js';
import { SweepStore, sweepStatuses, type SweepRecord, type SweepStatus, type TrialRow } from '../../sweeps/store.js';
import { ApiError, errorFromZod, notFound } from '../errors.js';
import type { ExperimentService } from '../experiment-service.js';
import { checkLimits } from '../limits.js';
import { canSee, ownerFilter, type RequestPrincipal } from '../ownership.js';
import { idParams, noQuery } from '../request-schemas.js';
import type { StreamHub } from '../stream-hub.js';

export interface SweepRoutesDeps {
  service: ExperimentService;
  store: ExperimentStore;
  recorder: JobRecorder;
  runner: JobRunner;
  limits: Limits;
  /** Counts sweep streams against the per-client stream limits (MAX_STREAMS_PER_CLIENT …). */
  hub?: Pick<StreamHub, 'admit'>;
  /** The configured principals: trials are submitted as the sweep's owner. */
  principals?: Principal[];
  settings: SweepSettings;
}

const principalOf = (request: FastifyRequest): RequestPrincipal | null => request.principal ?? null;
const visible = (sweep: SweepRecord, p: RequestPrincipal | null) => canSee(p, sweep.owner);

const sweepListQuery = z
  .object({
    status: z
      .string()
      .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
      .refine((xs) => xs.every((x) => (sweepStatuses as readonly string[]).includes(x)), {
        message: `status must be a comma-separated list of ${sweepStatuses.join(', ')}`,
      })
      .transform((xs) => xs as SweepStatus[])
      .optional(),
    limit: z.coerce.number().int().min(1).max(100).default(20),
    offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
    api_key: z.string().optional(),
  })
  .strict();

const CloseCode = { notFound: 4404, deleted: 4410, tooMany: 4429, goingAway: 1001 } as const;

/** Trials as responses show them: parameters, status (or `stopped` by successive halving), objective, samples/s. */
function presentTrials(sweep: SweepRecord, rows: TrialRow[]) {
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

function counts(trials: ReturnType<typeof presentTrials>) {
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
    trials: counts(trials),
    best: sweep.best,
    error: sweep.error,
  };
}

function detail(sweep: SweepRecord, rows: TrialRow[]) {
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

export async function sweepRoutes(app: FastifyInstance, deps: SweepRoutesDeps) {
  if (!(deps.store instanceof SqlExperimentStore)) throw new Error('sweeps need the SQL experiment store');
  const { client, schema } = deps.store.sql;
  const store = new SweepStore(client, schema);
  await store.init();
  const { settings } = deps;
  const coordinator = new SweepCoordinator({
    store,
    service: deps.service,
    statuses: deps.recorder,
    log: app.log,
    tickMs: settings.tickMs,
    ownerOf: (id) => {
      const p = deps.principals?.find((x) => x.id === id);
      return p ? { id: p.id, name: p.name, admin: p.admin } : null;
    },
  });
  const sockets = new Set<WebSocket>();
  app.addHook('onReady', async () => coordinator.start());
  app.addHook('preClose', async () => {
    for (const s of sockets) s.close(CloseCode.goingAway, 'server shutting down');
    await coordinator.close();
  });

  const load = async (request: FastifyRequest, id: string): Promise<SweepRecord> => {
    const sweep = await store.get(id);
    if (!sweep || !visible(sweep, principalOf(request))) throw notFound('sweep', id);
    return sweep;
  };

  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post('/v1/sweeps', { schema: { querystring: noQuery } }, async (request, reply) => {
    const parsed = sweepRequestSchema.safeParse(request.body ?? null);
    if (!parsed.success) throw errorFromZod(parsed.error);
    let plan;
    try {
      plan = planSweep(parsed.data, { maxTrials: settings.maxTrials, check: (def) => checkLimits(def, deps.limits, false) });
    } catch (err) {
      if (err instanceof SweepValidationError) throw new ApiError(400, err.code, err.message, err.field);
      throw err;
    }
    const queued = deps.runner.stats().queued;
    if (queued + plan.trialsFirstStage > deps.limits.maxQueued) {
      throw new ApiError(
        503,
        'queue_full',
        `${plan.trialsFirstStage} trials would take the queue over MAX_QUEUED = ${deps.limits.maxQueued} (${queued} waiting); try later`,
      );
    }
    const sweep = await coordinator.create(parsed.data, plan, principalOf(request)?.id ?? null);
    return reply
      .code(201)
      .header('location', `/v1/sweeps/${sweep.id}`)
      .send(detail(sweep, await store.trials(sweep.id)));
  });

  r.get('/v1/sweeps', { schema: { querystring: sweepListQuery } }, async (request) => {
    const { status, limit, offset } = request.query;
    const p = principalOf(request);
    const page = await store.list({ owner: ownerFilter(p), status, limit, offset });
    const items = [];
    for (const s of page.items) items.push(summary(s, presentTrials(s, await store.trials(s.id))));
    return { items, total: page.total, limit, offset };
  });

  r.get('/v1/sweeps/:id', { schema: { params: idParams, querystring: noQuery } }, async (request) => {
    const sweep = await load(request, request.params.id);
    return detail(sweep, await store.trials(sweep.id));
  });

  r.get('/v1/sweeps/:id/trials.csv', { schema: { params: idParams, querystring: noQuery } }, async (request, reply) => {
    const sweep = await load(request, request.params.id);
    const trials = presentTrials(sweep, await store.trials(sweep.id));
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
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="sweep-${sweep.id}-trials.csv"`)
      .send(lines.join('\n') + '\n');
  });

  r.post('/v1/sweeps/:id/cancel', { schema: { params: idParams, querystring: noQuery } }, async (request) => {
    const sweep = await load(request, request.params.id);
    if (sweep.status !== 'running') throw new ApiError(409, 'conflict', `sweep ${sweep.id} is already ${sweep.status}`);
    await coordinator.cancel(sweep.id);
    const after = (await store.get(sweep.id)) ?? sweep;
    return detail(after, await store.trials(sweep.id));
  });

  r.delete('/v1/sweeps/:id', { schema: { params: idParams, querystring: noQuery } }, async (request, reply) => {
    const sweep = await load(request, request.params.id);
    await coordinator.delete(sweep.id);
    return reply.code(204).send();
  });

  r.get('/v1/sweeps/:id/stream', { websocket: true, schema: { params: idParams, querystring: noQuery } }, async (socket, request) => {
    socket.on('message', () => {});
    socket.on('error', (err) => request.log.debug({ err }, 'sweep stream socket error'));
    const id = request.params.id;
    // Counted before anything asynchronous, with the experiment streams of the same client.
    const refused = deps.hub?.admit(socket, `sweep:${id}`, request.principal ? `principal:${request.principal.id}` : `ip:${request.ip}`);
    if (refused) {
      socket.close(CloseCode.tooMany, refused.replace('this experiment', 'this sweep'));
      return;
    }
    const sweep = await store.get(id).catch(() => null);
    if (!sweep || !visible(sweep, principalOf(request))) {
      socket.close(CloseCode.notFound, 'sweep not found');
      return;
    }
    sockets.add(socket);
    const send = (msg: object) => socket.readyState === socket.OPEN && socket.send(JSON.stringify(msg));
    let progressTimer: NodeJS.Timeout | undefined;
    const sendProgress = async () => {
      progressTimer = undefined;
      const s = await store.get(id);
      if (!s) return;
      const trials = presentTrials(s, await store.trials(id));
      send({ type: 'progress', status: s.status, stage: s.stage, trials: counts(trials), best: s.best });
    };
    const end = async (status: string) => {
      clearTimeout(progressTimer);
      off();
      if (status === 'deleted') {
        socket.close(CloseCode.deleted, 'sweep deleted');
        return;
      }
      const s = await store.get(id);
      if (s) send({ type: 'end', sweep: detail(s, await store.trials(id)) });
      socket.close(1000, `sweep ${status}`);
    };
    const listener = (e: SweepEvent) => {
      send(e);
      if (e.type === 'sweep' && e.status !== 'running') {
        void end(e.status);
        return;
      }
      progressTimer ??= setTimeout(() => void sendProgress().catch(() => {}), 250);
    };
    const off = () => {
      coordinator.events.off(id, listener);
      sockets.delete(socket);
    };
    coordinator.events.on(id, listener);
    socket.on('close', () => {
      clearTimeout(progressTimer);
      off();
    });
    // Read again after subscribing, so an end between the first read and the subscription is not missed.
    const current = (await store.get(id)) ?? sweep;
    send({ type: 'hello', sweep: detail(current, await store.trials(id)) });
    if (current.status !== 'running') void end(current.status);
  });
}
