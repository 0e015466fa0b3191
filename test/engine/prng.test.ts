/**
 * The network's random stream (xoshiro128** 1.1 seeded by splitmix32, run by the kernel) against an
 * independent BigInt implementation written from the published algorithms, plus statistical
 * checks of the derived helpers.
 */
import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/engine/network.js';

const M32 = 0xffffffffn;

/** xoshiro128** 1.1 (Blackman & Vigna, https://prng.di.unimi.it/xoshiro128starstar.c) in BigInt. */
class RefXoshiro128ss {
  s: bigint[];
  constructor(state: ArrayLike<number>) {
    this.s = Array.from(state, (x) => BigInt(x >>> 0));
  }
  static rotl(x: bigint, k: bigint): bigint {
    return ((x << k) | (x >> (32n - k))) & M32;
  }
  next(): number {
    const s = this.s;
    const result = (RefXoshiro128ss.rotl((s[1] * 5n) & M32, 7n) * 9n) & M32;
    const t = (s[1] << 9n) & M32;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = RefXoshiro128ss.rotl(s[3], 11n);
    return Number(result);
  }
}

/**
 * splitmix32 as documented in prng.ts: x += 0x9e3779b9; z = x; z = (z ^ z>>16)·0x85ebca6b;
 * z = (z ^ z>>13)·0xc2b2ae35; return z ^ z>>16 (all mod 2^32).
 */
function refSplitmix32(seed: number, count: number): number[] {
  let x = BigInt(seed >>> 0);
  const out: number[] = [];
  for (let k = 0; k < count; k++) {
    x = (x + 0x9e3779b9n) & M32;
    let z = x;
    z = ((z ^ (z >> 16n)) * 0x85ebca6bn) & M32;
    z = ((z ^ (z >> 13n)) * 0xc2b2ae35n) & M32;
    out.push(Number(z ^ (z >> 16n)));
  }
  return out;
}

describe('Prng: xoshiro128** core', () => {
  it('matches the reference algorithm from state {1,2,3,4} (11520, 0, 5927040, ...)', () => {
    const rng = createRng(0);
    rng.setState(Uint32Array.of(1, 2, 3, 4));
    const ref = new RefXoshiro128ss([1, 2, 3, 4]);
    const got: number[] = [];
    const want: number[] = [];
    for (let k = 0; k < 1000; k++) {
      got.push(rng.nextU32());
      want.push(ref.next());
    }
    // The well-known first outputs of xoshiro128** from {1,2,3,4}.
    expect(want.slice(0, 3)).toEqual([11520, 0, 5927040]);
    expect(got).toEqual(want);
    // Final state agrees too.
    expect(Array.from(rng.getState())).toEqual(ref.s.map(Number));
  });

  it('is seeded through splitmix32 and then follows the reference stream', () => {
    for (const seed of [0, 1, 42, 0xdeadbeef, 2 ** 32 - 1]) {
      const rng = createRng(seed);
      const words = refSplitmix32(seed, 4);
      expect(Array.from(rng.getState())).toEqual(words);
      const ref = new RefXoshiro128ss(words);
      for (let k = 0; k < 200; k++) expect(rng.nextU32()).toBe(ref.next());
    }
  });

  it('nextU32 returns unsigned 32-bit integers', () => {
    const rng = createRng(7);
    let sawHigh = false;
    for (let k = 0; k < 10000; k++) {
      const u = rng.nextU32();
      expect(Number.isInteger(u)).toBe(true);
      expect(u).toBeGreaterThanOrEqual(0);
      expect(u).toBeLessThan(2 ** 32);
      if (u >= 2 ** 31) sawHigh = true;
    }
    expect(sawHigh).toBe(true);
  });

  it('is deterministic per seed, and different seeds give different streams', () => {
    const a = createRng(123);
    const b = createRng(123);
    const c = createRng(124);
    const sa = Array.from({ length: 100 }, () => a.nextU32());
    const sb = Array.from({ length: 100 }, () => b.nextU32());
    const sc = Array.from({ length: 100 }, () => c.nextU32());
    expect(sa).toEqual(sb);
    expect(sa).not.toEqual(sc);
    // Streams of neighbouring seeds should share essentially nothing.
    const common = sa.filter((x, k) => x === sc[k]).length;
    expect(common).toBeLessThan(3);
  });

  it('getState/setState round-trip continues the same stream', () => {
    const a = createRng(99);
    for (let k = 0; k < 37; k++) a.nextU32();
    const saved = a.getState();
    const cont = Array.from({ length: 50 }, () => a.nextU32());
    const b = createRng(5);
    b.setState(saved);
    expect(Array.from({ length: 50 }, () => b.nextU32())).toEqual(cont);
    // getState returns a copy: mutating it does not change the generator.
    const c = createRng(1);
    const st = c.getState();
    const next = createRng(1).nextU32();
    st[0] ^= 0xffff;
    expect(c.nextU32()).toBe(next);
  });

  it('setState rejects a state of the wrong length', () => {
    expect(() => createRng(1).setState(Uint32Array.of(1, 2, 3))).toThrow(/4/);
  });
});

