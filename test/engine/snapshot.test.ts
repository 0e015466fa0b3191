/**
 * Snapshot container: exact bit round trip of every typed array kind, meta JSON, clear errors.
 */
import { describe, expect, it } from 'vitest';
import { decodeSnapshot, encodeSnapshot } from '../../src/engine/snapshot.js';

function bytesOf(a: ArrayBufferView): number[] {
  return Array.from(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
}

function sample() {
  // Float32 with special values and a non-canonical NaN payload (0x7fa00001, a signalling NaN)
  // and a negative quiet NaN with payload.
  const f32 = new Float32Array(7);
  const f32u = new Uint32Array(f32.buffer);
  f32[0] = -0;
  f32[1] = Infinity;
  f32[2] = -Infinity;
  f32u[3] = 0x7fa00001;
  f32u[4] = 0xffc12345;
  f32[5] = 1e-45; // denormal
  f32[6] = Math.fround(78.4);
  const f64 = new Float64Array(5);
  const f64u = new Uint32Array(f64.buffer);
  f64[0] = -0;
  f64[1] = Math.PI;
  f64u[4] = 0x00000001; // NaN with payload 1 (little-endian low word)
  f64u[5] = 0x7ff00000;
  f64[3] = 5e-324;
  f64[4] = -1.5e300;
  return {
    meta: { definitionHash: 'abc', normalizeAll: false, needClamp: true, progress: { epoch: 1, step: 17 }, list: [1, 'two', null], unicode: 'θ — ✓' },
    arrays: {
      f32,
      f64,
      i32: Int32Array.of(-2147483648, -1, 0, 2147483647),
      u32: Uint32Array.of(0, 1, 0xffffffff, 0x9e3779b9),
      u8: Uint8Array.of(0, 255, 7), // length not a multiple of 8: padding follows
      u16: Uint16Array.of(65535, 0, 784),
      empty: new Float32Array(0),
      // A view into the middle of a larger buffer: only the view is stored.
      view: new Float32Array(Float32Array.of(9, 8, 7, 6, 5).buffer, 4, 3),
    },
  };
}

describe('snapshot', () => {
  it('round-trips every typed array bit-exactly (NaN payloads, −0, ±∞, denormals) and the meta JSON', () => {
    const s = sample();
    const bytes = encodeSnapshot(s);
    expect(new TextDecoder().decode(bytes.subarray(0, 8))).toBe('SLSNAP01');
    const d = decodeSnapshot(bytes);
    expect(d.meta).toEqual(s.meta);
    expect(Object.keys(d.arrays)).toEqual(Object.keys(s.arrays));
    for (const [name, a] of Object.entries(s.arrays)) {
      const b = d.arrays[name];
      expect(b.constructor).toBe(a.constructor);
      expect(b.length).toBe(a.length);
      expect(bytesOf(b)).toEqual(bytesOf(a));
    }
    expect(Object.is(d.arrays.f32[0], -0)).toBe(true);
    expect(new Uint32Array(d.arrays.f32.buffer, d.arrays.f32.byteOffset, 7)[3]).toBe(0x7fa00001);
    expect(new Uint32Array(d.arrays.f32.buffer, d.arrays.f32.byteOffset, 7)[4]).toBe(0xffc12345);
    expect(Array.from(d.arrays.view)).toEqual([8, 7, 6]);
  });

  it('sections are 8-byte aligned and decoding works from an unaligned, offset byte view', () => {
    const s = sample();
    const bytes = encodeSnapshot(s);
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    const d = decodeSnapshot(shifted.subarray(3));
    for (const [name, a] of Object.entries(s.arrays)) {
      expect(bytesOf(d.arrays[name])).toEqual(bytesOf(a));
      expect(d.arrays[name].byteOffset % 8).toBe(0);
    }
  });

  it('decoded arrays are independent of the input bytes', () => {
    const s = sample();
    const bytes = encodeSnapshot(s);
    const d = decodeSnapshot(bytes);
    bytes.fill(0, 16);
    expect(Array.from(d.arrays.u16)).toEqual([65535, 0, 784]);
  });

  it('a Node Buffer (a Uint8Array) or any typed-array subclass section round-trips', () => {
    // encodeSnapshot's Section type admits every Uint8Array, and Buffer is one.
    class Weights extends Float32Array {}
    const s = { meta: {}, arrays: { bytes: Buffer.from([1, 2, 3, 250]), w: Weights.of(0.5, -0) } };
    const d = decodeSnapshot(encodeSnapshot(s));
    expect(d.arrays.bytes).toBeInstanceOf(Uint8Array);
    expect(Array.from(d.arrays.bytes)).toEqual([1, 2, 3, 250]);
    expect(d.arrays.w).toBeInstanceOf(Float32Array);
    expect(bytesOf(d.arrays.w)).toEqual(bytesOf(s.arrays.w));
  });

  it('an empty snapshot round-trips', () => {
    const d = decodeSnapshot(encodeSnapshot({ meta: {}, arrays: {} }));
    expect(d.meta).toEqual({});
    expect(d.arrays).toEqual({});
  });

  it('rejects a corrupt magic with a clear error', () => {
    const bytes = encodeSnapshot(sample());
    const bad = bytes.slice();
    bad[0] = 'X'.charCodeAt(0);
    expect(() => decodeSnapshot(bad)).toThrow(/magic/);
    expect(() => decodeSnapshot(new Uint8Array(0))).toThrow(/snapshot/);
    expect(() => decodeSnapshot(new TextEncoder().encode('{"meta":{}}'))).toThrow(/magic/);
  });

  it('rejects truncation (header or sections) with a clear error', () => {
    const bytes = encodeSnapshot(sample());
    const headerLength = new DataView(bytes.buffer).getUint32(8, true);
    // Cut inside the header.
    expect(() => decodeSnapshot(bytes.subarray(0, 12 + Math.floor(headerLength / 2)))).toThrow(/truncated/);
    // Cut inside the sections: every truncation point past the header fails with a named section.
    const start = Math.ceil((12 + headerLength) / 8) * 8;
    // (The last section, `view`, is 12 data bytes + 4 padding bytes: cutting 5 loses data.)
    for (const cut of [start + 1, start + 30, bytes.length - 8, bytes.length - 5]) {
      expect(() => decodeSnapshot(bytes.subarray(0, cut))).toThrow(/section \w+ is truncated/);
    }
    // Losing only trailing padding loses no data: still decodes to the same arrays.
    expect(Array.from(decodeSnapshot(bytes.subarray(0, bytes.length - 4)).arrays.view)).toEqual([8, 7, 6]);
    // A header length larger than the file.
    const bad = bytes.slice();
    new DataView(bad.buffer).setUint32(8, bytes.length, true);
    expect(() => decodeSnapshot(bad)).toThrow(/truncated/);
  });

  it('rejects an unknown section type', () => {
    const header = new TextEncoder().encode(JSON.stringify({ meta: {}, layout: [{ name: 'x', kind: 'BigInt64Array', length: 1, offset: 0 }] }));
    const start = Math.ceil((12 + header.length) / 8) * 8;
    const bytes = new Uint8Array(start + 8);
    bytes.set(new TextEncoder().encode('SLSNAP01'));
    new DataView(bytes.buffer).setUint32(8, header.length, true);
    bytes.set(header, 12);
    expect(() => decodeSnapshot(bytes)).toThrow(/unknown type/);
  });
});
