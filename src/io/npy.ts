/**
 * Minimal NumPy `.npy` codec for float32 arrays, so trained weight matrices
 * can be pulled out of SpikeLab and opened with a plain `numpy.load` — no
 * custom reader on the analysis side. Format reference:
 * https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
 */

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"
/** NumPy pads headers to 64 bytes so the data starts aligned for mmap. */
const HEADER_ALIGN = 64;

export interface NpyArray {
  shape: number[];
  data: Float32Array;
}

const hostIsLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function checkShape(shape: number[], length: number): void {
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) {
      throw new RangeError(`npy: invalid dimension ${d} in shape [${shape.join(', ')}]`);
    }
  }
  const size = shape.reduce((a, b) => a * b, 1);
  if (size !== length) {
    throw new RangeError(`npy: shape [${shape.join(', ')}] holds ${size} elements but data has ${length}`);
  }
}

/** Python tuple syntax: a 1-tuple needs the trailing comma, `(n,)`. */
function pyTuple(shape: number[]): string {
  if (shape.length === 1) return `(${shape[0]},)`;
  return `(${shape.join(', ')})`;
}

/** The header of a .npy version 1.0 float32 file of this shape (what precedes the raw data). */
export function npyFloat32Header(shape: number[]): Uint8Array {
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': ${pyTuple(shape)}, }`;
  const preamble = MAGIC.length + 2 + 2; // magic + version + uint16 header length
  const unpadded = preamble + dict.length + 1; // +1 for the terminating '\n'
  const total = Math.ceil(unpadded / HEADER_ALIGN) * HEADER_ALIGN;
  const headerLen = total - preamble;
  if (headerLen > 0xffff) {
    throw new RangeError(`npy: header of ${headerLen} bytes does not fit a version 1.0 file`);
  }
  const out = new Uint8Array(total);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  out[8] = headerLen & 0xff;
  out[9] = headerLen >>> 8;
  const header = dict + ' '.repeat(headerLen - dict.length - 1) + '\n';
  for (let i = 0; i < header.length; i++) out[preamble + i] = header.charCodeAt(i);
  return out;
}

/** Encode as .npy version 1.0, dtype '<f4', C (row-major) order. */
export function encodeNpyFloat32(data: Float32Array, shape: number[]): Uint8Array {
  checkShape(shape, data.length);
  const header = npyFloat32Header(shape);
  const total = header.byteLength;
  const out = new Uint8Array(total + data.byteLength);
  out.set(header, 0);
  if (hostIsLittleEndian) {
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), total);
  } else {
    const dv = new DataView(out.buffer, out.byteOffset + total, data.byteLength);
    for (let i = 0; i < data.length; i++) dv.setFloat32(i * 4, data[i], true);
  }
  return out;
}

function parseHeaderDict(text: string): { descr: string; fortran: boolean; shape: number[] } {
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(text);
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(text);
  const shape = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text);
  if (!descr || !fortran || !shape) {
    throw new Error(`npy: malformed header ${JSON.stringify(text.trim())}`);
  }
  const dims = shape[1]
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      // NumPy on some platforms writes Python 2 longs as "3L".
      const n = Number(s.replace(/L$/, ''));
      if (!Number.isSafeInteger(n) || n < 0) throw new Error(`npy: bad dimension '${s}' in shape (${shape[1]})`);
      return n;
    });
  return { descr: descr[1], fortran: fortran[1] === 'True', shape: dims };
}

/**
 * Decode a .npy file holding little-endian float32 in C order (versions 1.0
 * and 2.0). Anything else is rejected rather than converted: a silently
 * transposed or re-typed weight matrix is worse than an error.
 *
 * The result owns a fresh buffer, so it is correctly aligned and does not
 * alias (or pin) the caller's input bytes.
 */
export function decodeNpyFloat32(buf: Uint8Array): NpyArray {
  if (buf.length < 10 || MAGIC.some((b, i) => buf[i] !== b)) {
    throw new Error('npy: not a .npy file (missing \\x93NUMPY magic)');
  }
  const major = buf[6];
  const minor = buf[7];
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let headerStart: number;
  let headerLen: number;
  if (major === 1) {
    headerStart = 10;
    headerLen = view.getUint16(8, true);
  } else if (major === 2) {
    if (buf.length < 12) throw new Error('npy: truncated version 2.0 preamble');
    headerStart = 12;
    headerLen = view.getUint32(8, true);
  } else {
    throw new Error(`npy: unsupported format version ${major}.${minor}, only 1.0 and 2.0 are read`);
  }
  const dataStart = headerStart + headerLen;
  if (buf.length < dataStart) {
    throw new Error(`npy: truncated header: file has ${buf.length} bytes, header ends at ${dataStart}`);
  }
  let text = '';
  for (let i = headerStart; i < dataStart; i++) text += String.fromCharCode(buf[i]);
  const { descr, fortran, shape } = parseHeaderDict(text);
  if (descr !== '<f4') {
    throw new Error(`npy: unsupported dtype '${descr}', only '<f4' (little-endian float32) is read`);
  }
  if (fortran) {
    throw new Error('npy: Fortran-order arrays are not supported, save with C order (np.ascontiguousarray)');
  }

  const count = shape.reduce((a, b) => a * b, 1);
  const expected = dataStart + count * 4;
  if (buf.length !== expected) {
    const kind = buf.length < expected ? 'truncated data' : 'trailing bytes after data';
    throw new Error(
      `npy: ${kind}: file has ${buf.length} bytes, expected ${expected} for shape ${pyTuple(shape)} float32`,
    );
  }

  const data = new Float32Array(count);
  if (hostIsLittleEndian) {
    new Uint8Array(data.buffer).set(buf.subarray(dataStart, expected));
  } else {
    for (let i = 0; i < count; i++) data[i] = view.getFloat32(dataStart + i * 4, true);
  }
  return { shape, data };
}
