/**
 * Event-stream uploads: address-events (x, y, timestamp µs, polarity) per sample, as NumPy
 * `[E, 4]` integer arrays (columns x, y, t, p) or N-MNIST's binary format (5-byte events, file name
 * ending in `.bin`), each with per-sample offsets (a 1-D integer array: the index of each sample's
 * first event, `[N]`, optionally with the total as a last entry, `[N+1]`). Timestamps are relative
 * to the sample's start. Stored canonically as little-endian uint32 `[E, 4]` events and uint32
 * `[N+1]` offsets, streamed and validated like images.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import { DatasetError, readArrayHeader, streamValues, type ArrayHeader } from './formats.js';
import type { UploadedFile } from './ingest.js';

export const eventFileFields = ['trainEvents', 'trainOffsets', 'testEvents', 'testOffsets'] as const;
export type EventFileField = (typeof eventFileFields)[number];
export type EventPart = 'train-events' | 'train-offsets' | 'test-events' | 'test-offsets';

const MAX_SIDE = 1024;

async function write(out: WriteStream, bytes: Uint8Array): Promise<void> {
  if (!out.write(bytes)) await once(out, 'drain');
}
const end = (out: WriteStream) => new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));

/** Reads the offsets (small: one number per sample) and checks them against the event count. */
async function readOffsets(file: UploadedFile, field: string, events: number): Promise<Uint32Array> {
  const h = await readArrayHeader(file.path, file.size, field, file.filename);
  if (h.shape.length !== 1) throw new DatasetError(field, 'wrong_shape', `offsets must be a 1-D array [N] or [N+1], got [${h.shape.join(', ')}]`);
  if (h.dtype === 'f4') throw new DatasetError(field, 'wrong_dtype', 'offsets must be integers, got float32');
  const values: number[] = [];
  await streamValues(file.path, h, (v, n) => {
    for (let i = 0; i < n; i++) values.push(v[i]);
  });
  if (values.length === 0) throw new DatasetError(field, 'wrong_shape', 'no samples');
  if (values[values.length - 1] !== events) values.push(events);
  if (values[0] !== 0) throw new DatasetError(field, 'value_out_of_range', `the first sample must start at event 0, not ${values[0]}`);
  for (let k = 1; k < values.length; k++) {
    if (!(values[k] >= values[k - 1]) || values[k] > events) {
      throw new DatasetError(field, 'value_out_of_range', `offset ${values[k]} at index ${k} is out of order or past the ${events} events`);
    }
  }
  return Uint32Array.from(values);
}

interface EventsHeader {
  format: 'npy' | 'nmnist';
  events: number;
  h: ArrayHeader | null;
}

async function eventsHeader(file: UploadedFile, field: string): Promise<EventsHeader> {
  if (/\.bin$/i.test(file.filename)) {
    if (file.size % 5 !== 0) throw new DatasetError(field, 'truncated', `N-MNIST data must be whole 5-byte events; ${file.size} bytes leave ${file.size % 5} over`);
    return { format: 'nmnist', events: file.size / 5, h: null };
  }
  const h = await readArrayHeader(file.path, file.size, field, file.filename);
  if (h.format !== 'npy') throw new DatasetError(field, 'unsupported_format', 'events must be NumPy [E, 4] (x, y, t, p) or N-MNIST binary (.bin)');
  if (h.shape.length !== 2 || h.shape[1] !== 4) throw new DatasetError(field, 'wrong_shape', `events must be [E, 4] (x, y, t µs, polarity), got [${h.shape.join(', ')}]`);
  if (h.dtype === 'f4') throw new DatasetError(field, 'wrong_dtype', 'events must be integers, got float32');
  return { format: 'npy', events: h.shape[0], h };
}

