/**
 * How many threads an experiment's network is split over. Splitting costs two barriers per time
 * step (about a microsecond each), so it pays only when each thread's share of the excitatory
 * layer takes much longer than that: 'auto' gives every thread at least AUTO_NEURONS_PER_THREAD
 * neurons (BENCHMARKS.md has the measurements behind the figure).
 */
export const AUTO_NEURONS_PER_THREAD = 800;

export function engineThreads(requested: number | 'auto' | undefined, neurons: number, maxThreads: number): number {
  const cap = Math.max(1, Math.floor(maxThreads));
  if (typeof requested === 'number') return Math.min(requested, cap);
  return Math.max(1, Math.min(cap, Math.floor(neurons / AUTO_NEURONS_PER_THREAD)));
}
