/** Address-events → the input layer's per-step spike train, and N-MNIST's binary format. */
import { describe, expect, it } from 'vitest';
import { decodeNmnist, encodeNmnist, eventsToSpikeTrain, type EventStream } from '../../src/data/events.js';

const ev = (rows: [number, number, number, number][]): EventStream => ({
  x: Uint16Array.from(rows, (r) => r[0]),
  y: Uint16Array.from(rows, (r) => r[1]),
  tUs: Uint32Array.from(rows, (r) => r[2]),
  p: Uint8Array.from(rows, (r) => r[3]),
});

const stepsOf = (t: ReturnType<typeof eventsToSpikeTrain>) => {
  const out: number[][] = [];
  let at = 0;
  for (let s = 0; s < t.steps; s++) {
    out.push(Array.from(t.index.subarray(at, at + t.count[s])));
    at += t.count[s];
  }
  return out;
};

describe('eventsToSpikeTrain', () => {
  it('puts each event at step floor(t/dt) on input polarity·H·W + y·W + x', () => {
    // 4 wide, 3 high: OFF block 0..11, ON block 12..23.
    const t = eventsToSpikeTrain(ev([[1, 0, 0, 1], [3, 2, 999, 0], [0, 1, 1000, 1], [2, 2, 2500, 0]]), { dtMs: 1, width: 4, height: 3 });
    expect(t.steps).toBe(3);
    // (1,0,ON,t=0) → 12+1; (3,2,OFF,999 µs) → 2·4+3 = 11; (0,1,ON,1000 µs) → 12+4; (2,2,OFF,2500 µs) → 10.
    expect(stepsOf(t)).toEqual([[11, 13], [16], [10]]);
    expect(t.dropped).toBe(0);
  });

  it('sorts each step, merges repeats of one input within a step, and follows dt', () => {
    const t = eventsToSpikeTrain(ev([[2, 0, 100, 1], [1, 0, 200, 1], [2, 0, 300, 1], [2, 0, 600, 1]]), { dtMs: 0.5, width: 3, height: 1 });
    // dt = 500 µs: the first three events are step 0 (input 3+2 twice → once), the last step 1.
    expect(stepsOf(t)).toEqual([[4, 5], [5]]);
    expect(t.dropped).toBe(1);
  });

  it('drops events past the presentation or outside the field, and keeps empty steps', () => {
    const t = eventsToSpikeTrain(ev([[0, 0, 0, 0], [5, 0, 1000, 0], [0, 0, 9000, 1]]), { dtMs: 1, width: 2, height: 2, steps: 4 });
    expect(t.steps).toBe(4);
    expect(Array.from(t.count)).toEqual([1, 0, 0, 0]);
    expect(t.dropped).toBe(2);
  });
});

describe('N-MNIST binary format', () => {
  it('decodes the 40-bit event layout (x, y, polarity bit, 23-bit µs timestamp)', () => {
    // x = 17, y = 33, ON, t = 0x012345 µs.
    const bytes = Uint8Array.from([17, 33, 0x80 | 0x01, 0x23, 0x45, 3, 4, 0x7f, 0xff, 0xff]);
    const e = decodeNmnist(bytes);
    expect(Array.from(e.x)).toEqual([17, 3]);
    expect(Array.from(e.y)).toEqual([33, 4]);
    expect(Array.from(e.p)).toEqual([1, 0]);
    expect(Array.from(e.tUs)).toEqual([0x012345, 0x7fffff]);
    expect(Array.from(encodeNmnist(e))).toEqual(Array.from(bytes));
  });

  it('rejects a length that is not whole events', () => {
    expect(() => decodeNmnist(new Uint8Array(7))).toThrow(/whole number of 5-byte events/);
  });
});
