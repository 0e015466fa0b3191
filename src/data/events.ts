/**
 * Address-event streams (x, y, timestamp, polarity), as event cameras (DVS) and N-MNIST deliver
 * them, and their conversion into the input layer's spike train: events drive the input neurons
 * at their own times, with no rate encoding. ON and OFF are two input channels:
 *
 *   input index = polarity·H·W + y·W + x     (polarity 0 = OFF block first, 1 = ON block second)
 */

export interface EventStream {
  x: Uint16Array;
  y: Uint16Array;
  /** Timestamps in microseconds from the start of the sample. */
  tUs: Uint32Array;
  /** 0 = OFF (darker), 1 = ON (brighter). */
  p: Uint8Array;
}

export interface SpikeTrainOptions {
  dtMs: number;
  width: number;
  height: number;
  /** Steps of the presentation; default: up to the last event. Later events are dropped (counted in `dropped`). */
  steps?: number;
}

/** A sample's input spikes per simulation step, in the compact form the engine's input loop walks. */
export interface PrecomputedSpikeTrain {
  steps: number;
  /** Spikes at each step. */
  count: Int32Array;
  /** Input indices of all spikes, step after step (ascending within a step, no duplicates). */
  index: Uint32Array;
  /** Events past the last step or outside the field (not in the train). */
  dropped: number;
}

/**
 * Step of an event = floor(t / dt). Several events of one input in one step make a single spike:
 * an input neuron spikes at most once per step, as with every other encoder.
 */
export function eventsToSpikeTrain(ev: EventStream, opts: SpikeTrainOptions): PrecomputedSpikeTrain {
  const { dtMs, width, height } = opts;
  if (!(dtMs > 0)) throw new RangeError(`dtMs must be positive, got ${dtMs}`);
  const n = ev.tUs.length;
  if (ev.x.length !== n || ev.y.length !== n || ev.p.length !== n) throw new RangeError('x, y, tUs and p must have the same length');
  const dtUs = dtMs * 1000;
  let last = -1;
  for (let e = 0; e < n; e++) last = Math.max(last, Math.floor(ev.tUs[e] / dtUs));
  const steps = opts.steps ?? last + 1;
  const plane = width * height;
  // Bucket by step (counting sort), then sort and de-duplicate each step's indices.
  const count = new Int32Array(steps);
  const stepOf = new Int32Array(n);
  let dropped = 0;
  for (let e = 0; e < n; e++) {
    const s = Math.floor(ev.tUs[e] / dtUs);
    if (s >= steps || ev.x[e] >= width || ev.y[e] >= height || ev.p[e] > 1) {
      stepOf[e] = -1;
      dropped++;
      continue;
    }
    stepOf[e] = s;
    count[s]++;
  }
  const start = new Int32Array(steps + 1);
  for (let s = 0; s < steps; s++) start[s + 1] = start[s] + count[s];
  const fill = start.slice(0, steps);
  const raw = new Uint32Array(start[steps]);
  for (let e = 0; e < n; e++) {
    const s = stepOf[e];
    if (s < 0) continue;
    raw[fill[s]++] = ev.p[e] * plane + ev.y[e] * width + ev.x[e];
  }
  const index = new Uint32Array(raw.length);
  let out = 0;
  for (let s = 0; s < steps; s++) {
    const bucket = raw.subarray(start[s], start[s + 1]).sort();
    let kept = 0;
    for (let q = 0; q < bucket.length; q++) {
      if (q > 0 && bucket[q] === bucket[q - 1]) {
        dropped++;
        continue;
      }
      index[out++] = bucket[q];
      kept++;
    }
    count[s] = kept;
  }
  return { steps, count, index: index.slice(0, out), dropped };
}

/** The events of samples [offsets[k], offsets[k+1]) of a concatenated stream. */
export function sliceEvents(all: EventStream, from: number, to: number): EventStream {
  return { x: all.x.subarray(from, to), y: all.y.subarray(from, to), tUs: all.tUs.subarray(from, to), p: all.p.subarray(from, to) };
}

/**
 * N-MNIST's binary format (Orchard et al. 2015): 5 bytes per event — x (8 bits), y (8 bits),
 * polarity (1 bit, 1 = ON), timestamp (23 bits, µs), big-endian bit order.
 */
export function decodeNmnist(buf: Uint8Array): EventStream {
  if (buf.length % 5 !== 0) throw new RangeError(`N-MNIST data must be a whole number of 5-byte events, got ${buf.length} bytes`);
  const n = buf.length / 5;
  const ev: EventStream = { x: new Uint16Array(n), y: new Uint16Array(n), tUs: new Uint32Array(n), p: new Uint8Array(n) };
  for (let e = 0, o = 0; e < n; e++, o += 5) {
    ev.x[e] = buf[o];
    ev.y[e] = buf[o + 1];
    ev.p[e] = buf[o + 2] >> 7;
    ev.tUs[e] = ((buf[o + 2] & 0x7f) << 16) | (buf[o + 3] << 8) | buf[o + 4];
  }
  return ev;
}

export function encodeNmnist(ev: EventStream): Uint8Array {
  const n = ev.tUs.length;
  const out = new Uint8Array(n * 5);
  for (let e = 0, o = 0; e < n; e++, o += 5) {
    if (ev.x[e] > 255 || ev.y[e] > 255 || ev.tUs[e] >= 1 << 23) throw new RangeError(`event ${e} does not fit N-MNIST's 8-bit x/y and 23-bit timestamp`);
    out[o] = ev.x[e];
    out[o + 1] = ev.y[e];
    out[o + 2] = (ev.p[e] << 7) | (ev.tUs[e] >> 16);
    out[o + 3] = (ev.tUs[e] >> 8) & 0xff;
    out[o + 4] = ev.tUs[e] & 0xff;
  }
  return out;
}
