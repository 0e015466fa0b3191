/**
 * JSON Schemas of the public request contract, generated from the zod schemas. openapi.yaml
 * embeds them at its end; the OpenAPI test fails when they drift. Regenerate with
 * `npx tsx test/helpers/definition-schemas.ts --write`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { stringify } from 'yaml';
import { experimentDefinitionSchema } from '../../src/experiment/schema.js';
import { presetRequestSchema } from '../../src/experiment/presets.js';

export const GENERATED_MARKER = '    # ---- generated from src/experiment by test/helpers/definition-schemas.ts; do not edit below ----\n';

function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
  return rest;
}

export function definitionSchemas() {
  return { ExperimentDefinition: jsonSchema(experimentDefinitionSchema), PresetRequest: jsonSchema(presetRequestSchema) };
}

function rewriteOpenapi(file: string) {
  const text = readFileSync(file, 'utf8');
  const at = text.indexOf(GENERATED_MARKER);
  if (at < 0) throw new Error(`marker not found in ${file}`);
  const generated = stringify(definitionSchemas(), { lineWidth: 0 })
    .split('\n')
    .map((l) => (l ? `    ${l}` : l))
    .join('\n');
  writeFileSync(file, text.slice(0, at + GENERATED_MARKER.length) + generated);
}

if (process.argv.includes('--write')) rewriteOpenapi(path.resolve(import.meta.dirname, '../../openapi.yaml'));
