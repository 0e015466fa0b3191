/**
 * WebSocket client of `/v1/experiments/:id/stream` (docs/streaming.md, openapi.yaml): parses text
 * and binary frames, counts frames lost in transit from gaps in sequence numbers, and reconnects
 * with exponential backoff after a dropped connection (the server then resends hello and its
 * latest snapshot, so the view resumes where it was).
 */
import { api, ApiError, withKey, type ExperimentDetail, type Progress, type Result, type Status, type WindowMetrics } from './api.js';

export const HEADER_BYTES = 36;
export const FrameKind = { spikes: 1, weights: 2, voltage: 3 } as const;
const layers = ['input', 'excitatory', 'inhibitory'] as const;
export type SpikeLayer = (typeof layers)[number];
export type Channel = 'progress' | 'metrics' | 'spikes' | 'weights' | 'voltage';

export interface FrameHeader {
  version: number;
  kind: number;
  dtype: number;
  phase: 'train' | 'test';
  seq: number;
  sampleIndex: number;
  rows: number;
  cols: number;
  steps: number;
  label: number | null;
  layer: SpikeLayer | null;
  layerSize: number;
}

export interface SpikesFrame extends FrameHeader {
  /** (step, neuron) pairs sorted by step. */
  pairs: Uint32Array;
}
export interface WeightsFrame extends FrameHeader {
  /** [rows = inputs, cols = neurons] row-major. */
  data: Float32Array;
}
export interface VoltageFrame extends FrameHeader {
  neurons: Uint32Array;
  /** [steps, cols] mV. */
  voltage: Float32Array;
  threshold: Float32Array;
}

export function parseHeader(buf: ArrayBuffer): FrameHeader {
  if (buf.byteLength < HEADER_BYTES) throw new Error(`binary frame of ${buf.byteLength} bytes is shorter than its header`);
  const v = new DataView(buf);
  const label = v.getUint32(24, true);
  const layer = v.getUint8(28);
  return {
    version: v.getUint8(0),
    kind: v.getUint8(1),
    dtype: v.getUint8(2),
    phase: v.getUint8(3) === 1 ? 'test' : 'train',
    seq: v.getUint32(4, true),
    sampleIndex: v.getUint32(8, true),
    rows: v.getUint32(12, true),
    cols: v.getUint32(16, true),
    steps: v.getUint32(20, true),
    label: label === 0xffffffff ? null : label,
    layer: layer === 255 ? null : (layers[layer] ?? null),
    layerSize: v.getUint32(32, true),
  };
}

export function parseBinary(buf: ArrayBuffer): SpikesFrame | WeightsFrame | VoltageFrame | null {
  const hd = parseHeader(buf);
  const p = HEADER_BYTES;
  switch (hd.kind) {
    case FrameKind.spikes:
      return { ...hd, pairs: new Uint32Array(buf, p, hd.rows * 2) };
    case FrameKind.weights:
      return { ...hd, data: new Float32Array(buf, p, hd.rows * hd.cols) };
    case FrameKind.voltage: {
      const n = hd.cols;
      const m = hd.rows * n;
      return {
        ...hd,
        neurons: new Uint32Array(buf, p, n),
        voltage: new Float32Array(buf, p + 4 * n, m),
        threshold: new Float32Array(buf, p + 4 * (n + m), m),
      };
    }
    default:
      return null;
  }
}

/**
 * Frames lost on one channel, from gaps in `seq`. Sequence numbers count every frame the
 * experiment produced on the channel, so a filtered subscription (spikes of one layer, weights
 * thinned by weightsEvery) sees regular gaps that are not losses: for those channels the stride
 * is learned as the smallest gap seen, and only gaps beyond it count.
 */
export class SeqTracker {
  private last: number | null = null;
  private readonly gaps = new Map<number, number>();
  private readonly offlineGaps: number[] = [];
  private minGap = Infinity;
  private reconnected = false;
  received = 0;

  constructor(private readonly learnStride: boolean) {}

  /** The socket was re-opened: the next gap is what was missed while disconnected, not a drop. */
  markReconnect(): void {
    this.reconnected = true;
  }

  see(seq: number): void {
    this.received++;
    if (seq === 0) return; // the final snapshot of a finished experiment is unnumbered
    if (this.last !== null && seq > this.last) {
      const gap = seq - this.last;
      if (this.reconnected) this.offlineGaps.push(gap);
      else {
        this.gaps.set(gap, (this.gaps.get(gap) ?? 0) + 1);
        if (gap < this.minGap) this.minGap = gap;
      }
    }
    this.reconnected = false;
    // A smaller seq means the server restarted and numbers from 1 again.
    this.last = seq;
  }

  private get stride(): number {
    return this.learnStride && Number.isFinite(this.minGap) ? this.minGap : 1;
  }

  /** Frames lost while connected (the server dropped them for a slow client). */
  get dropped(): number {
    let n = 0;
    for (const [gap, count] of this.gaps) n += count * Math.max(0, Math.round(gap / this.stride) - 1);
    return n;
  }

