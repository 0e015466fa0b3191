/**
 * Fans one experiment's event stream out to any number of WebSocket clients. Each frame is
 * encoded once and the same bytes go to every client. A client whose socket has more than the
 * configured number of bytes waiting loses frames instead of growing memory (weights: only the
 * latest pending snapshot is kept); per-experiment, per-channel sequence numbers make the losses
 * visible. Nothing here can slow the engine: it runs in another thread and we never wait on it.
 *
 * Limits (finding: 200 clients on a fast job once sent 23 GB in 21 s): connections per experiment
 * and per client (principal, or remote address without keys) are capped, and the bytes waiting on
 * all sockets together are bounded, so memory stays bounded however many clients watch.
 */
import type { WebSocket } from 'ws';
import type { ExperimentEvent, WeightsEvent } from '../experiment/events.js';
import type { JobRunnerEvent } from '../queue/job-runner.js';
import { finishedStatuses, type ExperimentRecord } from '../store/store.js';
import { spikesFrame, voltageFrame, weightsFrame, HEADER_BYTES } from './stream-frames.js';

export const channels = ['progress', 'metrics', 'spikes', 'weights', 'voltage'] as const;
export type Channel = (typeof channels)[number];
export const spikeLayers = ['input', 'excitatory', 'inhibitory'] as const;
export type SpikeLayer = (typeof spikeLayers)[number];

export interface ClientOptions {
  channels: Channel[];
  /** Send a weights frame only when the sample index enters a new multiple of this (0: every snapshot). */
  weightsEvery: number;
  /** Layers whose spike rasters are sent. */
  layers: SpikeLayer[];
}

export const PROTOCOL_VERSION = 1;

export class StreamCounters {
  sent: Record<Channel, number> = { progress: 0, metrics: 0, spikes: 0, weights: 0, voltage: 0 };
  dropped: Record<Channel, number> = { progress: 0, metrics: 0, spikes: 0, weights: 0, voltage: 0 };
  bytesSent = 0;
  /** Largest number of bytes ever waiting on one client socket: the per-client memory bound in practice. */
  maxBufferedBytes = 0;
  /** Bytes handed to sockets and not yet written out, all clients together. */
  bufferedBytes = 0;
  /** Connections refused by a limit. */
  rejected = 0;
}

export interface StreamLimits {
  perExperiment: number;
  perClient: number;
  /** Bytes waiting on all client sockets together before frames are dropped. */
  totalBufferBytes: number;
  /**
   * Bytes per second of each binary channel (weights, spikes, voltage) sent to all clients
   * together. Fan-out costs the API's CPU (100 watchers of one 6,400-neuron snapshot = 2 GB); on
   * a small machine that CPU is the engine's, so the rate is bounded and frames beyond it are
   * dropped (weights: the newest snapshot still goes out when there is budget again). One budget
   * per channel, so a stream of small raster frames cannot starve the large weight snapshots.
   */
  binaryBytesPerSec?: number;
}

interface Client {
  socket: WebSocket;
  opts: ClientOptions;
  subscribed: Set<Channel>;
  dropped: Record<Channel, number>;
  pendingWeights: Buffer | null;
  lastWeightsBucket: number;
  /** The snapshot most recently offered (sent or pending), so the final state is not offered twice. */
  lastWeightsOffered: WeightsSnapshot | null;
}

interface WeightsSnapshot {
  event: Pick<WeightsEvent, 'sampleIndex' | 'shape' | 'data'>;
  seq: number;
  frame?: Buffer;
}

interface LiveExperiment {
  clients: Set<Client>;
  seq: Record<Channel, number>;
  /** Spike rasters are numbered per layer, since a client subscribes to layers separately. */
  spikeSeq: Record<SpikeLayer, number>;
  latestProgress?: string;
  latestMetrics?: string;
  latestWeights?: WeightsSnapshot;
  finalWeights?: WeightsSnapshot;
}

const RECENTLY_FINISHED_KEPT = 256;
const OPEN = 1;

