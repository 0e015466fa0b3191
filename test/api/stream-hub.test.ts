/**
 * StreamHub's per-client weight throttling, driven directly (no engine, no network): a snapshot
 * forced on a client when it attaches fills its weightsEvery bucket like a live one does.
 */
import { EventEmitter } from 'node:events';
import type { WebSocket } from 'ws';
import { describe, expect, it } from 'vitest';
import { StreamHub } from '../../src/api/stream-hub.js';
import type { ExperimentRecord } from '../../src/store/store.js';

/** A socket that sends instantly and records the sample index of every weights frame. */
class FakeSocket extends EventEmitter {
  readyState = 1;
  bufferedAmount = 0;
  readonly weightsAt: number[] = [];
  send(data: string | Buffer, _opts?: unknown, done?: () => void): void {
    if (typeof data !== 'string' && data.readUInt8(1) === 2) this.weightsAt.push(data.readUInt32LE(8));
    done?.();
  }
  close(): void {
    this.readyState = 3;
    this.emit('close');
  }
}

const record = { id: 'x', status: 'running' } as unknown as ExperimentRecord;
const weights = (sampleIndex: number) => ({
  type: 'event' as const,
  id: 'x',
  event: { type: 'weights' as const, sampleIndex, shape: [784, 1] as [number, number], data: new Float32Array(784) },
});

describe('StreamHub weight throttling', () => {
  it('counts the snapshot sent on attach in its bucket, then sends one per new bucket', () => {
    const hub = new StreamHub(1 << 20);
    hub.handleRunnerEvent({ type: 'started', id: 'x', resumedFrom: null });
    hub.handleRunnerEvent(weights(60));
    const socket = new FakeSocket();
    hub.attach(socket as unknown as WebSocket, record, { channels: ['weights'], weightsEvery: 50, layers: ['excitatory'] }, {});
    for (const i of [70, 80, 90, 100, 110, 150]) hub.handleRunnerEvent(weights(i));
    expect(socket.weightsAt).toEqual([60, 100, 150]);
  });
});
