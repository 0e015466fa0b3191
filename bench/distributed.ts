/**
 * Distributed throughput (part of `npm run bench`): the same 4 small experiments, first one after
 * another on 1 worker process, then on 2 worker processes, through one API process of distributed
 * mode (all compiled, child processes). Prints both wall times (first submit → last completion)
 * and their ratio. Uses REDIS_URL / DATABASE_URL (default: this machine's services) with a key
 * prefix and schema of its own, removed afterwards; prints "skipped" and exits 0 when Redis or
 * PostgreSQL is unreachable.
 *
 *   npm run build && node dist/bench/distributed.js [--neurons 100] [--train 8000] [--test 500]
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { type Child, openCluster, parallelCapacity, startApiAndWorkers } from './cluster-harness.js';


const { values: args } = parseArgs({
  options: {
    neurons: { type: 'string', default: '100' },
    train: { type: 'string', default: '20000' },
    test: { type: 'string', default: '500' },
  },
});

async function main() {
  const cluster = await openCluster('distributed');
  if (!cluster) return;
  const env = cluster.env;
  const neurons = Number(args.neurons);
  const train = Number(args.train);
  const test = Number(args.test);
  const children: Child[] = [];
  try {
    const { url, addWorker: worker, waitWorkers } = await startApiAndWorkers(env, children);

    const runBatch = async (label: string): Promise<number> => {
      const t0 = performance.now();
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) {
        const res = await fetch(`${url}/v1/experiments`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ preset: 'diehl-cook-2015', name: `${label} ${i}`, neurons, train, test, seed: i, checkpointEvery: 1000 }),
        });
        if (res.status !== 201) throw new Error(`submit failed: ${res.status} ${await res.text()}`);
        ids.push(((await res.json()) as { id: string }).id);
      }
      for (const id of ids) {
        for (;;) {
          const e = (await (await fetch(`${url}/v1/experiments/${id}`)).json()) as { status: string; error: string | null };
          if (e.status === 'completed') break;
          if (e.status === 'failed' || e.status === 'cancelled') throw new Error(`${id} ${e.status}: ${e.error}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      return (performance.now() - t0) / 1000;
    };

    console.log(
      `distributed bench: 4 experiments × (${neurons} neurons, ${train} train, ${test} test samples), ` +
        `1 API process, WORKER_CONCURRENCY=1, ${availableParallelism()} cores`,
    );
    const capacity = await parallelCapacity();
    console.log(`  machine: 2 CPU-bound threads do ×${capacity.toFixed(2)} the work of 1 (the best speed-up possible here)`);
    await worker();
    await waitWorkers(1);
    const sequential = await runBatch('sequential');
    console.log(`  1 worker process (one after another): ${sequential.toFixed(2)} s`);
    await worker();
    await waitWorkers(2);
    const parallel = await runBatch('parallel');
    console.log(`  2 worker processes:                    ${parallel.toFixed(2)} s`);
    console.log(
      `  wall-time ratio 2 workers / 1 worker: ${(parallel / sequential).toFixed(2)} (speed-up ×${(sequential / parallel).toFixed(2)})`,
    );
  } finally {
    await cluster.close(children);
  }
}

main().catch((err: unknown) => {
  console.error('distributed bench failed:', err instanceof Error ? err.message : err);
  process.exit(1);
});
