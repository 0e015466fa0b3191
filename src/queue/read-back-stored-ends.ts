/**
 * Recording of jobs a distributed worker runs: the worker has already stored what it reports, so
 * this API instance writes nothing of the run. It keeps the live progress (the recorder does), and
 * turns reported starts and ends into status notifications read back from the store — writing
 * only an end the worker could not record (a job the queue failed after it stalled too often, or a
 * waiting job removed by a cancel), compare-and-set as always.
 */
import type { ExperimentRecord } from '../store/store.js';
import type { JobRecording, RecordingTools } from './job-recorder.js';
import type { JobRunnerEvent } from './job-runner.js';

export class ReadBackStoredEnds implements JobRecording {
  record(e: JobRunnerEvent, tools: RecordingTools): void {
    const { store } = tools;
    const readBack = async (written: ExperimentRecord | null) => {
      const record = written ?? (await store.get(e.id));
      if (record) tools.notify(record);
    };
    switch (e.type) {
      case 'started':
        tools.write(e.id, () => readBack(null));
        return;
      case 'event':
        return;
      case 'finished':
        tools.write(e.id, async () => {
          tools.ended(e.id);
          await readBack(null);
        });
        return;
      case 'failed':
        tools.write(e.id, async () => {
          tools.ended(e.id);
          await readBack(await store.transition(e.id, ['queued', 'running'], 'failed', { error: e.error, finished: true }));
        });
        return;
      case 'cancelled':
        tools.write(e.id, async () => {
          tools.ended(e.id);
          await readBack(await store.transition(e.id, ['queued', 'running'], 'cancelled', { finished: true }));
        });
        return;
    }
  }

  /** It keeps nothing of its own. */
  forget(): void {}

  release(): void {}
}
