/**
 * The project's one seedable pseudo-random generator: xoshiro128** (Blackman & Vigna), 32-bit
 * state words, the seed expanded with splitmix32 so that nearby seeds give unrelated streams.
 * Splits, the synthetic generator, model initialisation and SGD orders draw from it, so they are
 * deterministic for a seed on every platform.
 *
 * Independent streams for the different uses of one seed come from {@link derive}.
 */
export class Random {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  private spareNormal = NaN;

  /** @param seed any number; it is reduced to 32 bits (`seed >>> 0`). Default 42. */
  constructor(seed = 42) {
    this.reseed(seed);
  }

  /** Restart the stream from `seed` (same seed → same sequence, also of `normal()`). */
  reseed(seed: number): void {
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
    this.spareNormal = NaN;
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

  /** Integer in [0, n): `floor(next() · n)` (one draw; biased by at most n / 2³²). */
  int(n: number): number {
    return Math.floor(this.next() * n);
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

  /** Standard normal (Box–Muller, one spare kept). */
  normal(): number {
    if (!Number.isNaN(this.spareNormal)) {
      const s = this.spareNormal;
      this.spareNormal = NaN;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Fisher–Yates shuffle in place, drawing with {@link int}. */
  shuffle<T extends { length: number; [i: number]: number }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }
}

/**
 * The seed of the stream of `purpose` under `seed`: `(seed ^ imul(w + 1, 0x9e3779b9)) >>> 0`,
 * where w is the purpose itself when it is an integer, or the FNV-1a hash of its UTF-16 code
 * units when it is a string. Each purpose gets its own stream, so adding or changing one use of
 * a seed never shifts the numbers another use draws.
 */
export function deriveSeed(seed: number, purpose: string | number): number {
  let w: number;
  if (typeof purpose === 'number') {
    if (!Number.isInteger(purpose)) throw new RangeError(`derive: a numeric purpose must be an integer, got ${purpose}`);
    w = purpose;
  } else {
    w = fnv1a(purpose);
  }
  return (seed ^ Math.imul(w + 1, 0x9e3779b9)) >>> 0;
}

/** A generator for `purpose` under `seed`: `new Random(deriveSeed(seed, purpose))`. */
export function derive(seed: number, purpose: string | number): Random {
  return new Random(deriveSeed(seed, purpose));
}

/** 32-bit FNV-1a over the UTF-16 code units of `s`. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** splitmix32's output function. */
function mix32(x: number): number {
  let z = x;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
