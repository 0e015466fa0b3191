/**
 * xoshiro128** 1.1 (Blackman & Vigna), seeded through splitmix32: the network's one random
 * stream. Initialization and shuffles on the host (src/engine/prng.ts) draw from it through the
 * exports, encoding and the one-spike choice inside the kernel; checkpoints save its 128-bit
 * state exactly.
 */
let r0: u32 = 1;
let r1: u32 = 0;
let r2: u32 = 0;
let r3: u32 = 0;

/**
 * The generator as pure functions of the state words (a, b, c, d): the draw, and each word of the
 * next state. `nextU32` applies them to the stream's globals. A hot loop (the encoder) may hold the
 * state in locals, read with `rngWord` before it and stored with `setRng` after it: V8 keeps wasm
 * globals in memory, so a draw through the globals costs four loads and four stores.
 */
// @ts-ignore: decorator
@inline export function drawOf(b: u32): u32 { return rotl<u32>(b * 5, 7) * 9; }
// @ts-ignore: decorator
@inline export function next0(a: u32, b: u32, d: u32): u32 { return a ^ d ^ b; }
// @ts-ignore: decorator
@inline export function next1(a: u32, b: u32, c: u32): u32 { return b ^ c ^ a; }
// @ts-ignore: decorator
@inline export function next2(a: u32, b: u32, c: u32): u32 { return c ^ a ^ (b << 9); }
// @ts-ignore: decorator
@inline export function next3(b: u32, d: u32): u32 { return rotl<u32>(d ^ b, 11); }

/** Next uniform 32-bit integer. */
// @ts-ignore: decorator
@inline export function nextU32(): u32 {
  const a = r0, b = r1, c = r2, d = r3;
  r0 = next0(a, b, d);
  r1 = next1(a, b, c);
  r2 = next2(a, b, c);
  r3 = next3(b, d);
  return drawOf(b);
}

/** Unbiased integer in [0, n) (Lemire's multiply-shift with rejection). */
export function below(n: u32): u32 {
  let m = <u64>nextU32() * <u64>n;
  let low = <u32>m;
  if (low < n) {
    const threshold: u32 = (<u32>0 - n) % n;
    while (low < threshold) {
      m = <u64>nextU32() * <u64>n;
      low = <u32>m;
    }
  }
  return <u32>(m >> 32);
}

/** splitmix32 expansion of a 32-bit seed into the four state words (never all zero). */
export function seedRng(seed: u32): void {
  let x = seed;
  x += 0x9e3779b9;
  r0 = splitmix(x);
  x += 0x9e3779b9;
  r1 = splitmix(x);
  x += 0x9e3779b9;
  r2 = splitmix(x);
  x += 0x9e3779b9;
  r3 = splitmix(x);
  if ((r0 | r1 | r2 | r3) == 0) r0 = 1;
}

function splitmix(x: u32): u32 {
  let z = x;
  z = (z ^ (z >>> 16)) * 0x85ebca6b;
  z = (z ^ (z >>> 13)) * 0xc2b2ae35;
  return z ^ (z >>> 16);
}

/** The next 32-bit draw, for the host (weight and delay initialization, shuffles). */
export function rngNext(): u32 {
  return nextU32();
}

export function setRng(a: u32, b: u32, c: u32, d: u32): void {
  r0 = a;
  r1 = b;
  r2 = c;
  r3 = d;
}

/** State word k (0..3). */
export function rngWord(k: i32): u32 {
  return k == 0 ? r0 : k == 1 ? r1 : k == 2 ? r2 : r3;
}
