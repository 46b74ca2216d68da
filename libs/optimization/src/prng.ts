/**
 * A tiny seedable PRNG (xoshiro128**, Blackman & Vigna) local to this lib, which may not import
 * `@recsys/data`. Used to shuffle SGD orders deterministically for a seed on every platform.
 */
export class Xoshiro128 {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;

  /** @param seed any number; it is reduced to 32 bits and expanded with splitmix32. */
  constructor(seed = 42) {
    this.reseed(seed);
  }

  /** Restart the stream from `seed` (same seed → same sequence). */
  reseed(seed: number): void {
    // splitmix32 expansion, so that nearby seeds give unrelated streams and no state is all-zero.
    let x = seed >>> 0;
    x = (x + 0x9e3779b9) >>> 0;
    this.s0 = mix32(x);
    x = (x + 0x9e3779b9) >>> 0;
    this.s1 = mix32(x);
    x = (x + 0x9e3779b9) >>> 0;
    this.s2 = mix32(x);
    x = (x + 0x9e3779b9) >>> 0;
    this.s3 = mix32(x);
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /**
   * Uniform integer in [0, n) for 1 ≤ n ≤ 2³², without modulo bias: draws below
   * `2³² mod n` are rejected so that every residue is equally likely.
   */
  below(n: number): number {
    const threshold = 4294967296 % n;
    let r = this.nextUint32();
    while (r < threshold) r = this.nextUint32();
    return r % n;
  }
}

function mix32(x: number): number {
  let z = x;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
