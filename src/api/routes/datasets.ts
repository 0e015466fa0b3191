/**
 * /v1/datasets: upload (multipart, streamed to disk), list, describe, preview, delete.
 *
 * Upload shape: `multipart/form-data` with file fields `trainImages` (required), `trainLabels`,
 * `testImages`, `testLabels` (IDX or NPY) and optional text fields `name`, `classes`, `height`,
 * `width`. Each file is streamed to a temporary file (never held in memory), the total bounded by
 * MAX_DATASET_BYTES; then everything is validated and converted (src/data/ingest.ts), hashed and
 * moved into the dataset store. Any failure removes every temporary file: a bad upload leaves
 * nothing behind.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { DatasetSettings } from '../../config.js';
import { canSee, type DatasetRecord, type DatasetStore, type Principal } from '../../data/dataset-store.js';
import { DatasetError } from '../../data/formats.js';
import { ingestUpload, uploadFileFields, type UploadedFile, type UploadFileField } from '../../data/ingest.js';
import type { CanonicalPart } from '../../data/loader.js';
import { encodePngGray } from '../../io/receptive-fields.js';
import { ApiError, notFound } from '../errors.js';
import { idParams, noQuery } from '../request-schemas.js';

export interface DatasetRoutesDeps {
  datasets: DatasetStore;
  settings: DatasetSettings;
  /** Where uploads are received (same filesystem as the embedded dataset files, so moves are renames). */
  uploadDir: string;
}

const textFields = ['name', 'classes', 'height', 'width'] as const;
/** Events a preview reads at most (16 bytes each). */
const PREVIEW_MAX_EVENTS = 1 << 20;

/** The requester (API-key principal) when the tenancy layer provides one; null = sees everything. */
export const principalOf = (request: FastifyRequest): Principal | null => request.principal ?? null;

const listQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(20),
    offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
    api_key: z.string().optional(),
  })
  .strict();

const previewQuery = z
  .object({
    split: z.enum(['train', 'test']).default('train'),
    count: z.coerce.number().int().min(1).max(64).default(16),
    scale: z.coerce.number().int().min(1).max(8).default(2),
    api_key: z.string().optional(),
  })
  .strict();

const intField = (field: string, value: string, min: number, max: number): number => {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isInteger(n) || n < min || n > max) {
    throw new ApiError(400, 'validation_error', `${field}: expected an integer ${min}–${max}, got ${JSON.stringify(value.slice(0, 40))}`, field);
  }
  return n;
};

export function datasetDetail(r: DatasetRecord) {
  const m = r.meta;
  const bytes = Object.values(m.parts).reduce((a, p) => a + (p?.bytes ?? 0), 0);
  return {
    id: r.id,
    name: r.name,
    sha256: r.sha256,
    kind: m.kind,
    shape: { height: m.height, width: m.width, channels: m.channels },
    classes: m.classes,
    labelled: m.labelled,
    train: m.train,
    test: m.test,
    bytes,
    sources: m.sources,
    createdAt: r.createdAt,
  };
}

/** Tiles the first samples of a split into one grayscale picture, `gap` pixels apart. */
function tile(pixels: Uint8Array, count: number, h: number, w: number, scale: number) {
  const gap = 1;
  const cols = Math.ceil(Math.sqrt(count));
  const rows = Math.ceil(count / cols);
  const cw = w * scale;
  const ch = h * scale;
  const width = cols * (cw + gap) + gap;
  const height = rows * (ch + gap) + gap;
  const gray = new Uint8Array(width * height).fill(64);
  for (let k = 0; k < count; k++) {
    const x0 = gap + (k % cols) * (cw + gap);
    const y0 = gap + Math.floor(k / cols) * (ch + gap);
    for (let y = 0; y < ch; y++) {
      for (let x = 0; x < cw; x++) gray[(y0 + y) * width + x0 + x] = pixels[k * h * w + Math.floor(y / scale) * w + Math.floor(x / scale)];
    }
  }
  return { width, height, gray };
}

