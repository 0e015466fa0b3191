/** Zod schemas of path and query parameters. Unknown query parameters are rejected. */
import { z } from 'zod';
import { experimentStatuses, type ExperimentStatus } from '../store/store.js';
import { sweepStatuses, type SweepStatus } from '../sweeps/store.js';
import { channels, spikeLayers, type Channel, type SpikeLayer } from './stream-hub.js';

/** Accepted on every route so browsers can authenticate WebSockets; checked by the auth hook. */
const apiKey = { api_key: z.string().optional() };

export const idParams = z.object({ id: z.string().min(1).max(128) }).strict();

export const noQuery = z.object(apiKey).strict();

const commaList = <T extends string>(allowed: readonly T[], what: string) =>
  z
    .string()
    .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
    .refine((xs) => xs.every((x) => (allowed as readonly string[]).includes(x)), {
      message: `${what} must be a comma-separated list of ${allowed.join(', ')}`,
    })
    .transform((xs) => xs as T[]);

/** A page of a list, newest first. */
const paging = {
  limit: z.coerce.number().int().min(1).max(100).default(20),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
};

export const listQuery = z
  .object({
    status: commaList<ExperimentStatus>(experimentStatuses, 'status').optional(),
    ...paging,
    ...apiKey,
  })
  .strict();

export const sweepListQuery = z
  .object({
    status: commaList<SweepStatus>(sweepStatuses, 'status').optional(),
    ...paging,
    ...apiKey,
  })
  .strict();

export const weightsQuery = z
  .object({
    format: z.enum(['npy', 'json', 'png']).default('npy'),
    ...apiKey,
  })
  .strict();

export const streamQuery = z
  .object({
    channels: commaList<Channel>(channels, 'channels').default(['progress', 'metrics']),
    weightsEvery: z.coerce.number().int().min(0).max(100_000_000).default(0),
    /** Layers whose spike rasters are sent, comma-separated. */
    layer: commaList<SpikeLayer>(spikeLayers, 'layer').default(['excitatory']),
    ...apiKey,
  })
  .strict();
