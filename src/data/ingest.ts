/**
 * Turns the uploaded files of a dataset (IDX or NPY, on disk) into SpikeLab's canonical form —
 * raw uint8 images [N, H·W] and uint8 labels [N] per split — streaming, validating everything the
 * engine relies on, and hashing the result (the dataset's identity, so identical content is
 * stored once whatever format it came in).
 */
import { createHash } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { DatasetError, readArrayHeader, streamValues, type ArrayHeader } from './formats.js';
import type { CanonicalPart } from './loader.js';
import { eventFileFields, ingestEvents } from './ingest-events.js';

export const uploadFileFields = ['trainImages', 'trainLabels', 'testImages', 'testLabels', 'trainEvents', 'trainOffsets', 'testEvents', 'testOffsets'] as const;
export type UploadFileField = (typeof uploadFileFields)[number];

export interface UploadedFile {
  path: string;
  size: number;
  filename: string;
}

export interface IngestOptions {
  /** Declared number of classes; labels must be below it. Default: largest label + 1. */
  classes?: number;
  /** For [N, H·W] arrays that are not square. */
  height?: number;
  width?: number;
}

export interface DatasetMeta {
  kind: 'images' | 'events';
  height: number;
  width: number;
  /** 1 for images; 2 (OFF, ON) for event streams. */
  channels: 1 | 2;
  classes: number;
  labelled: boolean;
  train: { count: number; classCounts: number[] | null };
  test: { count: number; classCounts: number[] | null };
  /** Source of each split's images (for the record). */
  sources: Record<string, { format: 'idx' | 'npy' | 'nmnist'; dtype: string; shape: number[]; filename: string }>;
  /** Event streams: total events per split. */
  events?: { train: number; test: number };
  /** SHA-256 and size of each canonical part. */
  parts: Partial<Record<CanonicalPart, { bytes: number; sha256: string }>>;
}

const MAX_SIDE = 1024;
const MAX_CLASSES = 256;

interface ImageShape {
  count: number;
  height: number;
  width: number;
}

function imageShape(h: ArrayHeader, field: string, opts: IngestOptions): ImageShape {
  const s = h.shape;
  let shape: ImageShape;
  if (s.length === 3) shape = { count: s[0], height: s[1], width: s[2] };
  else if (s.length === 2) {
    const n = s[1];
    if (opts.height !== undefined || opts.width !== undefined) {
      const height = opts.height ?? n / opts.width!;
      const width = opts.width ?? n / opts.height!;
      if (!Number.isInteger(height) || !Number.isInteger(width) || height * width !== n) {
        throw new DatasetError('height', 'invalid_field', `height × width must equal the ${n} values per row of ${field}`);
      }
      shape = { count: s[0], height, width };
    } else {
      const side = Math.round(Math.sqrt(n));
      if (side * side !== n) {
        throw new DatasetError(field, 'wrong_shape', `rows of ${n} values are not square images; give the height and width fields`);
      }
      shape = { count: s[0], height: side, width: side };
    }
  } else {
    throw new DatasetError(field, 'wrong_shape', `images must be [N, H, W] or [N, H·W], got a ${s.length}-D array [${s.join(', ')}]`);
  }
  if (shape.count === 0) throw new DatasetError(field, 'wrong_shape', 'holds no images');
  if (shape.height < 1 || shape.width < 1 || shape.height > MAX_SIDE || shape.width > MAX_SIDE) {
    throw new DatasetError(field, 'wrong_shape', `images of ${shape.height}×${shape.width}: each side must be 1–${MAX_SIDE}`);
  }
  if (h.dtype !== 'u1' && h.dtype !== 'f4') {
    throw new DatasetError(field, 'wrong_dtype', `images must be uint8 or float32, got ${h.dtype}`);
  }
  return shape;
}

async function write(out: WriteStream, bytes: Uint8Array): Promise<void> {
  if (!out.write(bytes)) await once(out, 'drain');
}

