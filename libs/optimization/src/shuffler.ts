import { Random } from '@recsys/core';

/** Offsets of contiguous groups: group g owns positions offsets[g] .. offsets[g+1]−1 (a CSR pointer array). */
export type GroupOffsets = ArrayLike<number>;

/**
 * A permutation of 0..size−1 held in one `Uint32Array` and reshuffled in place (Fisher–Yates with
 * a local seeded xoshiro128** generator) each epoch, so the SGD order changes per epoch without
 * allocating. Same seed → same sequence of permutations.
 *
 * With {@link shuffleGroups} the permutation orders groups (e.g. users, `size` = number of users)
 * and is expanded into an order of items (e.g. ratings) in which each group's items stay
 * contiguous: process each user's ratings together, users in shuffled order.
 */
export class Shuffler {
  /** The current permutation; `shuffle()` rewrites it in place. */
  readonly order: Uint32Array;
  private readonly random: Random;

  constructor(
    readonly size: number,
    seed = 42,
  ) {
    if (!(Number.isInteger(size) && size >= 0 && size <= 0xffffffff)) {
      throw new RangeError(`Shuffler: size must be an integer in 0..2³²−1, got ${size}`);
    }
    this.order = new Uint32Array(size);
    this.random = new Random(seed);
    this.reset();
  }

  /** Restores the identity permutation (does not reseed). */
  reset(): void {
    const order = this.order;
    for (let i = 0; i < order.length; i++) order[i] = i;
  }

  /** Reseeds the generator and restores the identity: the following shuffles repeat those after construction with `seed`. */
  reseed(seed: number): void {
    this.random.reseed(seed);
    this.reset();
  }

  /** Uniformly random reorder of `order` in place (Fisher–Yates, unbiased draws); returns `order`. */
  shuffle(): Uint32Array {
    shuffleRange(this.order, 0, this.order.length, this.random);
    return this.order;
  }

  /**
   * Shuffles the group order (`order`, which must have one entry per group) and writes into `out`
   * the item positions group by group in that order: out = [items of order[0]] ++ [items of
   * order[1]] ++ … . Within a group items keep their stored order unless `shuffleWithinGroups`,
   * in which case each group's slice of `out` is shuffled too. Allocation-free.
   *
   * @param offsets group boundaries, length size + 1, non-decreasing, offsets[0] = 0
   * @param out receives the item order, length offsets[size]
   * @returns `out`
   */
  shuffleGroups(offsets: GroupOffsets, out: Uint32Array, shuffleWithinGroups = false): Uint32Array {
    const groups = this.order.length;
    if (offsets.length !== groups + 1) {
      throw new RangeError(`Shuffler.shuffleGroups: offsets must have length size + 1 = ${groups + 1}, got ${offsets.length}`);
    }
    if (offsets[0] !== 0) throw new RangeError(`Shuffler.shuffleGroups: offsets[0] must be 0, got ${offsets[0]}`);
    const total = offsets[groups];
    if (out.length !== total) {
      throw new RangeError(`Shuffler.shuffleGroups: out must have length offsets[${groups}] = ${total}, got ${out.length}`);
    }
    this.shuffle();
    const order = this.order;
    let position = 0;
    for (let k = 0; k < groups; k++) {
      const group = order[k];
      const start = offsets[group];
      const end = offsets[group + 1];
      if (!(end >= start && position + (end - start) <= total)) {
        throw new RangeError(`Shuffler.shuffleGroups: offsets are not non-decreasing at group ${group} (${start} → ${end})`);
      }
      const sliceStart = position;
      for (let item = start; item < end; item++) out[position++] = item;
      if (shuffleWithinGroups) shuffleRange(out, sliceStart, position, this.random);
    }
    return out;
  }
}

/** Fisher–Yates on a[start..end). */
function shuffleRange(a: Uint32Array, start: number, end: number, random: Random): void {
  for (let i = end - 1; i > start; i--) {
    const j = start + random.below(i - start + 1);
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
}
