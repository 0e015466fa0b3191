/**
 * Checks observed responses against openapi.yaml: the operation must exist, document the status
 * and content type, and the body must validate against the documented schema.
 */
import path from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { expect } from 'vitest';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => void;
export const openapiPath = path.resolve(import.meta.dirname, '../../openapi.yaml');

type Doc = { paths: Record<string, Record<string, any>>; components: { schemas: Record<string, any> } };
let docPromise: Promise<Doc> | undefined;
export function openapi(): Promise<Doc> {
  docPromise ??= SwaggerParser.dereference(openapiPath) as unknown as Promise<Doc>;
  return docPromise;
}

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
const compiled = new Map<string, ValidateFunction>();

export function validatorFor(schema: object, key: string): ValidateFunction {
  let v = compiled.get(key);
  if (!v) {
    v = ajv.compile(schema);
    compiled.set(key, v);
  }
  return v;
}

/** Asserts that a response (status, content type, JSON body) is documented for the operation. */
export async function expectDocumented(method: string, template: string, res: Response, body?: unknown) {
  const doc = await openapi();
  const op = doc.paths[template]?.[method.toLowerCase()];
  expect(op, `${method} ${template} in openapi.yaml`).toBeDefined();
  const documented = op.responses[String(res.status)];
  expect(documented, `${method} ${template} documents status ${res.status}`).toBeDefined();
  if (!documented.content) return;
  const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
  const media = documented.content[type];
  expect(media, `${method} ${template} ${res.status} documents content type ${type}`).toBeDefined();
  if (type !== 'application/json' || body === undefined) return;
  const validate = validatorFor(media.schema, `${method} ${template} ${res.status} ${type}`);
  const ok = validate(body);
  expect(ok, `${method} ${template} ${res.status}: ${ajv.errorsText(validate.errors)}`).toBe(true);
}

/** Asserts that a WebSocket text frame matches one of the documented stream messages. */
export async function expectStreamMessage(msg: { type: string }) {
  const doc = await openapi();
  const name = { hello: 'StreamHello', status: 'StreamStatus', progress: 'StreamProgress', metrics: 'StreamMetrics', end: 'StreamEnd' }[
    msg.type
  ];
  expect(name, `documented stream message type ${msg.type}`).toBeDefined();
  const validate = validatorFor(doc.components.schemas[name!], `stream ${name}`);
  expect(validate(msg), `${name}: ${ajv.errorsText(validate.errors)}`).toBe(true);
}
