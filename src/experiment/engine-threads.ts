/**
 * How many threads an experiment's network is split over. Splitting costs a barrier per time step
 * (1.5 µs on the 2-vCPU machine of BENCHMARKS.md, where a bare round trip between the two cores
 * takes 1.0 µs), so it pays only when each thread's share of the excitatory layer takes several
 * times that: there, 1,600 neurons on 2 threads run at 0.6× and 6,400 at 1.25× (training) and
 * 1.4× (test). 'auto' gives every thread at least AUTO_NEURONS_PER_THREAD neurons.
 */
export const AUTO_NEURONS_PER_THREAD = 3200;

export function engineThreads(requested: number | 'auto' | undefined, neurons: number, maxThreads: number): number {
  const cap = Math.max(1, Math.floor(maxThreads));
  if (typeof requested === 'number') return Math.min(requested, cap);
  return Math.max(1, Math.min(cap, Math.floor(neurons / AUTO_NEURONS_PER_THREAD)));
}