/** Streams the events into canonical uint32 [E, 4], checking every value; returns the field's extent. */
async function convertEvents(file: UploadedFile, eh: EventsHeader, field: string, size: { width?: number; height?: number }, outFile: string) {
  const out = createWriteStream(outFile);
  const hash = createHash('sha256');
  let maxX = 0;
  let maxY = 0;
  let index = 0;
  const check = (x: number, y: number, t: number, p: number) => {
    const e = index++;
    if (!(Number.isInteger(x) && x >= 0 && x < (size.width ?? MAX_SIDE))) throw new DatasetError(field, 'value_out_of_range', `event ${e}: x = ${x} is outside the field (0…${(size.width ?? MAX_SIDE) - 1})`);
    if (!(Number.isInteger(y) && y >= 0 && y < (size.height ?? MAX_SIDE))) throw new DatasetError(field, 'value_out_of_range', `event ${e}: y = ${y} is outside the field (0…${(size.height ?? MAX_SIDE) - 1})`);
    if (!(t >= 0 && t < 2 ** 32)) throw new DatasetError(field, 'value_out_of_range', `event ${e}: timestamp ${t} µs must be 0…2³²−1`);
    if (p !== 0 && p !== 1) throw new DatasetError(field, 'value_out_of_range', `event ${e}: polarity ${p} must be 0 (OFF) or 1 (ON)`);
    if (x > maxX) maxX = x;
    if (y > maxY) maxY = y;
  };
  try {
    if (eh.format === 'nmnist') {
      let carry = new Uint8Array(0);
      const raw: ArrayHeader = { format: 'idx', dtype: 'u1', shape: [file.size], dataOffset: 0, itemBytes: 1, bigEndian: false };
      await streamValues(file.path, raw, async (_v, n, bytes) => {
        let buf = bytes!.subarray(0, n);
        if (carry.length) {
          const joined = new Uint8Array(carry.length + n);
          joined.set(carry);
          joined.set(buf, carry.length);
          buf = joined;
        }
        const events = Math.floor(buf.length / 5);
        const outBuf = new Uint32Array(events * 4);
        for (let e = 0, o = 0; e < events; e++, o += 5) {
          const x = buf[o];
          const y = buf[o + 1];
          const p = buf[o + 2] >> 7;
          const t = ((buf[o + 2] & 0x7f) << 16) | (buf[o + 3] << 8) | buf[o + 4];
          check(x, y, t, p);
          outBuf.set([x, y, t, p], e * 4);
        }
        carry = buf.slice(events * 5);
        const chunk = new Uint8Array(outBuf.buffer);
        hash.update(chunk);
        await write(out, chunk);
      });
    } else {
      const row = [0, 0, 0, 0];
      let col = 0;
      await streamValues(file.path, eh.h!, async (v, n) => {
        const outBuf = new Uint32Array(n);
        for (let i = 0; i < n; i++) {
          row[col] = v[i];
          outBuf[i] = v[i] >>> 0;
          if (++col === 4) {
            check(row[0], row[1], row[2], row[3]);
            col = 0;
          }
        }
        const chunk = new Uint8Array(outBuf.buffer);
        hash.update(chunk);
        await write(out, chunk);
      });
    }
  } finally {
    await end(out);
  }
  return { bytes: eh.events * 16, sha256: hash.digest('hex'), maxX, maxY };
}

async function writeOffsets(offsets: Uint32Array, outFile: string) {
  const bytes = new Uint8Array(offsets.buffer, offsets.byteOffset, offsets.byteLength);
  const out = createWriteStream(outFile);
  await write(out, bytes);
  await end(out);
  return { bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
}

export interface EventIngest {
  height: number;
  width: number;
  train: { count: number; events: number };
  test: { count: number; events: number };
  parts: Partial<Record<EventPart, { bytes: number; sha256: string }>>;
  sources: Record<string, { format: 'npy' | 'nmnist' | 'idx'; shape: number[]; filename: string; dtype: string }>;
}

/** Validates and converts the event files into `outDir/<part>.bin`. Labels are handled by the caller. */
export async function ingestEvents(
  files: Partial<Record<EventFileField, UploadedFile>>,
  size: { width?: number; height?: number },
  outDir: string,
): Promise<EventIngest> {
  if (!files.trainEvents) throw new DatasetError('trainEvents', 'missing_file', 'the training events file is required');
  if (!files.trainOffsets) throw new DatasetError('trainOffsets', 'missing_file', 'per-sample offsets are required with events');
  if (files.testEvents && !files.testOffsets) throw new DatasetError('testOffsets', 'missing_file', 'per-sample offsets are required with test events');
  if (files.testOffsets && !files.testEvents) throw new DatasetError('testEvents', 'missing_file', 'test offsets were given without test events');
  const file = (p: EventPart) => path.join(outDir, `${p}.bin`);
  const parts: EventIngest['parts'] = {};
  const sources: EventIngest['sources'] = {};
  const trainH = await eventsHeader(files.trainEvents, 'trainEvents');
  const trainOffsets = await readOffsets(files.trainOffsets, 'trainOffsets', trainH.events);
  const testH = files.testEvents ? await eventsHeader(files.testEvents, 'testEvents') : null;
  const testOffsets = testH ? await readOffsets(files.testOffsets!, 'testOffsets', testH.events) : null;
  const tr = await convertEvents(files.trainEvents, trainH, 'trainEvents', size, file('train-events'));
  parts['train-events'] = { bytes: tr.bytes, sha256: tr.sha256 };
  parts['train-offsets'] = await writeOffsets(trainOffsets, file('train-offsets'));
  let maxX = tr.maxX;
  let maxY = tr.maxY;
  if (testH && testOffsets) {
    const te = await convertEvents(files.testEvents!, testH, 'testEvents', size, file('test-events'));
    parts['test-events'] = { bytes: te.bytes, sha256: te.sha256 };
    parts['test-offsets'] = await writeOffsets(testOffsets, file('test-offsets'));
    maxX = Math.max(maxX, te.maxX);
    maxY = Math.max(maxY, te.maxY);
  }
  for (const [f, h] of [['trainEvents', trainH], ['testEvents', testH]] as const) {
    if (h) sources[f] = { format: h.format, shape: [h.events, 4], filename: files[f]!.filename, dtype: h.h?.dtype ?? 'nmnist' };
  }
  return {
    // Without declared sizes the field is the smallest that holds every event.
    width: size.width ?? maxX + 1,
    height: size.height ?? maxY + 1,
    train: { count: trainOffsets.length - 1, events: trainH.events },
    test: { count: testOffsets ? testOffsets.length - 1 : 0, events: testH?.events ?? 0 },
    parts,
    sources,
  };
}