export class StreamHub {
  readonly counters = new StreamCounters();
  private readonly live = new Map<string, LiveExperiment>();
  private readonly recentlyFinished = new Map<string, ExperimentRecord>();
  /** Rotates the order clients are served in (fairness under the byte budget). */
  private turn = 0;
  /** Token buckets of binary bytes per channel (see StreamLimits.binaryBytesPerSec). */
  private readonly buckets = new Map<Channel, { tokens: number; at: number }>();
  /** Open connections by experiment and by client, counted from admission to close. */
  private readonly openByExperiment = new Map<string, number>();
  private readonly openByClient = new Map<string, number>();

  constructor(
    private readonly bufferBytes: number,
    private readonly limits: StreamLimits = { perExperiment: Infinity, perClient: Infinity, totalBufferBytes: Infinity },
  ) {}

  /**
   * Counts a new connection against the limits, or returns why it is refused. The count is
   * released when the socket closes, whatever happens in between.
   */
  admit(socket: WebSocket, experimentId: string, clientKey: string): string | null {
    const e = this.openByExperiment.get(experimentId) ?? 0;
    const c = this.openByClient.get(clientKey) ?? 0;
    if (e >= this.limits.perExperiment) {
      this.counters.rejected++;
      return `this experiment already has ${e} streams open (MAX_STREAMS_PER_EXPERIMENT)`;
    }
    if (c >= this.limits.perClient) {
      this.counters.rejected++;
      return `this client already has ${c} streams open (MAX_STREAMS_PER_CLIENT)`;
    }
    const bump = (m: Map<string, number>, k: string, d: number) => {
      const n = (m.get(k) ?? 0) + d;
      if (n > 0) m.set(k, n);
      else m.delete(k);
    };
    bump(this.openByExperiment, experimentId, 1);
    bump(this.openByClient, clientKey, 1);
    socket.once('close', () => {
      bump(this.openByExperiment, experimentId, -1);
      bump(this.openByClient, clientKey, -1);
    });
    return null;
  }

  clientCount(): number {
    let n = 0;
    for (const exp of this.live.values()) n += exp.clients.size;
    return n;
  }

  /** Engine events as the job runner reports them. */
  readonly handleRunnerEvent = (e: JobRunnerEvent): void => {
    if (e.type === 'started') {
      this.recentlyFinished.delete(e.id);
      this.experiment(e.id);
    } else if (e.type === 'event') {
      this.onEngineEvent(e.id, e.event);
    }
  };

  /** Status changes after they are stored. */
  readonly handleStatus = (record: ExperimentRecord): void => {
    const exp = this.live.get(record.id);
    if (finishedStatuses.includes(record.status)) {
      this.rememberFinished(record);
      if (!exp) return;
      this.live.delete(record.id);
      for (const client of exp.clients) this.end(client, record, exp.finalWeights ?? exp.latestWeights);
    } else if (exp) {
      const msg = JSON.stringify({ type: 'status', status: record.status, resumedFrom: record.resumedFrom });
      for (const client of exp.clients) this.sendControl(client, msg);
    }
  };

  /**
   * Starts streaming an experiment to a client: hello, the latest snapshot, then live frames. A
   * finished experiment gets its final state and a normal close.
   */
  attach(
    socket: WebSocket,
    record: ExperimentRecord,
    opts: ClientOptions,
    hello: object,
    finalWeights?: Pick<WeightsEvent, 'sampleIndex' | 'shape' | 'data'>,
  ): void {
    const client: Client = {
      socket,
      opts,
      subscribed: new Set(opts.channels),
      dropped: { progress: 0, metrics: 0, spikes: 0, weights: 0, voltage: 0 },
      pendingWeights: null,
      lastWeightsBucket: -1,
      lastWeightsOffered: null,
    };
    this.sendControl(client, JSON.stringify({ type: 'hello', protocol: PROTOCOL_VERSION, headerBytes: HEADER_BYTES, ...hello }));
    const finished = finishedStatuses.includes(record.status) ? record : this.recentlyFinished.get(record.id);
    if (finished) {
      this.end(client, finished, finalWeights ? { event: finalWeights, seq: 0 } : undefined);
      return;
    }
    const exp = this.experiment(record.id);
    exp.clients.add(client);
    socket.on('close', () => exp.clients.delete(client));
    if (exp.latestProgress && client.subscribed.has('progress')) this.deliver(client, 'progress', exp.latestProgress);
    if (exp.latestMetrics && client.subscribed.has('metrics')) this.deliver(client, 'metrics', exp.latestMetrics);
    if (exp.latestWeights && client.subscribed.has('weights')) this.offerWeights(client, exp.latestWeights, true);
  }

