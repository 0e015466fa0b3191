/**
 * xoshiro128** 1.1 (Blackman & Vigna), seeded through splitmix32.
 *
 * 32-bit state words keep every operation in V8's int32 fast path (no BigInt), which matters
 * because the encoder draws one number per input spike (~3,000 per sample). The 128-bit state is
 * saved and restored exactly, so a run resumed from a checkpoint continues the same stream.
 */
export class Prng {
  /** State word; public only so hot loops can run the generator on locals (see encoders.ts). */
  s0 = 0;
  s1 = 0;
  s2 = 0;
  s3 = 0;

  constructor(seed: number) {
    this.seed(seed);
  }

  /** splitmix32 expansion of a 32-bit seed into the four state words (never all zero). */
  seed(seed: number): void {
    let x = seed >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) | 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Next uniform 32-bit unsigned integer. */
  nextU32(): number {
    const s0 = this.s0;
    const s1 = this.s1;
    const s2 = this.s2;
    const s3 = this.s3;
    const m = Math.imul(s1, 5);
    const r = Math.imul((m << 7) | (m >>> 25), 9);
    const t = s1 << 9;
    const n2 = s2 ^ s0;
    const n3 = s3 ^ s1;
    this.s1 = s1 ^ n2;
    this.s0 = s0 ^ n3;
    this.s2 = n2 ^ t;
    this.s3 = (n3 << 11) | (n3 >>> 21);
    return r >>> 0;
  }

  /** Uniform in [0, 1) with 24 random bits, like `torch.rand` in float32. */
  nextFloat24(): number {
    return (this.nextU32() >>> 8) * 5.960464477539063e-8; // 2^-24
  }

  /** Uniform in [0, 1) with 53 random bits. */
  nextDouble(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) * 1.1102230246251565e-16; // 2^-53
  }

  /** Unbiased integer in [0, n), n < 2^21 (Lemire's multiply-and-reject, exact in doubles). */
  below(n: number): number {
    let m = this.nextU32() * n;
    let low = m % 4294967296;
    if (low < n) {
      const threshold = (4294967296 - n) % n;
      while (low < threshold) {
        m = this.nextU32() * n;
        low = m % 4294967296;
      }
    }
    return Math.floor(m / 4294967296);
  }

  getState(): Uint32Array {
    return Uint32Array.of(this.s0, this.s1, this.s2, this.s3);
  }

  setState(state: Uint32Array): void {
    if (state.length !== 4) throw new Error('Prng state must be 4 uint32 words');
    this.s0 = state[0] | 0;
    this.s1 = state[1] | 0;
    this.s2 = state[2] | 0;
    this.s3 = state[3] | 0;
  }
}
