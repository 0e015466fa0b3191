/** /v1/experiments routes and /v1/presets. */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { listPresets } from '../../experiment/presets.js';
import { compileDefinition } from '../../experiment/topology.js';
import { classifyCost, formatCost } from '../../experiment/cost.js';
import { receptiveFieldsPng } from '../../io/receptive-fields.js';
import { ClassifyTimeoutError, type Classifier } from '../../queue/classifier.js';
import { DownloadGate, npyChunks, weightsJsonChunks } from '../downloads.js';
import { ApiError } from '../errors.js';
import { notReady, type ExperimentService } from '../experiment-service.js';
import { parseClassifyBody } from '../images.js';
import { experimentDetail, experimentSummary } from '../present.js';
import { idParams, listQuery, noQuery, weightsQuery } from '../request-schemas.js';

export interface ExperimentRoutesDeps {
  service: ExperimentService;
  classifier: Classifier;
  maxClassifyImages: number;
  /** Estimated neuron-steps of one classify request (MAX_CLASSIFY_COST). */
  maxClassifyCost: number;
  classifyTimeoutMs: number;
  maxConcurrentDownloads: number;
  downloadTimeoutMs: number;
}

export async function experimentRoutes(app: FastifyInstance, deps: ExperimentRoutesDeps) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { service } = deps;
  const downloads = new DownloadGate(deps.maxConcurrentDownloads, deps.downloadTimeoutMs);

  r.get('/v1/presets', { schema: { querystring: noQuery } }, async () => ({ items: listPresets() }));

  // The body is parsed by resolveDefinition (preset or full definition), so the error names the
  // field of the form the client actually used.
  r.post('/v1/experiments', { schema: { querystring: noQuery } }, async (request, reply) => {
    const record = await service.submit(request.body, request.principal);
    return reply.code(201).header('location', `/v1/experiments/${record.id}`).send(experimentDetail(record));
  });

  r.get('/v1/experiments', { schema: { querystring: listQuery } }, async (request) => {
    const { status, limit, offset } = request.query;
    const page = await service.list({ status, limit, offset }, request.principal);
    return {
      items: page.items.map(experimentSummary),
      total: page.total,
      limit,
      offset,
    };
  });

  r.get('/v1/experiments/:id', { schema: { params: idParams, querystring: noQuery } }, async (request) =>
    experimentDetail(await service.get(request.params.id, request.principal)),
  );

  r.post('/v1/experiments/:id/cancel', { schema: { params: idParams, querystring: noQuery } }, async (request) =>
    experimentDetail(await service.cancel(request.params.id, request.principal)),
  );

  r.delete('/v1/experiments/:id', { schema: { params: idParams, querystring: noQuery } }, async (request, reply) => {
    await service.delete(request.params.id, request.principal);
    return reply.code(204).send();
  });

  r.get('/v1/experiments/:id/metrics', { schema: { params: idParams, querystring: noQuery } }, async (request) => {
    const { record, items } = await service.metrics(request.params.id, request.principal);
    return { id: record.id, status: record.status, items };
  });

  r.get('/v1/experiments/:id/weights', { schema: { params: idParams, querystring: weightsQuery } }, async (request, reply) => {
    const { id } = request.params;
    const record = await service.get(id, request.principal);
    const artifacts = await service.storedArtifacts(record);
    if (!artifacts) throw notReady(record.id, 'weights');
    const [inputs, neurons] = artifacts.weightsShape;
    // Results from before datasets carry no input shape: those were all 28×28 MNIST.
    const shape = record.result?.input ?? { height: 28, width: 28, channels: 1 };
    switch (request.query.format) {
      case 'npy':
        reply.type('application/octet-stream').header('content-disposition', `attachment; filename="${id}-weights.npy"`);
        return downloads.send(reply, () => npyChunks([inputs, neurons], artifacts.weights));
      case 'png':
        // Rendered in memory (a few MB even at 6,400 neurons), but counted like the other downloads.
        reply.type('image/png');
        return downloads.send(reply, () => [Buffer.from(receptiveFieldsPng(artifacts.weights, inputs, neurons, shape))]);
      case 'json':
        reply.type('application/json; charset=utf-8');
        return downloads.send(reply, () => weightsJsonChunks(id, [inputs, neurons], artifacts.weights));
    }
  });

  r.get('/v1/experiments/:id/confusion', { schema: { params: idParams, querystring: noQuery } }, async (request) => {
    const record = await service.get(request.params.id, request.principal);
    if (!record.result) throw notReady(record.id, 'confusion matrix');
    return {
      id: record.id,
      labels: Array.from({ length: record.result.classes ?? 10 }, (_, c) => c),
      accuracy: record.result.accuracy,
      allActivity: record.result.confusion,
      proportionWeighting: record.result.confusionProportion,
    };
  });

  r.post('/v1/experiments/:id/classify', { schema: { params: idParams, querystring: noQuery } }, async (request, reply) => {
    const { id } = request.params;
    const record = await service.get(id, request.principal);
    // Validate before touching artifacts so bad input gets a 400 whatever the experiment's state.
    let size = { height: 28, width: 28 };
    let kind: 'images' | 'events' = 'images';
    try {
      const d = compileDefinition(record.definition).data;
      size = { height: d.height, width: d.width };
      kind = d.kind;
    } catch {
      // A stored definition always compiled at submission; keep MNIST's size if it no longer does.
    }
    if (kind === 'events') {
      throw new ApiError(400, 'validation_error', `experiment ${id} learned event streams; classify takes images only`, 'images');
    }
    const images = parseClassifyBody(request.body, deps.maxClassifyImages, size);
    // A big model with long presentations and re-presentations costs seconds per image.
    const cost = classifyCost(record.definition, images.length);
    if (cost > deps.maxClassifyCost) {
      throw new ApiError(
        400,
        'limit_exceeded',
        `classifying ${images.length} images with this model is estimated at ${formatCost(cost)} neuron-steps, over the limit MAX_CLASSIFY_COST = ${formatCost(deps.maxClassifyCost)}; send fewer images`,
        'images',
      );
    }
    const artifacts = record.result ? await service.storedArtifacts(record) : null;
    if (!record.result || !artifacts || !artifacts.theta) throw notReady(id, 'trained model');
    // A client that goes away abandons its classification (and frees the classifier thread).
    const gone = new AbortController();
    const onClose = () => {
      if (!reply.raw.writableEnded) gone.abort();
    };
    reply.raw.once('close', onClose);
    try {
      const predictions = await deps.classifier.classify(
        {
          definition: record.definition,
          weights: artifacts.weights,
          theta: artifacts.theta,
          assignments: record.result.assignments,
          proportions: record.result.proportions,
        },
        images,
        { signal: gone.signal, timeoutMs: deps.classifyTimeoutMs },
      );
      return { id, predictions };
    } catch (err) {
      if (err instanceof ClassifyTimeoutError) {
        throw new ApiError(503, 'timeout', `${err.message} (CLASSIFY_TIMEOUT_MS); send fewer images`);
      }
      if (err instanceof Error && err.name === 'AbortError') throw new ApiError(408, 'timeout', 'the client went away');
      throw err;
    } finally {
      reply.raw.off('close', onClose);
    }
  });

  r.get('/v1/experiments/:id/tuning', { schema: { params: idParams, querystring: noQuery } }, async (request) => {
    const record = await service.get(request.params.id, request.principal);
    if (!record.result) throw notReady(record.id, 'tuning curves');
    if (!record.result.tuning) {
      throw new ApiError(404, 'not_found', `experiment ${record.id} has no tuning curves: they are measured on the oriented-bars and moving-bars datasets`);
    }
    return { id: record.id, ...record.result.tuning };
  });
}
