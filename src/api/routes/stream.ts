/** WebSocket /v1/experiments/:id/stream: live frames of one experiment. */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { NotFound } from '../../domain-errors.js';
import { finishedStatuses } from '../../store/store.js';
import type { ExperimentService } from '../experiment-service.js';
import { experimentDetail } from '../present.js';
import { idParams, streamQuery } from '../request-schemas.js';
import type { StreamHub } from '../stream-hub.js';

/** Close codes (4000–4999 are for applications). */
export const CloseCode = { notFound: 4404, deleted: 4410, tooMany: 4429, serverError: 1011, goingAway: 1001 } as const;

export async function streamRoutes(app: FastifyInstance, deps: { hub: StreamHub; service: ExperimentService }) {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/v1/experiments/:id/stream',
    { websocket: true, schema: { params: idParams, querystring: streamQuery } },
    async (socket, request) => {
      // Clients only listen; anything they send is ignored rather than buffered.
      socket.on('message', () => {});
      socket.on('error', (err) => request.log.debug({ err }, 'stream socket error'));
      const { id } = request.params;
      // Counted before anything asynchronous, so a burst of upgrades cannot overshoot the limits.
      const refused = deps.hub.admit(socket, id, request.principal ? `principal:${request.principal.id}` : `ip:${request.ip}`);
      if (refused) {
        socket.close(CloseCode.tooMany, refused);
        return;
      }
      try {
        // Another key's experiment looks exactly like a missing one.
        const live = await deps.service.get(id, request.principal);
        const opts = { channels: request.query.channels, weightsEvery: request.query.weightsEvery, layers: request.query.layer };
        const finished = finishedStatuses.includes(live.status);
        const artifacts = finished && opts.channels.includes('weights') ? await deps.service.storedArtifacts(live) : null;
        deps.hub.attach(
          socket,
          live,
          opts,
          { experiment: experimentDetail(live), channels: opts.channels, weightsEvery: opts.weightsEvery, layers: opts.layers },
          artifacts
            ? { sampleIndex: live.result?.train.samples ?? 0, shape: artifacts.weightsShape, data: artifacts.weights }
            : undefined,
        );
      } catch (err) {
        if (err instanceof NotFound) {
          socket.close(CloseCode.notFound, 'experiment not found');
          return;
        }
        request.log.error({ err }, 'stream setup failed');
        socket.close(CloseCode.serverError, 'internal error');
      }
    },
  );
}