  /** Closes the streams of a deleted experiment. */
  drop(id: string): void {
    const exp = this.live.get(id);
    this.live.delete(id);
    this.recentlyFinished.delete(id);
    for (const client of exp?.clients ?? []) client.socket.close(4410, 'experiment deleted');
  }

  closeAll(code: number, reason: string): void {
    for (const exp of this.live.values()) for (const client of exp.clients) client.socket.close(code, reason);
    this.live.clear();
  }

  private experiment(id: string): LiveExperiment {
    let exp = this.live.get(id);
    if (!exp) {
      exp = {
        clients: new Set(),
        seq: { progress: 0, metrics: 0, spikes: 0, weights: 0, voltage: 0 },
        spikeSeq: { input: 0, excitatory: 0, inhibitory: 0 },
      };
      this.live.set(id, exp);
    }
    return exp;
  }

  private rememberFinished(record: ExperimentRecord): void {
    this.recentlyFinished.set(record.id, record);
    if (this.recentlyFinished.size > RECENTLY_FINISHED_KEPT) {
      this.recentlyFinished.delete(this.recentlyFinished.keys().next().value!);
    }
  }

  private onEngineEvent(id: string, event: ExperimentEvent): void {
    const exp = this.live.get(id);
    if (!exp) return;
    switch (event.type) {
      case 'progress': {
        const msg = JSON.stringify({ ...event, seq: ++exp.seq.progress });
        exp.latestProgress = msg;
        this.broadcast(exp, 'progress', () => msg);
        return;
      }
      case 'metrics': {
        const msg = JSON.stringify({ ...event, seq: ++exp.seq.metrics });
        exp.latestMetrics = msg;
        this.broadcast(exp, 'metrics', () => msg);
        return;
      }
      case 'spikes': {
        const seq = ++exp.spikeSeq[event.layer];
        let frame: Buffer | undefined;
        this.broadcast(exp, 'spikes', () => (frame ??= spikesFrame(event, seq)), (c) => c.opts.layers.includes(event.layer));
        return;
      }
      case 'voltage': {
        const seq = ++exp.seq.voltage;
        let frame: Buffer | undefined;
        this.broadcast(exp, 'voltage', () => (frame ??= voltageFrame(event, seq)));
        return;
      }
      case 'weights': {
        const snapshot: WeightsSnapshot = { event, seq: ++exp.seq.weights };
        exp.latestWeights = snapshot;
        for (const client of this.inTurn(exp)) if (client.subscribed.has('weights')) this.offerWeights(client, snapshot, false);
        return;
      }
      case 'done': {
        const neurons = event.result.neurons;
        // Usually the last snapshot already is the final state; don't send it twice.
        if (exp.latestWeights?.event.sampleIndex === event.result.train.samples) {
          exp.finalWeights = exp.latestWeights;
          return;
        }
        exp.finalWeights = {
          event: { sampleIndex: event.result.train.samples, shape: [event.weights.length / neurons, neurons], data: event.weights },
          seq: ++exp.seq.weights,
        };
        return;
      }
      default:
        return;
    }
  }

  /**
   * The experiment's clients, starting one further each call: when the byte budget runs out
   * part-way through a fan-out, a different client is first in line next time, so no client
   * starves behind the others.
   */
  private inTurn(exp: LiveExperiment): Client[] {
    const all = [...exp.clients];
    if (all.length < 2) return all;
    const k = this.turn++ % all.length;
    return [...all.slice(k), ...all.slice(0, k)];
  }

  private broadcast(exp: LiveExperiment, channel: Channel, encode: () => string | Buffer, accept?: (c: Client) => boolean): void {
    for (const client of this.inTurn(exp)) {
      if (!client.subscribed.has(channel) || (accept && !accept(client))) continue;
      this.deliver(client, channel, encode());
    }
  }

  /** Whether the client's socket, and all sockets together, can take `bytes` more without exceeding their bounds. */
  private hasRoom(client: Client, bytes: number): boolean {
    const buffered = client.socket.bufferedAmount;
    // An idle socket always takes one frame, however large, so big weight matrices still flow —
    // unless other sockets already hold the total: then it waits (weights: latest wins).
    const total = this.counters.bufferedBytes;
    const totalOk = total === 0 || total + bytes <= this.limits.totalBufferBytes;
    return totalOk && (buffered === 0 || buffered + bytes <= this.bufferBytes);
  }