async function closeStream(out: WriteStream): Promise<void> {
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

/** Writes the images as uint8; float32 images are scaled by their range: [0, 1] ×255, [0, 255] as is. */
async function convertImages(file: UploadedFile, h: ArrayHeader, field: string, outFile: string) {
  let scale = 1;
  if (h.dtype === 'f4') {
    let lo = Infinity;
    let hi = -Infinity;
    let index = 0;
    await streamValues(file.path, h, (v, n) => {
      for (let i = 0; i < n; i++, index++) {
        const x = v[i];
        if (!Number.isFinite(x)) throw new DatasetError(field, 'value_out_of_range', `value ${x} at index ${index} is not finite`);
        if (x < lo) lo = x;
        if (x > hi) hi = x;
      }
    });
    if (lo < 0 || hi > 255) {
      throw new DatasetError(field, 'value_out_of_range', `float32 intensities must lie in [0, 1] or [0, 255]; found ${lo}…${hi}`);
    }
    scale = hi <= 1 ? 255 : 1;
  }
  const hash = createHash('sha256');
  const out = createWriteStream(outFile);
  let bytes = 0;
  try {
    await streamValues(file.path, h, async (v, n, raw) => {
      const chunk = raw ? new Uint8Array(raw.buffer, raw.byteOffset, n) : Uint8Array.from({ length: n }, (_, i) => Math.round(Math.min(255, v[i] * scale)));
      hash.update(chunk);
      bytes += n;
      await write(out, chunk);
    });
  } finally {
    await closeStream(out);
  }
  return { bytes, sha256: hash.digest('hex') };
}

/** Writes labels as uint8, checking the count and that every label is in [0, classes). */
async function convertLabels(file: UploadedFile, h: ArrayHeader, field: string, expected: number, classes: number, outFile: string) {
  if (h.shape.length !== 1 && !(h.shape.length === 2 && h.shape[1] === 1)) {
    throw new DatasetError(field, 'wrong_shape', `labels must be a 1-D array [N], got [${h.shape.join(', ')}]`);
  }
  if (h.dtype === 'f4') throw new DatasetError(field, 'wrong_dtype', 'labels must be integers (uint8, int32, int64, …), got float32');
  if (h.shape[0] !== expected) {
    throw new DatasetError(field, 'count_mismatch', `${h.shape[0]} labels for ${expected} images`);
  }
  const hash = createHash('sha256');
  const out = createWriteStream(outFile);
  const counts = new Array<number>(classes).fill(0);
  let index = 0;
  let max = -1;
  try {
    await streamValues(file.path, h, async (v, n) => {
      const chunk = new Uint8Array(n);
      for (let i = 0; i < n; i++, index++) {
        const l = v[i];
        if (!(l >= 0 && l < classes)) {
          throw new DatasetError(field, 'label_out_of_range', `label ${l} at index ${index} is out of range: labels must be 0…${classes - 1}`);
        }
        chunk[i] = l;
        counts[l]++;
        if (l > max) max = l;
      }
      hash.update(chunk);
      await write(out, chunk);
    });
  } finally {
    await closeStream(out);
  }
  return { bytes: index, sha256: hash.digest('hex'), counts, max };
}

/** Largest label of a file (a first pass, when the number of classes is not declared). */
async function maxLabel(file: UploadedFile, h: ArrayHeader, field: string): Promise<number> {
  let max = -1;
  let index = 0;
  await streamValues(file.path, h, (v, n) => {
    for (let i = 0; i < n; i++, index++) {
      const l = v[i];
      if (!(l >= 0 && l < MAX_CLASSES && Number.isInteger(l))) {
        throw new DatasetError(field, 'label_out_of_range', `label ${l} at index ${index} is out of range: labels must be 0…${MAX_CLASSES - 1}`);
      }
      if (l > max) max = l;
    }
  });
  return max;
}

/**
 * Validates and converts the uploaded files into `outDir/<part>.bin`. Returns the metadata and
 * the dataset's SHA-256 (over its shape and the canonical parts' hashes).
 */
export async function ingestUpload(
  files: Partial<Record<UploadFileField, UploadedFile>>,
  opts: IngestOptions,
  outDir: string,
): Promise<{ meta: DatasetMeta; sha256: string }> {
  if (eventFileFields.some((f) => files[f])) return ingestEventUpload(files, opts, outDir);
  if (!files.trainImages) throw new DatasetError('trainImages', 'missing_file', 'the training images file is required (or trainEvents with trainOffsets for event streams)');
  if (files.testLabels && !files.testImages) throw new DatasetError('testLabels', 'missing_file', 'test labels were given without test images');
  const labelled = files.trainLabels !== undefined;
  if (files.testImages && labelled !== (files.testLabels !== undefined)) {
    const f = labelled ? 'testLabels' : 'trainLabels';
    throw new DatasetError(f, 'missing_file', 'give labels for both splits or for neither');
  }
  const headers: Partial<Record<UploadFileField, ArrayHeader>> = {};
  for (const f of uploadFileFields) {
    const file = files[f];
    if (file) headers[f] = await readArrayHeader(file.path, file.size, f, file.filename);
  }
  const train = imageShape(headers.trainImages!, 'trainImages', opts);
  const test = headers.testImages ? imageShape(headers.testImages, 'testImages', opts) : null;
  if (test && (test.height !== train.height || test.width !== train.width)) {
    throw new DatasetError('testImages', 'wrong_shape', `test images are ${test.height}×${test.width} but training images ${train.height}×${train.width}`);
  }
  for (const [f, images] of [['trainLabels', train], ['testLabels', test]] as const) {
    const h = headers[f];
    if (h && images && h.shape[0] !== images.count) {
      throw new DatasetError(f, 'count_mismatch', `${h.shape[0]} labels for ${images.count} images`);
    }
  }
  let classes = 1;
  if (labelled) {
    if (opts.classes !== undefined) classes = opts.classes;
    else {
      let max = await maxLabel(files.trainLabels!, headers.trainLabels!, 'trainLabels');
      if (files.testLabels) max = Math.max(max, await maxLabel(files.testLabels, headers.testLabels!, 'testLabels'));
      classes = Math.max(1, max + 1);
    }
  }
  const parts: DatasetMeta['parts'] = {};
  const sources: DatasetMeta['sources'] = {};
  const file = (p: CanonicalPart) => path.join(outDir, `${p}.bin`);
  parts['train-images'] = await convertImages(files.trainImages, headers.trainImages!, 'trainImages', file('train-images'));
  let trainCounts: number[] | null = null;
  let testCounts: number[] | null = null;
  if (labelled) {
    const r = await convertLabels(files.trainLabels!, headers.trainLabels!, 'trainLabels', train.count, classes, file('train-labels'));
    parts['train-labels'] = { bytes: r.bytes, sha256: r.sha256 };
    trainCounts = r.counts;
  }
  if (files.testImages && test) {
    parts['test-images'] = await convertImages(files.testImages, headers.testImages!, 'testImages', file('test-images'));
    if (labelled) {
      const r = await convertLabels(files.testLabels!, headers.testLabels!, 'testLabels', test.count, classes, file('test-labels'));
      parts['test-labels'] = { bytes: r.bytes, sha256: r.sha256 };
      testCounts = r.counts;
    }
  }
  for (const f of uploadFileFields) {
    const h = headers[f];
    if (h) sources[f] = { format: h.format, dtype: h.dtype, shape: h.shape, filename: files[f]!.filename };
  }
  const meta: DatasetMeta = {
    kind: 'images',
    height: train.height,
    width: train.width,
    channels: 1,
    classes,
    labelled,
    train: { count: train.count, classCounts: trainCounts },
    test: { count: test?.count ?? 0, classCounts: testCounts },
    sources,
    parts,
  };
  return { meta, sha256: datasetHash(meta) };
}

/** Event streams with optional labels (see ingest-events.ts). */
async function ingestEventUpload(
  files: Partial<Record<UploadFileField, UploadedFile>>,
  opts: IngestOptions,
  outDir: string,
): Promise<{ meta: DatasetMeta; sha256: string }> {
  const images = (['trainImages', 'testImages'] as const).find((f) => files[f]);
  if (images) throw new DatasetError(images, 'invalid_field', 'a dataset holds images or events, not both');
  if (opts.width !== undefined && opts.width > MAX_SIDE) throw new DatasetError('width', 'invalid_field', `at most ${MAX_SIDE}`);
  const ev = await ingestEvents(files, { width: opts.width, height: opts.height }, outDir);
  if (ev.width > MAX_SIDE || ev.height > MAX_SIDE) throw new DatasetError('trainEvents', 'wrong_shape', `the events span ${ev.width}×${ev.height}; each side must be at most ${MAX_SIDE}`);
  const labelled = files.trainLabels !== undefined;
  if (files.testEvents && labelled !== (files.testLabels !== undefined)) {
    throw new DatasetError(labelled ? 'testLabels' : 'trainLabels', 'missing_file', 'give labels for both splits or for neither');
  }
  const headers: Partial<Record<UploadFileField, ArrayHeader>> = {};
  for (const f of ['trainLabels', 'testLabels'] as const) {
    const file = files[f];
    if (file) headers[f] = await readArrayHeader(file.path, file.size, f, file.filename);
  }
  for (const [f, count] of [['trainLabels', ev.train.count], ['testLabels', ev.test.count]] as const) {
    const h = headers[f];
    if (h && h.shape[0] !== count) throw new DatasetError(f, 'count_mismatch', `${h.shape[0]} labels for ${count} samples`);
  }
  let classes = 1;
  if (labelled) {
    if (opts.classes !== undefined) classes = opts.classes;
    else {
      let max = await maxLabel(files.trainLabels!, headers.trainLabels!, 'trainLabels');
      if (files.testLabels) max = Math.max(max, await maxLabel(files.testLabels, headers.testLabels!, 'testLabels'));
      classes = Math.max(1, max + 1);
    }
  }
  const parts: DatasetMeta['parts'] = { ...ev.parts };
  let trainCounts: number[] | null = null;
  let testCounts: number[] | null = null;
  if (labelled) {
    const r = await convertLabels(files.trainLabels!, headers.trainLabels!, 'trainLabels', ev.train.count, classes, path.join(outDir, 'train-labels.bin'));
    parts['train-labels'] = { bytes: r.bytes, sha256: r.sha256 };
    trainCounts = r.counts;
    if (files.testLabels) {
      const t = await convertLabels(files.testLabels, headers.testLabels!, 'testLabels', ev.test.count, classes, path.join(outDir, 'test-labels.bin'));
      parts['test-labels'] = { bytes: t.bytes, sha256: t.sha256 };
      testCounts = t.counts;
    }
  }
  const sources: DatasetMeta['sources'] = { ...ev.sources };
  for (const f of ['trainLabels', 'testLabels'] as const) {
    const h = headers[f];
    if (h) sources[f] = { format: h.format, dtype: h.dtype, shape: h.shape, filename: files[f]!.filename };
  }
  const meta: DatasetMeta = {
    kind: 'events',
    height: ev.height,
    width: ev.width,
    channels: 2,
    classes,
    labelled,
    train: { count: ev.train.count, classCounts: trainCounts },
    test: { count: ev.test.count, classCounts: testCounts },
    sources,
    parts,
    events: { train: ev.train.events, test: ev.test.events },
  };
  return { meta, sha256: datasetHash(meta) };
}

/** Identity of a dataset's content: its shape, classes and canonical bytes — not the upload's format or file names. */
export function datasetHash(meta: Pick<DatasetMeta, 'kind' | 'height' | 'width' | 'classes' | 'labelled' | 'parts' | 'train' | 'test'>): string {
  const h = createHash('sha256');
  h.update(`spikelab-dataset-v1\n${JSON.stringify([meta.kind, meta.height, meta.width, meta.classes, meta.labelled, meta.train.count, meta.test.count])}\n`);
  for (const [part, p] of Object.entries(meta.parts).sort(([a], [b]) => (a < b ? -1 : 1))) h.update(`${part}:${p!.bytes}:${p!.sha256}\n`);
  return h.digest('hex');
}
