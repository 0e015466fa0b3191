/**
 * Recording of jobs that run in this process (the embedded runner's threads, or a distributed
 * worker's own pool): nothing has stored their events yet, so every one is written — status
 * changes, throttled progress, labelling-window metrics, the latest checkpoint (throttled), and
 * the final result with its trained arrays.
 *
 * Labelling windows are written in batches, at most `progressIntervalMs` after they arrive and
 * always before the job's next other write (a checkpoint must not be stored before the windows it
 * has seen, or a resume from it would lack them): a small network emits dozens of windows a
 * second, and one statement per window was most of the store's work in a sweep.
 */
import type { ExperimentEvent, WindowMetricsEvent } from '../experiment/events.js';
import type { ExperimentRecord } from '../store/store.js';
import type { JobRecording, RecordingTools } from './job-recorder.js';
import type { JobRunnerEvent } from './job-runner.js';

interface Trained {
  weights: Float32Array | null;
  theta: Float32Array | null;
}

export class StoreEveryEvent implements JobRecording {
  private readonly progressSavedAt = new Map<string, number>();
  /** The trained arrays of each running job, as the engine last reported them. */
  private readonly trained = new Map<string, Trained>();
  /** Labelling windows not yet queued for writing, and the timer that will queue them. */
  private readonly windows = new Map<string, { pending: WindowMetricsEvent[]; timer: NodeJS.Timeout }>();

  record(e: JobRunnerEvent, tools: RecordingTools): void {
    const { store } = tools;
    // Whatever this event writes comes after the windows seen before it.
    if (e.type !== 'event' || e.event.type === 'checkpoint') this.queueWindows(e.id, tools);
    switch (e.type) {
      case 'started':
        tools.write(e.id, async () => {
          const record = await store.transition(e.id, ['queued', 'running'], 'running', {
            started: true,
            resumedFrom: e.resumedFrom,
            error: null,
          });
          if (record) tools.notify(record);
        });
        return;
      case 'event':
        this.onEngineEvent(e.id, e.event, tools);
        return;
      case 'finished':
        tools.checkpoints.discard(e.id);
        this.end(e.id, tools, async () => {
          const trained = this.trained.get(e.id) ?? { weights: null, theta: null };
          const progress = tools.liveProgress(e.id);
          if (progress) await store.saveProgress(e.id, progress);
          const neurons = e.result.neurons;
          return store.finish(e.id, {
            status: e.result.cancelled ? 'cancelled' : 'completed',
            result: e.result,
            weights: trained.weights,
            weightsShape: [trained.weights && neurons > 0 ? trained.weights.length / neurons : 0, neurons],
            theta: trained.theta,
          });
        });
        return;
      case 'failed':
        // The failed run's checkpoints still matter (a retry resumes from the last one written).
        tools.checkpoints.writeNow(e.id);
        this.end(e.id, tools, () => {
          tools.checkpoints.release(e.id);
          return store.transition(e.id, ['queued', 'running'], 'failed', { error: e.error, finished: true });
        });
        return;
      case 'cancelled':
        tools.checkpoints.discard(e.id);
        // From `running` too: a job stopped by force inside a sample ends without results.
        this.end(e.id, tools, () => store.transition(e.id, ['queued', 'running'], 'cancelled', { finished: true }));
        return;
    }
  }

  forget(id: string): void {
    clearTimeout(this.windows.get(id)?.timer);
    this.windows.delete(id);
    this.progressSavedAt.delete(id);
    this.trained.delete(id);
  }

  release(id: string | null, tools: RecordingTools): void {
    for (const job of id === null ? [...this.windows.keys()] : [id]) this.queueWindows(job, tools);
  }

  /** Queues the job's waiting windows as one write, after its earlier writes. */
  private queueWindows(id: string, tools: RecordingTools): void {
    const w = this.windows.get(id);
    if (!w) return;
    clearTimeout(w.timer);
    this.windows.delete(id);
    tools.write(id, () => tools.store.appendMetrics(id, w.pending));
  }

  private onEngineEvent(id: string, event: ExperimentEvent, tools: RecordingTools): void {
    switch (event.type) {
      case 'progress': {
        const { type: _t, ...snapshot } = event;
        const now = Date.now();
        if (now - (this.progressSavedAt.get(id) ?? 0) >= tools.progressIntervalMs) {
          this.progressSavedAt.set(id, now);
          this.queueWindows(id, tools);
          tools.write(id, () => tools.store.saveProgress(id, snapshot));
        }
        return;
      }
      case 'metrics': {
        const w = this.windows.get(id);
        if (w) {
          w.pending.push(event);
          return;
        }
        const timer = setTimeout(() => this.queueWindows(id, tools), tools.progressIntervalMs);
        timer.unref();
        this.windows.set(id, { pending: [event], timer });
        return;
      }
      case 'checkpoint':
        tools.checkpoints.offer(id, event.samplesDone, event.state);
        return;
      case 'weights': {
        // A run stopped before its `done` still leaves its latest snapshot as partial weights.
        const t = this.trained.get(id);
        this.trained.set(id, { weights: event.data, theta: t?.theta ?? null });
        return;
      }
      case 'done':
        this.trained.set(id, { weights: event.weights, theta: event.theta });
        return;
      default:
        return;
    }
  }

  /**
   * The job's last write, after its others: `writeEnd` stores the final status; then what was
   * kept of the run is dropped, and the listeners hear of the stored record.
   */
  private end(id: string, tools: RecordingTools, writeEnd: () => Promise<ExperimentRecord | null>): void {
    tools.write(id, async () => {
      let record: ExperimentRecord | null;
      try {
        record = await writeEnd();
      } finally {
        // The trained arrays are large: dropped even when the write failed.
        this.trained.delete(id);
      }
      this.progressSavedAt.delete(id);
      tools.ended(id);
      if (record) tools.notify(record);
    });
  }
}
