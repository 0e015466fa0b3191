import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeNpyFloat32, encodeNpyFloat32 } from '../../src/io/npy.js';

const hasNumpy = spawnSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;
const NO_NUMPY = 'python3 with numpy is not available on this machine';

let tmp: string | undefined;
function tmpDir(): string {
  tmp ??= mkdtempSync(path.join(tmpdir(), 'spikelab-npy-'));
  return tmp;
}
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const ascii = (b: Uint8Array): string => String.fromCharCode(...b);

/** Hand-built .npy for exercising the decoder's error paths. */
function npy(dict: string, dataBytes: number, major = 1): Uint8Array {
  const pre = major === 1 ? 10 : 12;
  let header = dict + ' ';
  while ((pre + header.length + 1) % 64 !== 0) header += ' ';
  header += '\n';
  const buf = new Uint8Array(pre + header.length + dataBytes);
  buf.set([0x93, ...Array.from('NUMPY', (c) => c.charCodeAt(0)), major, 0]);
  const dv = new DataView(buf.buffer);
  if (major === 1) dv.setUint16(8, header.length, true);
  else dv.setUint32(8, header.length, true);
  for (let i = 0; i < header.length; i++) buf[pre + i] = header.charCodeAt(i);
  return buf;
}

describe('encodeNpyFloat32', () => {
  it('writes the v1.0 preamble and a 64-byte-aligned, newline-terminated header', () => {
    const out = encodeNpyFloat32(new Float32Array(784 * 100), [784, 100]);
    expect(Array.from(out.subarray(0, 8))).toEqual([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    const headerLen = out[8] | (out[9] << 8);
    expect(headerLen).toBe(118); // byte-identical to numpy.save for this shape
    expect((10 + headerLen) % 64).toBe(0);
    const header = ascii(out.subarray(10, 10 + headerLen));
    expect(header.startsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (784, 100), }")).toBe(true);
    expect(header.endsWith('\n')).toBe(true);
    expect(header.slice(0, -1).trimEnd()).toBe("{'descr': '<f4', 'fortran_order': False, 'shape': (784, 100), }");
    expect(out.length).toBe(10 + headerLen + 784 * 100 * 4);
  });

  it('writes a 1-D shape as a Python 1-tuple (n,)', () => {
    const out = encodeNpyFloat32(new Float32Array(5), [5]);
    expect(ascii(out.subarray(10, 74))).toContain("'shape': (5,), }");
  });

  it('writes the data as little-endian float32 right after the header', () => {
    const out = encodeNpyFloat32(new Float32Array([1.5, -2, 3.25]), [3]);
    const headerLen = out[8] | (out[9] << 8);
    const dv = new DataView(out.buffer, out.byteOffset);
    expect(dv.getFloat32(10 + headerLen, true)).toBe(1.5);
    expect(dv.getFloat32(10 + headerLen + 4, true)).toBe(-2);
    expect(dv.getFloat32(10 + headerLen + 8, true)).toBe(3.25);
  });

  it('encodes a subarray view without leaking neighbouring elements', () => {
    const backing = new Float32Array([9, 1, 2, 3, 9]);
    const back = decodeNpyFloat32(encodeNpyFloat32(backing.subarray(1, 4), [3]));
    expect(Array.from(back.data)).toEqual([1, 2, 3]);
  });

  it('rejects a shape that does not match the data length', () => {
    expect(() => encodeNpyFloat32(new Float32Array(6), [4, 2])).toThrow(
      'npy: shape [4, 2] holds 8 elements but data has 6',
    );
    expect(() => encodeNpyFloat32(new Float32Array(6), [-2, -3])).toThrow(/invalid dimension -2/);
    expect(() => encodeNpyFloat32(new Float32Array(6), [2.5, 2])).toThrow(/invalid dimension 2.5/);
  });
});

describe('decodeNpyFloat32', () => {
  it('round-trips 2-D, 1-D, 3-D, 0-D and empty arrays, including special values', () => {
    const cases: Array<[number[], Float32Array]> = [
      [[784, 100], Float32Array.from({ length: 78400 }, (_, i) => Math.sin(i) * 1e-3)],
      [[7], new Float32Array([0, -0, 1, -1, Infinity, -Infinity, 3.4e38])],
      [[2, 3, 4], Float32Array.from({ length: 24 }, (_, i) => i - 12)],
      [[], new Float32Array([42])],
      [[0, 5], new Float32Array(0)],
    ];
    for (const [shape, data] of cases) {
      const back = decodeNpyFloat32(encodeNpyFloat32(data, shape));
      expect(back.shape).toEqual(shape);
      expect(back.data).toEqual(data);
    }
    const nan = decodeNpyFloat32(encodeNpyFloat32(new Float32Array([NaN]), [1]));
    expect(Number.isNaN(nan.data[0])).toBe(true);
  });

  it('decodes from an unaligned, offset input buffer into an owned array', () => {
    const enc = encodeNpyFloat32(new Float32Array([1, 2, 3]), [3]);
    const shifted = new Uint8Array(enc.length + 3);
    shifted.set(enc, 3);
    const back = decodeNpyFloat32(shifted.subarray(3));
    expect(Array.from(back.data)).toEqual([1, 2, 3]);
    expect(back.data.buffer).not.toBe(shifted.buffer);
  });

  it('reads version 2.0 headers', () => {
    const buf = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 8, 2);
    new DataView(buf.buffer).setFloat32(buf.length - 8, 0.5, true);
    new DataView(buf.buffer).setFloat32(buf.length - 4, -7, true);
    const r = decodeNpyFloat32(buf);
    expect(r.shape).toEqual([2]);
    expect(Array.from(r.data)).toEqual([0.5, -7]);
  });

  it('rejects files without the magic', () => {
    expect(() => decodeNpyFloat32(new TextEncoder().encode('PK\x03\x04 this is a zip'))).toThrow(
      /npy: not a \.npy file/,
    );
    expect(() => decodeNpyFloat32(new Uint8Array(3))).toThrow(/not a \.npy file/);
  });

  it('rejects unknown format versions', () => {
    const buf = encodeNpyFloat32(new Float32Array(1), [1]);
    buf[6] = 3;
    expect(() => decodeNpyFloat32(buf)).toThrow('npy: unsupported format version 3.0, only 1.0 and 2.0 are read');
  });

  it('rejects dtypes other than <f4', () => {
    for (const d of ['<f8', '>f4', '|u1', '<i4']) {
      const buf = npy(`{'descr': '${d}', 'fortran_order': False, 'shape': (1,), }`, 8);
      expect(() => decodeNpyFloat32(buf)).toThrow(`npy: unsupported dtype '${d}'`);
    }
  });

  it('rejects Fortran-order arrays', () => {
    const buf = npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", 16);
    expect(() => decodeNpyFloat32(buf)).toThrow(/Fortran-order arrays are not supported/);
  });

  it('rejects malformed header dicts', () => {
    const buf = npy("{'descr': '<f4', 'shape': (2, 2), }", 16);
    expect(() => decodeNpyFloat32(buf)).toThrow(/npy: malformed header/);
  });

  it('rejects a header length pointing past the end of the file', () => {
    const buf = encodeNpyFloat32(new Float32Array(1), [1]);
    buf[8] = 0xff;
    buf[9] = 0xff;
    expect(() => decodeNpyFloat32(buf)).toThrow(/npy: truncated header: file has 132 bytes, header ends at 65545/);
  });

  it('rejects truncated data and trailing bytes', () => {
    const enc = encodeNpyFloat32(new Float32Array(6), [2, 3]);
    expect(() => decodeNpyFloat32(enc.subarray(0, enc.length - 2))).toThrow(
      'npy: truncated data: file has 150 bytes, expected 152 for shape (2, 3) float32',
    );
    const longer = new Uint8Array(enc.length + 4);
    longer.set(enc);
    expect(() => decodeNpyFloat32(longer)).toThrow(/npy: trailing bytes after data/);
  });
});

describe('interoperability with NumPy', () => {
  it('numpy.load reads our files with the right shape, dtype and values', (ctx) => {
    if (!hasNumpy) ctx.skip(NO_NUMPY);
    const data = Float32Array.from({ length: 784 * 3 }, (_, i) => (i % 97) / 7 - 5);
    const file2d = path.join(tmpDir(), 'w.npy');
    const file1d = path.join(tmpDir(), 'v.npy');
    writeFileSync(file2d, encodeNpyFloat32(data, [784, 3]));
    writeFileSync(file1d, encodeNpyFloat32(new Float32Array([0.25, -1e-7, 3e38]), [3]));
    const script = `
import json, sys, numpy as np
a = np.load(sys.argv[1]); v = np.load(sys.argv[2])
print(json.dumps({
  "shape": list(a.shape), "dtype": str(a.dtype), "c": bool(a.flags["C_CONTIGUOUS"]),
  "vals": [float(a[0, 0]), float(a[0, 1]), float(a[1, 0]), float(a[783, 2])],
  "sum": float(a.astype(np.float64).sum()),
  "vshape": list(v.shape), "v": [float(x) for x in v],
}))`;
    const out = JSON.parse(execFileSync('python3', ['-c', script, file2d, file1d], { encoding: 'utf8' }));
    expect(out.shape).toEqual([784, 3]);
    expect(out.dtype).toBe('float32');
    expect(out.c).toBe(true);
    // Row-major: a[r, c] = data[r*3 + c]
    expect(out.vals).toEqual([data[0], data[1], data[3], data[783 * 3 + 2]]);
    const sum = data.reduce((s, x) => s + x, 0);
    expect(out.sum).toBeCloseTo(sum, 2);
    expect(out.vshape).toEqual([3]);
    expect(out.v).toEqual([0.25, Math.fround(-1e-7), Math.fround(3e38)]);
  });

  it('decodes files written by numpy.save (v1.0) and numpy format 2.0', (ctx) => {
    if (!hasNumpy) ctx.skip(NO_NUMPY);
    const f1 = path.join(tmpDir(), 'np1.npy');
    const f2 = path.join(tmpDir(), 'np2.npy');
    const script = `
import sys, numpy as np
a = (np.arange(24, dtype=np.float32).reshape(2, 3, 4) - 5) / 4
np.save(sys.argv[1], a)
with open(sys.argv[2], "wb") as f:
    np.lib.format.write_array(f, a, version=(2, 0))`;
    execFileSync('python3', ['-c', script, f1, f2]);
    const expected = Float32Array.from({ length: 24 }, (_, i) => (i - 5) / 4);
    for (const f of [f1, f2]) {
      const r = decodeNpyFloat32(readFileSync(f));
      expect(r.shape).toEqual([2, 3, 4]);
      expect(r.data).toEqual(expected);
    }
    expect(readFileSync(f2)[6]).toBe(2);
  });
});
