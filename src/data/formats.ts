/**
 * Reading uploaded arrays (IDX, NPY) from files on disk without holding them in memory: the header
 * is read with one small read, the payload is streamed in chunks. Every problem is a DatasetError
 * naming the upload field and what is wrong with it, for a 4xx.
 */
import { open } from 'node:fs/promises';
import { createReadStream } from 'node:fs';

export type DatasetProblem =
  | 'missing_file'
  | 'unsupported_format'
  | 'wrong_magic'
  | 'wrong_dtype'
  | 'wrong_shape'
  | 'truncated'
  | 'trailing_bytes'
  | 'count_mismatch'
  | 'label_out_of_range'
  | 'value_out_of_range'
  | 'too_large'
  | 'invalid_field';

export class DatasetError extends Error {
  constructor(
    readonly field: string,
    readonly problem: DatasetProblem,
    message: string,
    readonly statusCode = problem === 'too_large' ? 413 : problem === 'unsupported_format' ? 415 : 400,
  ) {
    super(`${field}: ${message}`);
    this.name = 'DatasetError';
  }
}

export type Dtype = 'u1' | 'f4' | 'i1' | 'i2' | 'u2' | 'i4' | 'u4' | 'i8' | 'u8';
const dtypeBytes: Record<Dtype, number> = { u1: 1, i1: 1, i2: 2, u2: 2, f4: 4, i4: 4, u4: 4, i8: 8, u8: 8 };

export interface ArrayHeader {
  format: 'idx' | 'npy';
  dtype: Dtype;
  shape: number[];
  /** Byte offset of the payload. */
  dataOffset: number;
  /** Bytes per element. */
  itemBytes: number;
  /** Big-endian payload (IDX multi-byte types); NPY is accepted little-endian only. */
  bigEndian: boolean;
}

const IDX_TYPES: Record<number, { dtype: Dtype; name: string } | undefined> = {
  0x08: { dtype: 'u1', name: 'unsigned byte' },
  0x09: { dtype: 'i1', name: 'signed byte' },
  0x0b: { dtype: 'i2', name: 'int16' },
  0x0c: { dtype: 'i4', name: 'int32' },
  0x0d: { dtype: 'f4', name: 'float32' },
};

const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
const hex32 = (b: Uint8Array) => '0x' + Array.from(b.subarray(0, 4), (x) => x.toString(16).padStart(2, '0')).join('');

/** The format a file name announces: .npy, IDX names (…-ubyte, .idx, .idx3, …), or null when it says nothing. */
function formatOfName(filename: string): 'idx' | 'npy' | 'other' | null {
  const base = filename.toLowerCase().replace(/\.gz$/, '');
  if (base.endsWith('.npy')) return 'npy';
  if (/(\.idx\d?|-ubyte|\.ubyte|idx\d-ubyte)$/.test(base)) return 'idx';
  return /\.[a-z0-9]{1,8}$/.test(base) ? 'other' : null;
}

/**
 * Reads and checks the header of an uploaded array file: the format (by file name when it names
 * one, else by magic), the dtype, the shape, and that the file holds exactly the payload the header
 * announces (no truncation, no trailing bytes).
 */
export async function readArrayHeader(file: string, size: number, field: string, filename: string): Promise<ArrayHeader> {
  const fh = await open(file, 'r');
  const head = new Uint8Array(Math.min(size, 65536 + 12));
  try {
    await fh.read(head, 0, head.length, 0);
  } finally {
    await fh.close();
  }
  if (/\.gz$/i.test(filename) || (head[0] === 0x1f && head[1] === 0x8b)) {
    throw new DatasetError(field, 'unsupported_format', `"${filename}" is gzip-compressed; upload the uncompressed file (gunzip it first)`);
  }
  const named = formatOfName(filename);
  const looksNpy = NPY_MAGIC.every((b, i) => head[i] === b);
  const looksIdx = size >= 4 && head[0] === 0 && head[1] === 0;
  if (named === 'other') {
    throw new DatasetError(field, 'unsupported_format', `unsupported format "${filename}": upload IDX (…-ubyte, .idx) or NumPy .npy files`);
  }
  const format = named ?? (looksNpy ? 'npy' : looksIdx ? 'idx' : null);
  if (format === null) {
    throw new DatasetError(field, 'unsupported_format', `unsupported format: neither IDX (magic 0x0000TTDD) nor NumPy .npy (magic \\x93NUMPY); first bytes ${hex32(head)}`);
  }
  const header = format === 'npy' ? npyHeader(head, size, field, looksNpy) : idxHeader(head, size, field);
  const payload = header.shape.reduce((a, b) => a * b, 1) * header.itemBytes;
  const expected = header.dataOffset + payload;
  if (size < expected) {
    throw new DatasetError(field, 'truncated', `truncated ${format.toUpperCase()} file: ${size} bytes, expected ${expected} (${header.dataOffset}-byte header + ${header.shape.join('×')} × ${header.itemBytes}-byte ${header.dtype})`);
  }
  if (size > expected) {
    throw new DatasetError(field, 'trailing_bytes', `${size - expected} bytes after the ${header.shape.join('×')} ${header.dtype} payload the ${format.toUpperCase()} header announces (${expected} bytes)`);
  }
  return header;
}

