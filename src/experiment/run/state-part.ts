/**
 * A piece of run state as one checkpoint section: JSON-able scalars plus typed arrays kept bit
 * for bit. Each piece of the experiment loop encodes and decodes its own part; checkpoint.ts
 * composes them.
 */
import type { Snapshot } from '../../engine/snapshot.js';

export type StatePart = Snapshot;

/** For a piece whose state is all JSON (no arrays). */
export function metaPart(meta: Record<string, unknown>): StatePart {
  return { meta, arrays: {} };
}
