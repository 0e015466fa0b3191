/**
 * The network's random stream on the host side: xoshiro128** 1.1 seeded through splitmix32, run
 * by the kernel (assembly/prng.ts). Weight and delay initialization and the epochs' shuffles draw
 * from the same stream as the kernel's encoding and one-spike choice, so a run is one sequence of
 * draws, and its 128-bit state is what checkpoints save.
 */
export interface RngKernel {
  seedRng(seed: number): void;
  rngNext(): number;
  below(n: number): number;
  setRng(a: number, b: number, c: number, d: number): void;
  rngWord(k: number): number;
}

export class Prng {
  constructor(private readonly k: RngKernel) {}

  seed(seed: number): void {
    this.k.seedRng(seed >>> 0);
  }

  /** Next uniform 32-bit unsigned integer. */
  nextU32(): number {
    return this.k.rngNext() >>> 0;
  }

  /** Uniform in [0, 1) with 24 random bits, like `torch.rand` in float32. */
  nextFloat24(): number {
    return (this.nextU32() >>> 8) * 5.960464477539063e-8; // 2^-24
  }

  /** Uniform in [0, 1) with 53 random bits (two draws). */
  nextDouble(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) * 1.1102230246251565e-16; // 2^-53
  }

  /** Unbiased integer in [0, n) (Lemire's multiply-and-reject), n ≥ 1. */
  below(n: number): number {
    if (!(n >= 1 && n <= 0xffffffff)) throw new RangeError(`below(${n}): n must be in [1, 2^32)`);
    return this.k.below(n >>> 0) >>> 0;
  }

  getState(): Uint32Array {
    const k = this.k;
    return Uint32Array.of(k.rngWord(0), k.rngWord(1), k.rngWord(2), k.rngWord(3));
  }

  setState(state: Uint32Array): void {
    if (state.length !== 4) throw new Error('PRNG state must be 4 uint32 words');
    this.k.setRng(state[0], state[1], state[2], state[3]);
  }
}