describe('Prng: derived draws', () => {
  it('nextFloat24 is (u >>> 8)·2^-24: in [0,1), on the 2^-24 grid, mean ≈ 0.5', () => {
    const rng = createRng(2024);
    const ref = createRng(2024);
    const n = 100000;
    let sum = 0;
    let sumSq = 0;
    for (let k = 0; k < n; k++) {
      const x = rng.nextFloat24();
      expect(x).toBe((ref.nextU32() >>> 8) / 2 ** 24);
      if (!(x >= 0 && x < 1)) throw new Error(`out of range: ${x}`);
      sum += x;
      sumSq += x * x;
    }
    const mean = sum / n;
    // Uniform: sd 1/sqrt(12) ≈ 0.2887; 5 sigma of the mean over 1e5 draws ≈ 0.0046.
    expect(Math.abs(mean - 0.5)).toBeLessThan((5 * Math.sqrt(1 / 12)) / Math.sqrt(n));
    const variance = sumSq / n - mean * mean;
    expect(Math.abs(variance - 1 / 12)).toBeLessThan(0.002);
  });

  it('below(n) is always an integer in [0, n)', () => {
    const rng = createRng(11);
    for (const n of [1, 2, 3, 7, 10, 1000, 65537, 2 ** 21 - 1]) {
      for (let k = 0; k < 5000; k++) {
        const x = rng.below(n);
        if (!(Number.isInteger(x) && x >= 0 && x < n)) throw new Error(`below(${n}) gave ${x}`);
      }
    }
    const one = createRng(4);
    for (let k = 0; k < 100; k++) expect(one.below(1)).toBe(0);
  });

  it('below(n) is unbiased (chi-square and per-bin 5-sigma bounds)', () => {
    // χ² with df = n−1: the critical values used are far in the tail (p < 1e-6), deterministic seeds.
    const cases: [number, number, number][] = [
      [2, 100000, 30], // df 1: p(χ² > 30) ≈ 4e-8
      [3, 100000, 35], // df 2
      [10, 100000, 50], // df 9: p(χ² > 50) ≈ 1e-7
      [37, 100000, 100], // df 36: p(χ² > 100) ≈ 1e-7
    ];
    for (const [n, draws, crit] of cases) {
      const rng = createRng(1000 + n);
      const bins = new Float64Array(n);
      for (let k = 0; k < draws; k++) bins[rng.below(n)]++;
      const e = draws / n;
      let chi2 = 0;
      for (let b = 0; b < n; b++) {
        chi2 += (bins[b] - e) ** 2 / e;
        const sd = Math.sqrt(draws * (1 / n) * (1 - 1 / n));
        expect(Math.abs(bins[b] - e)).toBeLessThan(5 * sd);
      }
      expect(chi2).toBeLessThan(crit);
    }
  });

  it('below(n) for large n has mean ≈ (n−1)/2 and covers both halves equally', () => {
    const n = 1_500_007;
    const rng = createRng(77);
    const draws = 100000;
    let sum = 0;
    let low = 0;
    for (let k = 0; k < draws; k++) {
      const x = rng.below(n);
      sum += x;
      if (x < n / 2) low++;
    }
    const sd = n / Math.sqrt(12) / Math.sqrt(draws);
    expect(Math.abs(sum / draws - (n - 1) / 2)).toBeLessThan(5 * sd);
    expect(Math.abs(low - draws / 2)).toBeLessThan(5 * Math.sqrt(draws / 4));
  });
});
