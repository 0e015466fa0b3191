/**
 * Weight downloads, streamed. A 6,400-neuron model is 5 million weights: as one JSON string that
 * is ~100 MB per request (eight at once once took 3 GB and made /health take seconds). Here the
 * body is produced chunk by chunk as the socket drains, the .npy body is the stored bytes behind a
 * small header (no copy), at most `maxConcurrent` downloads run at once, a download that takes
 * longer than `timeoutMs` (a client reading very slowly holds the matrix in memory) is cut off,
 * and a client that goes away stops its stream.
 */
import { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';
import { npyFloat32Header } from '../io/npy.js';
import { ApiError } from './errors.js';

/** Weights per JSON chunk: ~150 KB of text, small enough to interleave with other work. */
const JSON_CHUNK = 8192;

export function* weightsJsonChunks(id: string, shape: [number, number], weights: Float32Array): Generator<string> {
  yield `{"id":${JSON.stringify(id)},"shape":[${shape[0]},${shape[1]}],"dtype":"float32","data":[`;
  for (let i = 0; i < weights.length; i += JSON_CHUNK) {
    // Number formatting exactly as JSON.stringify of the whole array would do it.
    const part = JSON.stringify(Array.from(weights.subarray(i, i + JSON_CHUNK)));
    yield (i > 0 ? ',' : '') + part.slice(1, -1);
  }
  yield ']}';
}

export function* npyChunks(shape: [number, number], weights: Float32Array): Generator<Buffer> {
  yield Buffer.from(npyFloat32Header(shape));
  // The platform is little-endian (x86, ARM): the stored float32 bytes are the file's data as is.
  const bytes = Buffer.from(weights.buffer, weights.byteOffset, weights.byteLength);
  for (let i = 0; i < bytes.byteLength; i += 1 << 20) yield bytes.subarray(i, i + (1 << 20));
}

export class DownloadGate {
  private active = 0;

  constructor(
    private readonly maxConcurrent: number,
    private readonly timeoutMs: number,
  ) {}

  /**
   * Sends a streamed body under the concurrency limit and the timeout. The body is produced only
   * once a place is free (a PNG is rendered in the producer, so a refused request costs nothing).
   */
  send(reply: FastifyReply, produce: () => Iterable<string | Buffer>): FastifyReply {
    if (this.active >= this.maxConcurrent) {
      throw new ApiError(
        503,
        'service_unavailable',
        `${this.active} weight downloads are in progress, the most at once (MAX_CONCURRENT_DOWNLOADS); try again shortly`,
      );
    }
    this.active++;
    let chunks: Iterable<string | Buffer>;
    try {
      chunks = produce();
    } catch (err) {
      this.active--;
      throw err;
    }
    const stream = Readable.from(chunks, { objectMode: false });
    const timer = setTimeout(() => stream.destroy(new Error('download timed out (DOWNLOAD_TIMEOUT_MS)')), this.timeoutMs);
    timer.unref();
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      clearTimeout(timer);
      this.active--;
    };
    // 'close' comes whether the body was sent, the client went away, or the timeout cut it off.
    reply.raw.once('close', () => {
      release();
      if (!stream.destroyed) stream.destroy();
    });
    stream.once('close', release);
    return reply.send(stream);
  }

  get inProgress(): number {
    return this.active;
  }
}