  /** Whether the channel's byte budget allows `bytes` now; takes them if so. */
  private takeBudget(channel: Channel, bytes: number): boolean {
    const rate = this.limits.binaryBytesPerSec;
    if (!rate || !Number.isFinite(rate)) return true;
    const now = performance.now();
    const b = this.buckets.get(channel) ?? { tokens: rate, at: now };
    this.buckets.set(channel, b);
    // The bucket holds one second of budget; a frame larger than that goes when it is full.
    b.tokens = Math.min(rate, b.tokens + ((now - b.at) / 1000) * rate);
    b.at = now;
    if (b.tokens < Math.min(bytes, rate)) return false;
    b.tokens -= bytes;
    return true;
  }

  private deliver(client: Client, channel: Channel, data: string | Buffer): void {
    if (client.socket.readyState !== OPEN) return;
    const bytes = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
    if (!this.hasRoom(client, bytes) || (typeof data !== 'string' && !this.takeBudget(channel, bytes))) {
      client.dropped[channel]++;
      this.counters.dropped[channel]++;
      return;
    }
    this.send(client, channel, data, bytes);
  }

  private send(client: Client, channel: Channel, data: string | Buffer, bytes: number): void {
    this.counters.sent[channel]++;
    this.counters.bytesSent += bytes;
    this.counters.bufferedBytes += bytes;
    // ws calls back once per send: when written out, or with an error when the socket is gone.
    client.socket.send(data, { binary: typeof data !== 'string' }, () => {
      this.counters.bufferedBytes = Math.max(0, this.counters.bufferedBytes - bytes);
      // Sent bytes left the buffer: a snapshot that was waiting for room may go now.
      if (client.pendingWeights) this.flushWeights(client);
    });
    this.counters.maxBufferedBytes = Math.max(this.counters.maxBufferedBytes, client.socket.bufferedAmount);
  }

  /** Latest wins: a newer snapshot replaces one still waiting for room. */
  private offerWeights(client: Client, snapshot: WeightsSnapshot, force: boolean): void {
    if (client.lastWeightsOffered === snapshot) return;
    const every = client.opts.weightsEvery;
    if (every > 0) {
      const bucket = Math.floor(snapshot.event.sampleIndex / every);
      if (!force && bucket <= client.lastWeightsBucket) return;
      // A forced snapshot (on attach, at the end) also fills its bucket, so the next live one
      // from the same bucket is not sent again.
      client.lastWeightsBucket = Math.max(client.lastWeightsBucket, bucket);
    }
    snapshot.frame ??= weightsFrame(snapshot.event, snapshot.seq);
    client.lastWeightsOffered = snapshot;
    if (client.pendingWeights) {
      client.dropped.weights++;
      this.counters.dropped.weights++;
    }
    client.pendingWeights = snapshot.frame;
    this.flushWeights(client);
  }

  private flushWeights(client: Client): void {
    const frame = client.pendingWeights;
    if (!frame || client.socket.readyState !== OPEN) return;
    if (!this.hasRoom(client, frame.byteLength) || !this.takeBudget('weights', frame.byteLength)) return;
    client.pendingWeights = null;
    this.send(client, 'weights', frame, frame.byteLength);
  }

  private sendControl(client: Client, msg: string): void {
    if (client.socket.readyState === OPEN) client.socket.send(msg);
  }

  private end(client: Client, record: ExperimentRecord, finalWeights?: WeightsSnapshot): void {
    if (finalWeights && client.subscribed.has('weights')) this.offerWeights(client, finalWeights, true);
    if (client.pendingWeights) {
      // The socket is closing: a snapshot that still has no room is lost.
      client.dropped.weights++;
      this.counters.dropped.weights++;
      client.pendingWeights = null;
    }
    this.sendControl(
      client,
      JSON.stringify({
        type: 'end',
        status: record.status,
        error: record.error,
        result: record.result,
        dropped: client.dropped,
      }),
    );
    if (client.socket.readyState === OPEN) client.socket.close(1000, `experiment ${record.status}`);
  }
}
