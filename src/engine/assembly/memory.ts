/** Zeroed, 16-byte aligned blocks from the stub runtime's heap (never freed: one network per instance). */
export function allocZeroed(bytes: i32): usize {
  const size = <usize>max(bytes, 16);
  const p = heap.alloc(size);
  memory.fill(p, 0, size);
  return p;
}
