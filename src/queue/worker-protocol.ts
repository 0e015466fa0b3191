/** Messages between the job runner (main thread) and an engine worker thread. */
import type { ExperimentDefinition } from '../experiment/schema.js';
import type { ExperimentEvent, ExperimentResult } from '../experiment/events.js';
import type { Classification, TrainedModel } from '../experiment/run.js';

export type ToWorker =
  | {
      type: 'run';
      id: string;
      definition: ExperimentDefinition;
      resumeFrom?: Uint8Array;
      /** Int32 flag: 1 = stop after the current sample. Shared so the running engine sees it without a message. */
      stop: SharedArrayBuffer;
      dataDir?: string;
      /** Root of uploaded datasets' canonical files (`<root>/<sha256>/<part>.bin`). */
      datasetsDir?: string;
      /** Checkpoints closer together than this (ms) are dropped in the thread, unless it is stopping. */
      checkpointMinIntervalMs?: number;
      /** Threads a large network may use (engineThreadsFor); default 1. */
      engineThreads?: number;
    }
  | { type: 'classify'; requestId: number; model: TrainedModel; images: Uint8Array[] };

export type FromWorker =
  | { type: 'event'; id: string; event: ExperimentEvent }
  | { type: 'finished'; id: string; result: ExperimentResult }
  | { type: 'failed'; id: string; error: string }
  | { type: 'classified'; requestId: number; predictions: Classification[] }
  | { type: 'classifyFailed'; requestId: number; error: string };

type Typed = Uint8Array | Uint32Array | Float32Array;

/**
 * Makes every typed array of the event own a whole, transferable ArrayBuffer and returns the
 * buffers to transfer. Arrays that are views into a larger buffer (or into shared memory) are
 * copied first: transferring their buffer would detach memory the engine still uses.
 */
export function transferableEvent(event: ExperimentEvent): { event: ExperimentEvent; transfer: ArrayBuffer[] } {
  const transfer = new Set<ArrayBuffer>();
  const own = <T extends Typed>(a: T): T => {
    const whole = a.buffer instanceof ArrayBuffer && a.byteOffset === 0 && a.byteLength === a.buffer.byteLength;
    const owned = whole && !transfer.has(a.buffer as ArrayBuffer) ? a : (a.slice() as T);
    transfer.add(owned.buffer as ArrayBuffer);
    return owned;
  };
  switch (event.type) {
    case 'spikes':
      return { event: { ...event, data: own(event.data) }, transfer: [...transfer] };
    case 'voltage':
      return { event: { ...event, voltage: own(event.voltage), threshold: own(event.threshold) }, transfer: [...transfer] };
    case 'weights':
      return { event: { ...event, data: own(event.data) }, transfer: [...transfer] };
    case 'checkpoint':
      return { event: { ...event, state: own(event.state) }, transfer: [...transfer] };
    case 'done':
      return { event: { ...event, weights: own(event.weights), theta: own(event.theta) }, transfer: [...transfer] };
    default:
      return { event, transfer: [] };
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
