/**
 * /v1/sweeps: parameter sweeps, through the SweepService (which plans them and has the
 * coordinator run their trials as ordinary experiments). When a request carries an authenticated
 * principal, the sweep records its owner and other owners' sweeps answer 404.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { WebSocket } from 'ws';
import type { SweepEvent } from '../../sweeps/coordinator.js';
import { presentTrials, sweepDetail, sweepSummary, trialCounts, trialsCsv } from '../present-sweep.js';
import { idParams, noQuery, sweepListQuery } from '../request-schemas.js';
import type { StreamHub } from '../stream-hub.js';
import type { SweepService, SweepState } from '../sweep-service.js';

export interface SweepRoutesDeps {
  sweeps: SweepService;
  /** Counts sweep streams against the per-client stream limits (MAX_STREAMS_PER_CLIENT …). */
  hub?: Pick<StreamHub, 'admit'>;
}

const CloseCode = { notFound: 4404, deleted: 4410, tooMany: 4429, goingAway: 1001 } as const;

const detail = ({ sweep, trials }: SweepState) => sweepDetail(sweep, trials);

export async function sweepRoutes(app: FastifyInstance, deps: SweepRoutesDeps) {
  const { sweeps } = deps;
  const sockets = new Set<WebSocket>();
  app.addHook('preClose', async () => {
    for (const s of sockets) s.close(CloseCode.goingAway, 'server shutting down');
  });

  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post('/v1/sweeps', { schema: { querystring: noQuery } }, async (request, reply) => {
    const created = await sweeps.create(request.body, request.principal);
    return reply.code(201).header('location', `/v1/sweeps/${created.sweep.id}`).send(detail(created));
  });

  r.get('/v1/sweeps', { schema: { querystring: sweepListQuery } }, async (request) => {
    const { status, limit, offset } = request.query;
    const page = await sweeps.list({ status, limit, offset }, request.principal);
    return { items: page.items.map(({ sweep, trials }) => sweepSummary(sweep, trials)), total: page.total, limit, offset };
  });

  r.get('/v1/sweeps/:id', { schema: { params: idParams, querystring: noQuery } }, async (request) =>
    detail(await sweeps.get(request.params.id, request.principal)),
  );

  r.get('/v1/sweeps/:id/trials.csv', { schema: { params: idParams, querystring: noQuery } }, async (request, reply) => {
    const { sweep, trials } = await sweeps.get(request.params.id, request.principal);
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="sweep-${sweep.id}-trials.csv"`)
      .send(trialsCsv(sweep, trials));
  });

  r.post('/v1/sweeps/:id/cancel', { schema: { params: idParams, querystring: noQuery } }, async (request) =>
    detail(await sweeps.cancel(request.params.id, request.principal)),
  );

  r.delete('/v1/sweeps/:id', { schema: { params: idParams, querystring: noQuery } }, async (request, reply) => {
    await sweeps.delete(request.params.id, request.principal);
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
    const first = await sweeps.get(id, request.principal).catch(() => null);
    if (!first) {
      socket.close(CloseCode.notFound, 'sweep not found');
      return;
    }
    sockets.add(socket);
    const send = (msg: object) => socket.readyState === socket.OPEN && socket.send(JSON.stringify(msg));
    let progressTimer: NodeJS.Timeout | undefined;
    const sendProgress = async () => {
      progressTimer = undefined;
      const now = await sweeps.current(id);
      if (!now) return;
      const { sweep } = now;
      send({ type: 'progress', status: sweep.status, stage: sweep.stage, trials: trialCounts(presentTrials(sweep, now.trials)), best: sweep.best });
    };
    const end = async (status: string) => {
      clearTimeout(progressTimer);
      off();
      if (status === 'deleted') {
        socket.close(CloseCode.deleted, 'sweep deleted');
        return;
      }
      const now = await sweeps.current(id);
      if (now) send({ type: 'end', sweep: detail(now) });
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
    const unfollow = sweeps.follow(id, listener);
    const off = () => {
      unfollow();
      sockets.delete(socket);
    };
    socket.on('close', () => {
      clearTimeout(progressTimer);
      off();
    });
    // Read again after subscribing, so an end between the first read and the subscription is not missed.
    const current = (await sweeps.current(id)) ?? first;
    send({ type: 'hello', sweep: detail(current) });
    if (current.sweep.status !== 'running') void end(current.sweep.status);
  });
}