function idxHeader(head: Uint8Array, size: number, field: string): ArrayHeader {
  if (size < 4) throw new DatasetError(field, 'truncated', `truncated IDX file: ${size} bytes, too short for the 4-byte magic number`);
  if (head[0] !== 0 || head[1] !== 0) {
    throw new DatasetError(field, 'wrong_magic', `bad IDX magic number ${hex32(head)}: the first two bytes must be zero (expected e.g. 0x00000803 for images, 0x00000801 for labels)`);
  }
  const type = IDX_TYPES[head[2]];
  if (!type) throw new DatasetError(field, 'wrong_magic', `bad IDX magic number ${hex32(head)}: unknown data type code 0x${head[2].toString(16).padStart(2, '0')}`);
  const ndims = head[3];
  if (ndims < 1 || ndims > 3) throw new DatasetError(field, 'wrong_magic', `bad IDX magic number ${hex32(head)}: ${ndims} dimensions, expected 1 (labels), 2 or 3 (images)`);
  const dataOffset = 4 + 4 * ndims;
  if (size < dataOffset) throw new DatasetError(field, 'truncated', `truncated IDX header: ${size} bytes, need ${dataOffset} for ${ndims} dimension(s)`);
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const shape = Array.from({ length: ndims }, (_, d) => view.getUint32(4 + 4 * d, false));
  return { format: 'idx', dtype: type.dtype, shape, dataOffset, itemBytes: dtypeBytes[type.dtype], bigEndian: true };
}

function npyHeader(head: Uint8Array, size: number, field: string, magicOk: boolean): ArrayHeader {
  if (!magicOk) throw new DatasetError(field, 'wrong_magic', `not a NumPy .npy file: the magic \\x93NUMPY is missing (first bytes ${hex32(head)})`);
  const major = head[6];
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  let start: number;
  let len: number;
  if (major === 1) {
    if (size < 10) throw new DatasetError(field, 'truncated', `truncated .npy preamble (${size} bytes)`);
    start = 10;
    len = view.getUint16(8, true);
  } else if (major === 2 || major === 3) {
    if (size < 12) throw new DatasetError(field, 'truncated', `truncated .npy preamble (${size} bytes)`);
    start = 12;
    len = view.getUint32(8, true);
  } else {
    throw new DatasetError(field, 'wrong_magic', `unsupported .npy format version ${major}.${head[7]}`);
  }
  if (start + len > head.length) throw new DatasetError(field, size < start + len ? 'truncated' : 'wrong_shape', size < start + len ? `truncated .npy header: ${size} bytes, the header ends at ${start + len}` : '.npy header longer than 64 KiB');
  const text = new TextDecoder('latin1').decode(head.subarray(start, start + len));
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(text)?.[1];
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new DatasetError(field, 'wrong_magic', `malformed .npy header ${JSON.stringify(text.trim().slice(0, 120))}`);
  }
  if (fortran === 'True') throw new DatasetError(field, 'wrong_shape', 'Fortran-order .npy arrays are not supported; save with C order (np.ascontiguousarray)');
  const m = /^([<|=>])?([uif])(\d)$/.exec(descr);
  const dtype = m ? (`${m[2]}${m[3]}` as Dtype) : null;
  // Only f4 of the float types is in dtypeBytes: float16/float64 are refused here.
  if (!m || !dtype || !(dtype in dtypeBytes)) {
    throw new DatasetError(field, 'wrong_dtype', `unsupported .npy dtype '${descr}': images must be uint8 or float32, labels an integer type`);
  }
  if (m[1] === '>' && dtypeBytes[dtype] > 1) throw new DatasetError(field, 'wrong_dtype', `big-endian .npy dtype '${descr}' is not supported; use little-endian ('<')`);
  const shape = shapeText
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)
    .map((x) => Number(x.replace(/L$/, '')));
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 0)) throw new DatasetError(field, 'wrong_shape', `bad .npy shape (${shapeText})`);
  return { format: 'npy', dtype, shape, dataOffset: start + len, itemBytes: dtypeBytes[dtype], bigEndian: false };
}

/**
 * Streams the payload as typed values, chunk by chunk (a value split across two chunks is carried
 * over). `onValues` receives numbers for float/int types via a reused Float64Array, and the raw
 * bytes for uint8.
 */
export async function streamValues(
  file: string,
  h: ArrayHeader,
  onChunk: (values: ArrayLike<number>, count: number, raw: Uint8Array | null) => void | Promise<void>,
): Promise<void> {
  const item = h.itemBytes;
  const stream = createReadStream(file, { start: h.dataOffset, highWaterMark: 1 << 20 });
  let carry = new Uint8Array(0);
  const out = new Float64Array((1 << 20) / item + 8);
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    if (h.dtype === 'u1') {
      await onChunk(chunk, chunk.length, chunk);
      continue;
    }
    let buf: Uint8Array = chunk;
    if (carry.length > 0) {
      buf = new Uint8Array(carry.length + chunk.length);
      buf.set(carry);
      buf.set(chunk, carry.length);
    }
    const n = Math.floor(buf.length / item);
    const view = new DataView(buf.buffer, buf.byteOffset, n * item);
    const le = !h.bigEndian;
    const values = n <= out.length ? out : new Float64Array(n);
    for (let i = 0, o = 0; i < n; i++, o += item) {
      switch (h.dtype) {
        case 'f4': values[i] = view.getFloat32(o, le); break;
        case 'i1': values[i] = view.getInt8(o); break;
        case 'i2': values[i] = view.getInt16(o, le); break;
        case 'u2': values[i] = view.getUint16(o, le); break;
        case 'i4': values[i] = view.getInt32(o, le); break;
        case 'u4': values[i] = view.getUint32(o, le); break;
        case 'i8': values[i] = Number(view.getBigInt64(o, le)); break;
        case 'u8': values[i] = Number(view.getBigUint64(o, le)); break;
      }
    }
    carry = buf.slice(n * item);
    await onChunk(values, n, null);
  }
}
