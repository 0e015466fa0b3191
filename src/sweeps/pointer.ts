/**
 * JSON Pointers (RFC 6901) into a resolved experiment definition: parse, read, and write a copy.
 * A pointer must name a value that exists in the resolved definition (every default applied), so
 * a typo is an error rather than a silently ignored new key.
 */

export const MAX_POINTER_LENGTH = 256;
export const MAX_POINTER_SEGMENTS = 16;

export class PointerError extends Error {}

export function parsePointer(pointer: string): string[] {
  if (pointer.length > MAX_POINTER_LENGTH) throw new PointerError(`is longer than ${MAX_POINTER_LENGTH} characters`);
  if (!pointer.startsWith('/')) throw new PointerError(`must be a JSON Pointer starting with "/" (e.g. "/encoder/maxRateHz")`);
  const segments = pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (segments.length > MAX_POINTER_SEGMENTS) throw new PointerError(`has more than ${MAX_POINTER_SEGMENTS} segments`);
  return segments;
}

function isContainer(v: unknown): v is Record<string, unknown> | unknown[] {
  return v !== null && typeof v === 'object';
}

function step(container: unknown, segment: string, pointer: string, prefix: string): unknown {
  if (Array.isArray(container)) {
    if (!/^(0|[1-9][0-9]*)$/.test(segment) || Number(segment) >= container.length) {
      throw new PointerError(`${prefix}/${segment} does not exist in the resolved definition (array of ${container.length})`);
    }
    return container[Number(segment)];
  }
  if (isContainer(container) && Object.prototype.hasOwnProperty.call(container, segment)) {
    return (container as Record<string, unknown>)[segment];
  }
  throw new PointerError(`${prefix}/${segment} does not exist in the resolved definition`);
}

/** The value at the pointer; throws PointerError when any segment is missing. */
export function getAt(doc: unknown, pointer: string): unknown {
  let v = doc;
  let prefix = '';
  for (const segment of parsePointer(pointer)) {
    v = step(v, segment, pointer, prefix);
    prefix += `/${segment}`;
  }
  return v;
}

/** A deep copy of `doc` with the value at the (existing) pointer replaced. */
export function setAt<T>(doc: T, pointer: string, value: unknown): T {
  const segments = parsePointer(pointer);
  if (segments.length === 1 && segments[0] === '') throw new PointerError('cannot replace the whole definition');
  const copy = structuredClone(doc);
  let parent: unknown = copy;
  let prefix = '';
  for (const segment of segments.slice(0, -1)) {
    parent = step(parent, segment, pointer, prefix);
    prefix += `/${segment}`;
  }
  const last = segments[segments.length - 1]!;
  step(parent, last, pointer, prefix); // must exist
  if (Array.isArray(parent)) parent[Number(last)] = structuredClone(value);
  else (parent as Record<string, unknown>)[last] = structuredClone(value);
  return copy;
}
