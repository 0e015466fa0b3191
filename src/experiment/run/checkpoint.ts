/**
 * The checkpoint of a run, composed from the state codecs of its pieces: the network (weights, θ,
 * PRNG), the training schedule (epoch, position, the epoch's order) and the labelling windows
 * (label rates and assignments, the open window). Each part's scalars sit under its name in the
 * header and its arrays are sections named `part.array`, so a piece can change its own state
 * without touching the others.
 *
 * Checkpoints written before the parts existed (one flat header with `progress`) are still read.
 */
import { decodeSnapshot, encodeSnapshot, type Snapshot } from '../../engine/snapshot.js';
import type { StatePart } from './state-part.js';

export const CHECKPOINT_FORMAT = 'spikelab-run/2';

export interface CheckpointParts {
  network: StatePart;
  schedule: StatePart;
  labelling: StatePart;
}

const PART_NAMES: (keyof CheckpointParts)[] = ['network', 'schedule', 'labelling'];

export interface Checkpoint {
  definitionHash: string;
  samplesDone: number;
  parts: CheckpointParts;
}

/** Whether a periodic checkpoint is due after `samplesDone` of `total` training samples. */
export function checkpointDue(every: number, samplesDone: number, total: number): boolean {
  return every > 0 && samplesDone % every === 0 && samplesDone < total;
}

export function encodeCheckpoint(c: Checkpoint): Uint8Array {
  const meta: Record<string, unknown> = { format: CHECKPOINT_FORMAT, definitionHash: c.definitionHash, samplesDone: c.samplesDone };
  const arrays: Snapshot['arrays'] = {};
  for (const name of PART_NAMES) {
    const part = c.parts[name];
    meta[name] = part.meta;
    for (const [key, a] of Object.entries(part.arrays)) arrays[`${name}.${key}`] = a;
  }
  return encodeSnapshot({ meta, arrays });
}

/** Decodes a checkpoint; throws unless it belongs to the definition with `definitionHash`. */
export function decodeCheckpoint(bytes: Uint8Array, definitionHash: string): Checkpoint {
  const snap = decodeSnapshot(bytes);
  if (snap.meta.definitionHash !== definitionHash) throw new Error('checkpoint belongs to a different experiment definition');
  if (snap.meta.format === undefined && snap.meta.progress !== undefined) return fromFlatLayout(snap);
  if (snap.meta.format !== CHECKPOINT_FORMAT) throw new Error(`unknown checkpoint format ${String(snap.meta.format)}`);
  const parts = {} as CheckpointParts;
  for (const name of PART_NAMES) {
    const arrays: Snapshot['arrays'] = {};
    for (const [key, a] of Object.entries(snap.arrays)) if (key.startsWith(`${name}.`)) arrays[key.slice(name.length + 1)] = a;
    parts[name] = { meta: snap.meta[name] as Record<string, unknown>, arrays };
  }
  return { definitionHash, samplesDone: snap.meta.samplesDone as number, parts };
}

/** The first checkpoint layout: one header, every array at the top level. */
function fromFlatLayout({ meta, arrays: a }: Snapshot): Checkpoint {
  const p = meta.progress as Record<string, number>;
  return {
    definitionHash: meta.definitionHash as string,
    samplesDone: meta.samplesDone as number,
    parts: {
      network: { meta: { normalizeAll: meta.normalizeAll, needClamp: meta.needClamp }, arrays: { weights: a.weights, theta: a.theta, prng: a.prng } },
      schedule: { meta: { epoch: p.epoch, step: p.step, hasOrder: true }, arrays: { order: a.order } },
      labelling: {
        meta: {
          assignmentsMade: meta.assignmentsMade,
          window: {
            correctAllActivity: p.windowCorrectAll,
            correctProportion: p.windowCorrectProp,
            samples: p.windowSamples,
            inputSpikes: p.windowInputSpikes,
            excitatorySpikes: p.windowExcSpikes,
          },
        },
        arrays: { rates: a.rates, proportions: a.proportions, assignments: a.assignments, windowSums: a.windowSums, windowCounts: a.windowCounts },
      },
    },
  };
}
