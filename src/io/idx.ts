/**
 * Parser for the IDX container format used by the MNIST distribution
 * (http://yann.lecun.com/exdb/mnist/): a 4-byte magic number
 * `00 00 <type> <ndims>`, then `ndims` big-endian uint32 sizes, then the
 * payload in row-major order.
 *
 * Only what SpikeLab actually consumes is accepted (unsigned bytes, 1 or 3
 * dimensions) so that a wrong or damaged file fails loudly at load time rather
 * than producing garbage spike trains hours into a run.
 */

export interface IdxArray {
  /** Sizes of each dimension, outermost first (e.g. [60000, 28, 28]). */
  dims: number[];
  /** Row-major payload; a view into the input buffer, not a copy. */
  data: Uint8Array;
}

const TYPE_UBYTE = 0x08;
const SUPPORTED_DIMS: readonly number[] = [1, 3];

const TYPE_NAMES: Record<number, string> = {
  0x08: 'unsigned byte',
  0x09: 'signed byte',
  0x0b: 'int16',
  0x0c: 'int32',
  0x0d: 'float32',
  0x0e: 'float64',
};

const hex32 = (n: number): string => '0x' + (n >>> 0).toString(16).padStart(8, '0');

/**
 * Parse an IDX buffer. `what` names the source (usually the file name) and
 * prefixes every error message, because "bad magic number" alone does not
 * tell the operator which of four files is broken.
 *
 * `expectedDims`, when given, pins the dimensionality (1 for labels, 3 for
 * images) so that swapping an image file for a label file is caught here.
 *
 * The returned `data` aliases `buf` (MNIST train images are 47 MB; copying
 * would double peak memory for no benefit).
 */
export function parseIdx(buf: Uint8Array, what: string, expectedDims?: 1 | 3): IdxArray {
  const allowedDims = expectedDims === undefined ? SUPPORTED_DIMS : [expectedDims];
  const expectedMagic = allowedDims.map((d) => hex32((TYPE_UBYTE << 8) | d)).join(' or ');

  if (buf.length < 4) {
    throw new Error(`${what}: truncated IDX file: ${buf.length} bytes, too short for the 4-byte magic number`);
  }
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const magic = view.getUint32(0, false);
  const badMagic = (why: string): Error =>
    new Error(`${what}: bad magic number ${hex32(magic)}, expected ${expectedMagic} (${why})`);

  if (buf[0] !== 0 || buf[1] !== 0) {
    throw badMagic('first two bytes must be zero; is this really an IDX file?');
  }
  const type = buf[2];
  if (type !== TYPE_UBYTE) {
    const name = TYPE_NAMES[type] ?? 'unknown';
    throw badMagic(`data type code 0x${type.toString(16).padStart(2, '0')} (${name}) is not supported, only 0x08 (unsigned byte)`);
  }
  const ndims = buf[3];
  if (!allowedDims.includes(ndims)) {
    throw badMagic(`${ndims} dimension(s), expected ${allowedDims.join(' or ')}`);
  }

  const headerBytes = 4 + 4 * ndims;
  if (buf.length < headerBytes) {
    throw new Error(
      `${what}: truncated IDX header: ${buf.length} bytes, need ${headerBytes} for ${ndims} dimension(s)`,
    );
  }
  const dims: number[] = [];
  for (let d = 0; d < ndims; d++) dims.push(view.getUint32(4 + 4 * d, false));

  const payload = dims.reduce((a, b) => a * b, 1);
  const expectedLength = headerBytes + payload;
  if (buf.length !== expectedLength) {
    const kind = buf.length < expectedLength ? 'truncated' : 'trailing bytes in';
    throw new Error(
      `${what}: ${kind} IDX file: ${buf.length} bytes, expected ${expectedLength} ` +
        `(${headerBytes}-byte header + ${dims.join('×')} data)`,
    );
  }

  return { dims, data: buf.subarray(headerBytes, expectedLength) };
}
