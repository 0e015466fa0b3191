/**
 * openapi.yaml is a valid OpenAPI 3.1 document, documents every route Fastify registers, and
 * embeds the current JSON Schemas of the definition contract. (Responses observed in the other
 * API tests are validated against it through test/helpers/openapi.ts.)
 */
import SwaggerParser from '@apidevtools/swagger-parser';
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { definitionSchemas } from '../helpers/definition-schemas.js';
import { openapiPath } from '../helpers/openapi.js';
import { startServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.close();
});

describe('openapi.yaml', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const api = (await SwaggerParser.validate(openapiPath)) as { openapi: string };
    expect(api.openapi).toBe('3.1.0');
  });

  it('documents every route the server registers', async () => {
    const doc = parse(await readFile(openapiPath, 'utf8')) as { paths: Record<string, Record<string, unknown>> };
    const registered = server.lab.routes
      .flatMap((r) => (Array.isArray(r.method) ? r.method : [r.method]).map((m) => ({ method: m.toLowerCase(), url: r.url })))
      // Fastify adds HEAD for every GET on its own; @fastify/cors answers preflights on
      // `OPTIONS *` (not an OpenAPI path; described in the document's introduction).
      .filter((r) => r.method !== 'head' && !(r.method === 'options' && r.url === '*'));
    expect(registered.length).toBeGreaterThanOrEqual(13);
    for (const r of registered) {
      const template = r.url.replace(/:([A-Za-z_]+)/g, '{$1}');
      expect(doc.paths[template]?.[r.method], `${r.method.toUpperCase()} ${template} is documented`).toBeDefined();
    }
    // And nothing documented is missing from the server.
    const served = new Set(registered.map((r) => `${r.method} ${r.url.replace(/:([A-Za-z_]+)/g, '{$1}')}`));
    for (const [p, ops] of Object.entries(doc.paths)) {
      for (const m of Object.keys(ops).filter((k) => ['get', 'post', 'put', 'delete', 'patch'].includes(k))) {
        expect(served.has(`${m} ${p}`), `${m.toUpperCase()} ${p} is served`).toBe(true);
      }
    }
  });

  it('embeds the current JSON Schemas of the experiment definition and preset request', async () => {
    const doc = parse(await readFile(openapiPath, 'utf8')) as { components: { schemas: Record<string, unknown> } };
    const expected = definitionSchemas();
    const hint = 'openapi.yaml is stale: run `npx tsx test/helpers/definition-schemas.ts --write`';
    expect(doc.components.schemas.ExperimentDefinition, hint).toEqual(expected.ExperimentDefinition);
    expect(doc.components.schemas.PresetRequest, hint).toEqual(expected.PresetRequest);
  });
});