  /** Frames produced while the socket was down. */
  get missedOffline(): number {
    return this.offlineGaps.reduce((n, gap) => n + Math.max(0, Math.round(gap / this.stride) - 1), 0);
  }
}

/** Spike rasters are numbered per layer: one tracker per layer, counted together. */
export class LayerSeqTrackers {
  private readonly byLayer = new Map<SpikeLayer, SeqTracker>();

  see(layer: SpikeLayer | null, seq: number): void {
    const key = layer ?? 'excitatory';
    let t = this.byLayer.get(key);
    if (!t) this.byLayer.set(key, (t = new SeqTracker(true)));
    t.see(seq);
  }

  markReconnect(): void {
    for (const t of this.byLayer.values()) t.markReconnect();
  }

  private sum(f: (t: SeqTracker) => number): number {
    let n = 0;
    for (const t of this.byLayer.values()) n += f(t);
    return n;
  }

  get received(): number {
    return this.sum((t) => t.received);
  }

  get dropped(): number {
    return this.sum((t) => t.dropped);
  }

  get missedOffline(): number {
    return this.sum((t) => t.missedOffline);
  }
}

export interface Hello {
  type: 'hello';
  protocol: number;
  headerBytes: number;
  experiment: ExperimentDetail;
}
export interface StatusMsg {
  type: 'status';
  status: Status;
  resumedFrom: number | null;
}
export interface ProgressMsg extends Progress {
  type: 'progress';
  seq: number;
}
export interface EndMsg {
  type: 'end';
  status: Status;
  error: string | null;
  result: Result | null;
  dropped: Record<Channel, number>;
}

export type ConnectionState =
  | { state: 'connecting'; attempt: number }
  | { state: 'live' }
  | { state: 'reconnecting'; attempt: number; inMs: number; reason: string }
  | { state: 'ended' }
  | { state: 'failed'; reason: string };

export interface StreamHandlers {
  hello?(h: Hello): void;
  status?(s: StatusMsg): void;
  progress?(p: ProgressMsg): void;
  metrics?(m: WindowMetrics): void;
  spikes?(f: SpikesFrame): void;
  weights?(f: WeightsFrame): void;
  voltage?(f: VoltageFrame): void;
  end?(e: EndMsg): void;
  connection?(c: ConnectionState): void;
}

export interface StreamOptions {
  channels: Channel[];
  /** Layers whose spike rasters are sent (the server's default: excitatory). */
  layers?: SpikeLayer[];
  weightsEvery?: number;
}

const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 15_000;

export class ExperimentStream {
  private ws: WebSocket | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private attempt = 0;
  private stopped = false;
  private ended = false;
  private helloSeen = false;
  readonly seq: Record<Channel, Pick<SeqTracker, 'received' | 'dropped' | 'missedOffline' | 'markReconnect'>> & {
    spikes: LayerSeqTrackers;
    progress: SeqTracker;
    metrics: SeqTracker;
    voltage: SeqTracker;
    weights: SeqTracker;
  } = {
    progress: new SeqTracker(false),
    metrics: new SeqTracker(false),
    voltage: new SeqTracker(false),
    spikes: new LayerSeqTrackers(),
    weights: new SeqTracker(true),
  };
  reconnects = 0;
  bytes = 0;

