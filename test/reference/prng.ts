/**
 * The reference's own PRNG: xoshiro128** 1.1 (Blackman & Vigna, public domain algorithm) on four
 * uint32 words, seeded by splitmix32 (golden-ratio increment 0x9e3779b9, MurmurHash3 fmix32
 * finaliser), written from the published algorithms — not imported from src/engine.
 *
 * Deliberately simple: state in a Uint32Array (so every word is always a uint32), 64-bit products
 * in BigInt where a double could be doubted.
 */

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

function mul32(a: number, b: number): number {
  return Number((BigInt(a >>> 0) * BigInt(b >>> 0)) & 0xffffffffn);
}

export class RefPrng {
  readonly s = new Uint32Array(4);

  static fromSeed(seed: number): RefPrng {
    const r = new RefPrng();
    let x = seed >>> 0;
    for (let k = 0; k < 4; k++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = mul32(z ^ (z >>> 16), 0x85ebca6b);
      z = mul32(z ^ (z >>> 13), 0xc2b2ae35);
      r.s[k] = (z ^ (z >>> 16)) >>> 0;
    }
    if (r.s[0] === 0 && r.s[1] === 0 && r.s[2] === 0 && r.s[3] === 0) r.s[0] = 1;
    return r;
  }

  static fromState(state: ArrayLike<number>): RefPrng {
    if (state.length !== 4) throw new Error('PRNG state must be four uint32 words');
    const r = new RefPrng();
    for (let k = 0; k < 4; k++) r.s[k] = state[k] >>> 0;
    return r;
  }

  state(): Uint32Array {
    return Uint32Array.from(this.s);
  }

  /** xoshiro128**: result = rotl(s1·5, 7)·9, then the linear state update. */
  nextU32(): number {
    const s = this.s;
    const result = mul32(rotl(mul32(s[1], 5), 7), 9);
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform in [0, 1) from the top 24 bits (like torch.rand in float32). */
  nextFloat24(): number {
    return (this.nextU32() >>> 8) / 16777216;
  }

  /** Unbiased integer in [0, n): Lemire's multiply-and-reject on the 64-bit product u32·n. */
  below(n: number): number {
    if (!Number.isInteger(n) || n < 1) throw new Error(`below(${n})`);
    const N = BigInt(n);
    const TWO32 = 1n << 32n;
    let m = BigInt(this.nextU32()) * N;
    let low = m % TWO32;
    if (low < N) {
      const threshold = (TWO32 - N) % N;
      while (low < threshold) {
        m = BigInt(this.nextU32()) * N;
        low = m % TWO32;
      }
    }
    return Number(m / TWO32);
  }
}
