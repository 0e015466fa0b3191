/**
 * xoshiro128** 1.1 (Blackman & Vigna): the kernel's random stream. Its state is the network's
 * PRNG state (network.ts loads it before a sample and reads it back after), so encoding and the
 * one-spike choice continue one stream that checkpoints save exactly.
 */
let r0: u32 = 1;
let r1: u32 = 0;
let r2: u32 = 0;
let r3: u32 = 0;

/** Next uniform 32-bit integer. */
// @ts-ignore: decorator
@inline export function nextU32(): u32 {
  const result = rotl<u32>(r1 * 5, 7) * 9;
  const t = r1 << 9;
  r2 ^= r0;
  r3 ^= r1;
  r1 ^= r2;
  r0 ^= r3;
  r2 ^= t;
  r3 = rotl<u32>(r3, 11);
  return result;
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
