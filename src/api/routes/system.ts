/** Routes outside /v1: health, Prometheus metrics, the OpenAPI file and the landing page. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { JobRecorder } from '../../queue/job-recorder.js';
import type { JobRunner } from '../../queue/job-runner.js';
import type { ExperimentStore } from '../../store/store.js';
import type { Metrics } from '../prometheus.js';
import type { StreamHub } from '../stream-hub.js';

export interface SystemRoutesDeps {
  store: ExperimentStore;
  runner: JobRunner;
  recorder: JobRecorder;
  hub: StreamHub;
  root: string;
  /** Serve the landing page at `/` (false when the dashboard is served there). */
  landingPage: boolean;
  metrics: Metrics;
  /** API keys are configured: per-experiment series only for admins. */
  keysConfigured: boolean;
}

const reason = (err: unknown) => (err instanceof Error ? err.message : String(err));

const landing = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>SpikeLab</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto">
<h1>SpikeLab</h1>
<p>Unsupervised STDP learning in spiking neural networks, over HTTP and WebSockets.</p>
<ul>
<li><a href="/openapi.yaml">openapi.yaml</a> — the API</li>
<li><a href="/v1/presets">/v1/presets</a> — experiment presets</li>
<li><a href="/v1/experiments">/v1/experiments</a> — experiments</li>
<li><a href="/health">/health</a> · <a href="/metrics">/metrics</a></li>
</ul>
<p>Start one: <code>curl -X POST localhost:8080/v1/experiments -H 'content-type: application/json' -d '{"preset":"diehl-cook-2015","neurons":100,"train":2000,"test":500}'</code></p>
</body></html>
`;

export async function systemRoutes(app: FastifyInstance, deps: SystemRoutesDeps) {
  app.get('/health', async (_request, reply) => {
    const [store, queue] = await Promise.all([
      deps.store.ping().then(
        () => ({ ok: true as const }),
        (err: unknown) => ({ ok: false as const, error: reason(err) }),
      ),
      deps.runner.check().then(
        () => ({ ok: true as const }),
        (err: unknown) => ({ ok: false as const, error: reason(err) }),
      ),
    ]);
    const ok = store.ok && queue.ok;
    return reply.code(ok ? 200 : 503).send({
      status: ok ? 'ok' : 'unavailable',
      store: { ...store, kind: deps.store.kind },
      queue: { ...queue, kind: deps.runner.kind, ...deps.runner.stats() },
    });
  });

  app.get('/metrics', async (request, reply) => {
    const [experiments, cluster] = await Promise.all([
      deps.store.countByStatus().catch(() => null),
      deps.runner.clusterStats().catch(() => null),
    ]);
    const text = await deps.metrics.render(
      {
        cluster,
        experiments,
        runner: deps.runner.stats(),
        live: deps.recorder.liveProgressAll(),
        wsClients: deps.hub.clientCount(),
        stream: deps.hub.counters,
        checkpoints: { written: deps.recorder.checkpointsWritten, dropped: deps.recorder.checkpointsDropped },
      },
      // Experiment ids are how another tenant's experiments would be found.
      !deps.keysConfigured || request.principal?.admin === true,
    );
    return reply.type(deps.metrics.contentType).send(text);
  });

  app.get('/openapi.yaml', async (_request, reply) =>
    reply.type('application/yaml; charset=utf-8').send(await readFile(path.join(deps.root, 'openapi.yaml'), 'utf8')),
  );

  if (deps.landingPage) app.get('/', async (_request, reply) => reply.type('text/html; charset=utf-8').send(landing));
}
