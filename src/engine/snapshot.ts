/**
 * A compact binary container for engine state (checkpoints): a JSON header followed by raw
 * typed-array sections, each 8-byte aligned so they can be viewed in place when decoding.
 *
 *   "SLSNAP01" | u32 LE header length | header JSON | padding | sections…
 *
 * Typed arrays keep their exact bits (floats are not printed), which is what makes a resumed run
 * bit-identical to an uninterrupted one.
 */
type Section = Float32Array | Float64Array | Int32Array | Uint32Array | Uint8Array | Uint16Array;
const kinds = { Float32Array, Float64Array, Int32Array, Uint32Array, Uint8Array, Uint16Array } as const;
type Kind = keyof typeof kinds;

const MAGIC = 'SLSNAP01';

export interface Snapshot {
  meta: Record<string, unknown>;
  arrays: Record<string, Section>;
}

export function encodeSnapshot(s: Snapshot): Uint8Array {
  const entries = Object.entries(s.arrays);
  let offset = 0;
  const layout = entries.map(([name, a]) => {
    const kind = (Object.keys(kinds) as Kind[]).find((k) => a instanceof kinds[k]);
    if (!kind) throw new Error(`snapshot section ${name}: unsupported array type`);
    const entry = { name, kind, length: a.length, offset };
    offset += Math.ceil(a.byteLength / 8) * 8;
    return entry;
  });
  const header = new TextEncoder().encode(JSON.stringify({ meta: s.meta, layout }));
  const start = Math.ceil((12 + header.length) / 8) * 8;
  const out = new Uint8Array(start + offset);
  out.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(out.buffer).setUint32(8, header.length, true);
  out.set(header, 12);
  entries.forEach(([, a], k) => out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), start + layout[k].offset));
  return out;
}

export function decodeSnapshot(bytes: Uint8Array): Snapshot {
  if (bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) throw new Error('not a SpikeLab snapshot (bad magic)');
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
  if (12 + headerLength > bytes.length) throw new Error('truncated snapshot header');
  const { meta, layout } = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + headerLength))) as {
    meta: Record<string, unknown>;
    layout: { name: string; kind: Kind; length: number; offset: number }[];
  };
  const start = Math.ceil((12 + headerLength) / 8) * 8;
  // Copy once into an aligned buffer so every section can be a view.
  const body = bytes.slice(start);
  const arrays: Record<string, Section> = {};
  for (const { name, kind, length, offset } of layout) {
    const Ctor = kinds[kind];
    if (!Ctor) throw new Error(`snapshot section ${name}: unknown type ${kind}`);
    if (offset + length * Ctor.BYTES_PER_ELEMENT > body.length) throw new Error(`snapshot section ${name} is truncated`);
    arrays[name] = new Ctor(body.buffer, body.byteOffset + offset, length);
  }
  return { meta, arrays };
}