export async function datasetRoutes(app: FastifyInstance, deps: DatasetRoutesDeps) {
  const { datasets, settings } = deps;
  // Registered in this plugin only: elsewhere a multipart body stays a 415.
  await app.register(multipart, {
    throwFileSizeLimit: true,
    limits: { fileSize: settings.maxBytes, files: uploadFileFields.length, fields: textFields.length, fieldSize: 1024, parts: uploadFileFields.length + textFields.length, fieldNameSize: 64 },
  });
  const r = app.withTypeProvider<ZodTypeProvider>();
  await mkdir(deps.uploadDir, { recursive: true });

  const visible = async (request: FastifyRequest, id: string): Promise<DatasetRecord> => {
    const record = await datasets.get(id);
    // Another owner's dataset is indistinguishable from a missing one.
    if (!record || !canSee(principalOf(request), record.owner)) throw notFound('dataset', id);
    return record;
  };

  r.post('/v1/datasets', { schema: { querystring: noQuery } }, async (request, reply) => {
    if (!request.isMultipart()) {
      throw new ApiError(415, 'unsupported_media_type', 'upload a dataset as multipart/form-data with the file fields trainImages, trainLabels, testImages, testLabels');
    }
    if ((await datasets.count()) >= settings.maxCount) {
      throw new ApiError(409, 'limit_exceeded', `the server holds the limit MAX_DATASETS = ${settings.maxCount} datasets; delete one first`);
    }
    const principal = principalOf(request);
    const dir = path.join(deps.uploadDir, randomUUID());
    await mkdir(dir, { recursive: true });
    let timer: NodeJS.Timeout | undefined;
    try {
      const work = receive(request, dir).then(async ({ files, fields }) => {
        const opts = {
          classes: fields.classes !== undefined ? intField('classes', fields.classes, 1, 256) : undefined,
          height: fields.height !== undefined ? intField('height', fields.height, 1, 1024) : undefined,
          width: fields.width !== undefined ? intField('width', fields.width, 1, 1024) : undefined,
        };
        const name = (fields.name ?? files.trainImages?.filename ?? 'dataset').trim().slice(0, 200) || 'dataset';
        const { meta, sha256 } = await ingestUpload(files, opts, dir);
        const existing = await datasets.findByHash(principal?.id ?? null, sha256);
        if (existing) return { record: existing, created: false };
        await datasets.blobs.put(sha256, dir, Object.keys(meta.parts) as CanonicalPart[]);
        return datasets.create({ id: randomUUID(), name, owner: principal?.id ?? null, sha256, meta });
      });
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          reject(new ApiError(408, 'request_timeout', `the upload took longer than DATASET_UPLOAD_TIMEOUT_MS = ${settings.uploadTimeoutMs} ms`));
          // Stop receiving: the rest of the body is not wanted.
          reply.raw.once('finish', () => request.raw.destroy());
        }, settings.uploadTimeoutMs);
      });
      work.catch(() => {});
      const { record, created } = await Promise.race([work, timeout]);
      return reply
        .code(created ? 201 : 200)
        .header('location', `/v1/datasets/${record.id}`)
        .send({ ...datasetDetail(record), deduplicated: !created });
    } catch (err) {
      if (err instanceof DatasetError) {
        const code = err.statusCode === 413 ? 'payload_too_large' : err.statusCode === 415 ? 'unsupported_media_type' : 'validation_error';
        throw new ApiError(err.statusCode, code, err.message, err.field);
      }
      throw err;
    } finally {
      clearTimeout(timer);
      await rm(dir, { recursive: true, force: true });
    }
  });

  /** Streams every file part to `dir`, counting the total against MAX_DATASET_BYTES. */
  async function receive(request: FastifyRequest, dir: string) {
    const files: Partial<Record<UploadFileField, UploadedFile>> = {};
    const fields: Partial<Record<(typeof textFields)[number], string>> = {};
    let total = 0;
    const tooLarge = () =>
      new DatasetError('body', 'too_large', `the upload exceeds MAX_DATASET_BYTES = ${settings.maxBytes} bytes`);
    try {
      for await (const part of request.parts()) {
        const name = part.fieldname;
        if (part.type === 'file') {
          if (!(uploadFileFields as readonly string[]).includes(name)) {
            part.file.resume();
            throw new ApiError(400, 'unknown_field', `unknown file field ${name}: expected ${uploadFileFields.join(', ')}`, name);
          }
          const field = name as UploadFileField;
          if (files[field]) {
            part.file.resume();
            throw new ApiError(400, 'validation_error', `${field}: given twice`, field);
          }
          const file = path.join(dir, `${field}.upload`);
          let size = 0;
          const count = new Transform({
            transform(chunk: Buffer, _enc, done) {
              size += chunk.length;
              total += chunk.length;
              done(total > settings.maxBytes ? tooLarge() : null, chunk);
            },
          });
          await pipeline(part.file, count, createWriteStream(file));
          // Bounded: the name is only shown back (busboy allows part headers of up to 80 kB).
          files[field] = { path: file, size, filename: (part.filename || field).slice(0, 200) };
        } else {
          if (!(textFields as readonly string[]).includes(name)) {
            throw new ApiError(400, 'unknown_field', `unknown field ${name}: expected ${[...uploadFileFields, ...textFields].join(', ')}`, name);
          }
          fields[name as (typeof textFields)[number]] = String(part.value);
        }
      }
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'FST_REQ_FILE_TOO_LARGE') throw tooLarge();
      if (code === 'FST_FILES_LIMIT' || code === 'FST_PARTS_LIMIT' || code === 'FST_FIELDS_LIMIT') {
        throw new ApiError(413, 'payload_too_large', `too many parts: at most the files ${uploadFileFields.join(', ')} and the fields ${textFields.join(', ')}`);
      }
      throw err;
    }
    return { files, fields };
  }

  /** The queued or running experiments on a dataset that the requester may see. */
  const visibleUsers = async (request: FastifyRequest, id: string): Promise<string[]> =>
    (await datasets.usedBy(id)).filter((u) => canSee(principalOf(request), u.owner)).map((u) => u.id);

  r.get('/v1/datasets', { schema: { querystring: listQuery } }, async (request) => {
    const { limit, offset } = request.query;
    const principal = principalOf(request);
    const page = await datasets.list({ owner: principal === null || principal.admin ? undefined : principal.id, limit, offset });
    return { items: page.items.map(datasetDetail), total: page.total, limit, offset };
  });

  r.get('/v1/datasets/:id', { schema: { params: idParams, querystring: noQuery } }, async (request) => {
    const record = await visible(request, request.params.id);
    return { ...datasetDetail(record), usedBy: await visibleUsers(request, record.id) };
  });

  r.get('/v1/datasets/:id/preview.png', { schema: { params: idParams, querystring: previewQuery } }, async (request, reply) => {
    const record = await visible(request, request.params.id);
    const { split, count: asked, scale } = request.query;
    const m = record.meta;
    const available = split === 'train' ? m.train.count : m.test.count;
    if (available === 0) throw new ApiError(404, 'not_found', `dataset ${record.id} has no ${split} split`);
    let count = Math.min(asked, available);
    let pixels: Uint8Array;
    if (m.kind === 'events') {
      // Each sample's events accumulated into one picture: ON white, OFF grey. Bounded read.
      const offsets = new Uint32Array((await datasets.blobs.read(record.sha256, `${split}-offsets`, 0, (count + 1) * 4)).slice().buffer);
      while (count > 1 && offsets[count]! > PREVIEW_MAX_EVENTS) count--;
      const n = Math.min(offsets[count]!, PREVIEW_MAX_EVENTS);
      const ev = new Uint32Array((await datasets.blobs.read(record.sha256, `${split}-events`, 0, n * 16)).slice().buffer);
      const plane = m.height * m.width;
      pixels = new Uint8Array(count * plane);
      for (let k = 0; k < count; k++) {
        for (let e = offsets[k]!; e < Math.min(offsets[k + 1]!, n); e++) {
          const at = k * plane + ev[e * 4 + 1]! * m.width + ev[e * 4]!;
          pixels[at] = ev[e * 4 + 3] === 1 ? 255 : Math.max(pixels[at]!, 110);
        }
      }
    } else {
      pixels = await datasets.blobs.read(record.sha256, `${split}-images`, 0, count * m.height * m.width);
    }
    return reply.type('image/png').send(Buffer.from(encodePngGray(tile(pixels, count, m.height, m.width, scale))));
  });

  r.delete('/v1/datasets/:id', { schema: { params: idParams, querystring: noQuery } }, async (request, reply) => {
    const record = await visible(request, request.params.id);
    const users = await datasets.usedBy(record.id);
    if (users.length > 0) {
      // Another key's experiments are counted, never named: ids cannot be probed through a dataset.
      const mine = users.filter((u) => canSee(principalOf(request), u.owner)).map((u) => u.id);
      const others = users.length - mine.length;
      const named = [mine.length > 0 ? `experiment(s) ${mine.join(', ')}` : '', others > 0 ? `${others} experiment(s) of other keys` : ''].filter(Boolean).join(' and ');
      throw new ApiError(409, 'conflict', `dataset ${record.id} is used by queued or running ${named}; cancel them or wait until they finish`);
    }
    await datasets.delete(record.id);
    return reply.code(204).send();
  });
}