  constructor(
    private readonly id: string,
    private readonly opts: StreamOptions,
    private readonly on: StreamHandlers,
  ) {}

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const ws = this.ws;
    this.ws = null;
    if (ws && ws.readyState <= WebSocket.OPEN) ws.close(1000, 'client closed');
  }

  /**
   * The "Reconnect" button: an open socket is dropped as a network failure would drop it (the
   * client then reconnects with backoff and resumes); a closed stream is opened again.
   */
  reconnectNow(): void {
    if (this.ws) {
      this.ws.close(4000, 'dropped by client');
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.stopped = false;
    this.ended = false;
    this.reconnects++;
    this.connect();
  }

  dropped(): number {
    let n = 0;
    for (const t of Object.values(this.seq)) n += t.dropped;
    return n;
  }

  missedOffline(): number {
    let n = 0;
    for (const t of Object.values(this.seq)) n += t.missedOffline;
    return n;
  }

  private url(): string {
    const p = new URLSearchParams({ channels: this.opts.channels.join(',') });
    if (this.opts.layers) p.set('layer', this.opts.layers.join(','));
    if (this.opts.weightsEvery !== undefined) p.set('weightsEvery', String(this.opts.weightsEvery));
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return `${scheme}//${location.host}${withKey(`/v1/experiments/${encodeURIComponent(this.id)}/stream?${p}`)}`;
  }

  private connect(): void {
    if (this.stopped) return;
    this.on.connection?.({ state: 'connecting', attempt: this.attempt });
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.url());
    } catch (err) {
      this.fail(`cannot open the stream: ${(err as Error).message}`);
      return;
    }
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    let greeted = false;
    ws.onmessage = (ev: MessageEvent<string | ArrayBuffer>) => {
      if (this.ws !== ws) return;
      if (typeof ev.data === 'string') {
        this.bytes += ev.data.length;
        let msg: { type?: string; seq?: number };
        try {
          msg = JSON.parse(ev.data);
        } catch {
          return;
        }
        if (msg.type === 'hello') {
          greeted = true;
          if (this.helloSeen) for (const t of Object.values(this.seq)) t.markReconnect();
          this.helloSeen = true;
          this.attempt = 0;
          this.on.connection?.({ state: 'live' });
        }
        this.dispatchText(msg);
      } else {
        this.bytes += ev.data.byteLength;
        this.dispatchBinary(ev.data);
      }
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.stopped) return;
      if (this.ended || ev.code === 1000) {
        this.ended = true;
        this.on.connection?.({ state: 'ended' });
        return;
      }
      if (ev.code === 4404) return this.fail('experiment not found');
      if (ev.code === 4410) return this.fail('experiment deleted');
      void this.retry(greeted ? `connection lost (${ev.code}${ev.reason ? ` ${ev.reason}` : ''})` : 'could not connect', greeted);
    };
  }

  /** Backoff, unless the HTTP API says retrying cannot help (missing key, unknown id). */
  private async retry(reason: string, wasLive: boolean): Promise<void> {
    if (!wasLive) {
      try {
        await api.get(this.id);
      } catch (err) {
        if (this.stopped) return;
        if (err instanceof ApiError && (err.status === 401 || err.status === 404)) return this.fail(err.body.message);
      }
    }
    if (this.stopped) return;
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.attempt);
    const inMs = Math.round(base * (0.75 + Math.random() * 0.5));
    this.attempt++;
    this.reconnects++;
    this.on.connection?.({ state: 'reconnecting', attempt: this.attempt, inMs, reason });
    this.timer = setTimeout(() => {
      this.timer = null;
      this.connect();
    }, inMs);
  }

  private fail(reason: string): void {
    this.stopped = true;
    this.on.connection?.({ state: 'failed', reason });
  }

  private dispatchText(msg: { type?: string; seq?: number }): void {
    switch (msg.type) {
      case 'hello':
        this.on.hello?.(msg as Hello);
        return;
      case 'status':
        this.on.status?.(msg as StatusMsg);
        return;
      case 'progress':
        this.seq.progress.see(msg.seq ?? 0);
        this.on.progress?.(msg as ProgressMsg);
        return;
      case 'metrics':
        this.seq.metrics.see(msg.seq ?? 0);
        this.on.metrics?.(msg as WindowMetrics);
        return;
      case 'end':
        this.ended = true;
        this.on.end?.(msg as EndMsg);
        return;
    }
  }

  private dispatchBinary(buf: ArrayBuffer): void {
    let frame;
    try {
      frame = parseBinary(buf);
    } catch {
      return;
    }
    if (!frame) return;
    if ('pairs' in frame) {
      this.seq.spikes.see(frame.layer, frame.seq);
      this.on.spikes?.(frame);
    } else if ('neurons' in frame) {
      this.seq.voltage.see(frame.seq);
      this.on.voltage?.(frame);
    } else {
      this.seq.weights.see(frame.seq);
      this.on.weights?.(frame);
    }
  }
}

/**
 * Coalesces drawing: each view draws at most once per animation frame, with its latest data.
 * A view may also ask for a minimum interval between its draws (rasters arriving 100 times a
 * second are unreadable anyway, and the CPU is better spent receiving frames).
 */
export class FrameScheduler {
  private readonly dirty = new Map<string, () => void>();
  private readonly lastDraw = new Map<string, number>();
  private readonly minInterval = new Map<string, number>();
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private raf = 0;
  frames = 0;

  /** Limits how often `key` is drawn (ms). */
  throttle(key: string, ms: number): void {
    this.minInterval.set(key, ms);
  }

  request(key: string, draw: () => void): void {
    this.dirty.set(key, draw);
    if (this.timers.has(key)) return;
    const wait = (this.lastDraw.get(key) ?? -Infinity) + (this.minInterval.get(key) ?? 0) - performance.now();
    if (wait > 1) {
      this.timers.set(
        key,
        setTimeout(() => {
          this.timers.delete(key);
          this.schedule();
        }, wait),
      );
      return;
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.raf === 0) this.raf = requestAnimationFrame(this.tick);
  }

  private readonly tick = (now: number) => {
    this.raf = 0;
    this.frames++;
    for (const [key, draw] of [...this.dirty]) {
      if (this.timers.has(key)) continue; // throttled: its timer schedules it
      this.dirty.delete(key);
      this.lastDraw.set(key, now);
      try {
        draw();
      } catch (err) {
        console.error(`drawing ${key} failed`, err);
      }
    }
  };

  dispose(): void {
    if (this.raf) cancelAnimationFrame(this.raf);
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.raf = 0;
    this.dirty.clear();
  }
}
