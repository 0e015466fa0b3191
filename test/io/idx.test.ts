import { describe, expect, it } from 'vitest';
import { parseIdx } from '../../src/io/idx.js';

/** Build an IDX buffer: 00 00 type ndims, big-endian dims, payload. */
function idx(dims: number[], payload: number[] | Uint8Array, type = 0x08, extraPrefix = 0): Uint8Array {
  const header = 4 + 4 * dims.length;
  const buf = new Uint8Array(extraPrefix + header + payload.length);
  const dv = new DataView(buf.buffer);
  buf[extraPrefix + 2] = type;
  buf[extraPrefix + 3] = dims.length;
  dims.forEach((d, k) => dv.setUint32(extraPrefix + 4 + 4 * k, d, false));
  buf.set(payload, extraPrefix + header);
  return buf.subarray(extraPrefix);
}

describe('parseIdx', () => {
  it('parses a 1-D label file', () => {
    const r = parseIdx(idx([4], [5, 0, 4, 1]), 'labels');
    expect(r.dims).toEqual([4]);
    expect(Array.from(r.data)).toEqual([5, 0, 4, 1]);
  });

  it('parses a 3-D image file in row-major order', () => {
    const payload = Array.from({ length: 2 * 2 * 3 }, (_, i) => i * 10);
    const r = parseIdx(idx([2, 2, 3], payload), 'images', 3);
    expect(r.dims).toEqual([2, 2, 3]);
    expect(Array.from(r.data)).toEqual(payload);
  });

  it('reads dimensions as big-endian uint32 (values above 65535)', () => {
    const r = parseIdx(idx([70000], new Uint8Array(70000)), 'big');
    expect(r.dims).toEqual([70000]);
    expect(r.data.length).toBe(70000);
  });

  it('returns a view into the input, not a copy, even for an offset input', () => {
    const buf = idx([3], [7, 8, 9], 0x08, 5); // buf.byteOffset === 5
    const r = parseIdx(buf, 'view');
    expect(r.data.buffer).toBe(buf.buffer);
    expect(r.data.byteOffset).toBe(5 + 8);
    buf[8] = 42;
    expect(r.data[0]).toBe(42);
  });

  it('rejects non-zero leading bytes with the file name and expected magic', () => {
    const buf = idx([1, 1, 1], [0]);
    buf[0] = 0x1f;
    buf[1] = 0x8b; // gzip, i.e. someone forgot to gunzip
    expect(() => parseIdx(buf, 'train-images-idx3-ubyte', 3)).toThrow(
      'train-images-idx3-ubyte: bad magic number 0x1f8b0803, expected 0x00000803',
    );
  });

  it('reports an all-zero magic number', () => {
    const buf = new Uint8Array(16);
    expect(() => parseIdx(buf, 'train-images-idx3-ubyte', 3)).toThrow(
      /^train-images-idx3-ubyte: bad magic number 0x00000000, expected 0x00000803/,
    );
  });

  it('rejects data types other than unsigned byte, naming the type', () => {
    const buf = idx([1], [0, 0, 0, 0], 0x0d);
    expect(() => parseIdx(buf, 'floats')).toThrow(/floats: .*0x00000d01.*0x0d \(float32\).*only 0x08/);
  });

  it('rejects unsupported dimension counts', () => {
    expect(() => parseIdx(idx([2, 2], [1, 2, 3, 4]), 'two-d')).toThrow(
      /two-d: bad magic number 0x00000802, expected 0x00000801 or 0x00000803 \(2 dimension/,
    );
  });

  it('rejects a label file where an image file was expected', () => {
    expect(() => parseIdx(idx([2], [1, 2]), 'train-images-idx3-ubyte', 3)).toThrow(
      /bad magic number 0x00000801, expected 0x00000803/,
    );
  });

  it('rejects buffers too short for the magic number or the dimension table', () => {
    expect(() => parseIdx(new Uint8Array([0, 0]), 'tiny')).toThrow(/tiny: truncated IDX file: 2 bytes/);
    const header = idx([10, 28, 28], []).subarray(0, 9);
    expect(() => parseIdx(header, 'hdr')).toThrow(/hdr: truncated IDX header: 9 bytes, need 16/);
  });

  it('rejects a truncated payload with expected vs actual length', () => {
    const full = idx([10, 2, 2], new Uint8Array(40));
    expect(() => parseIdx(full.subarray(0, full.length - 1), 'cut')).toThrow(
      'cut: truncated IDX file: 55 bytes, expected 56 (16-byte header + 10×2×2 data)',
    );
  });

  it('rejects trailing bytes after the payload', () => {
    const buf = new Uint8Array(14);
    buf.set(idx([4], [1, 2, 3, 4]));
    expect(() => parseIdx(buf, 'long')).toThrow(/long: trailing bytes in IDX file: 14 bytes, expected 12/);
  });
});
