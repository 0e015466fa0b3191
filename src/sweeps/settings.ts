/** Sweep settings from the environment (kept out of src/config.ts while other branches change it). */
import { z } from 'zod';

export interface SweepSettings {
  /** Trials (points × seeds) one sweep may expand to. */
  maxTrials: number;
  /** How often the coordinator re-derives every running sweep from the store (missed events, other instances). */
  tickMs: number;
}

const schema = z.object({
  MAX_SWEEP_TRIALS: z.coerce.number().int().positive().max(10_000).default(256),
  SWEEP_TICK_MS: z.coerce.number().int().positive().default(2_000),
});

export function sweepSettings(env: NodeJS.ProcessEnv | Record<string, string | undefined> = process.env): SweepSettings {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`invalid environment variable ${issue.path.join('.')}: ${issue.message}`);
  }
  return { maxTrials: parsed.data.MAX_SWEEP_TRIALS, tickMs: parsed.data.SWEEP_TICK_MS };
}
