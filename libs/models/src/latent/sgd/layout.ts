import { Random } from '@recsys/core';
import { RatingMatrix } from '@recsys/data';

/** Largest movie count the packed rating format `(movie << 8) | code` can address. */
export const MAX_KERNEL_MOVIES = 1 << 24;

/** Byte offset of the first array: the first KiB stays unused so that offset 0 never holds data. */
const FIRST_OFFSET = 1024;

/**
 * Where the SGD trainer keeps everything in one linear memory (byte offsets, 16-byte aligned).
 * Users and movies go by their internal index ({@link SgdPartition}: a seeded renumbering in
 * which every group is a contiguous range), as LibMF renumbers them.
 *
 * - `P` users × kp f32, `Q` movies × kp f32, rows by internal index, padded to kp = 4·⌈k/4⌉ with
 *   zeros; `userBias`, `movieBias`: packed f32 by internal index. Threads working on different
 *   groups touch disjoint ranges of all four, sharing at most the cache line at a range's edge.
 * - The ratings, cut into B × B blocks (user block × movie block, block b = ub·B + mb) and inside
 *   a block into segments, one per user with ratings there, users ascending: segment s is
 *   internal user `segUser[s]` with the packed ratings `ratings[segOff[s] .. segOff[s+1])`, each
 *   `(internal movie << 8) | (stars × 2)` (4 bytes a rating), movies ascending. Block b
 *   owns segments `blockSeg[b] .. blockSeg[b+1]−1`. A block is processed in this stored order:
 *   the user rows stream through memory in ascending order while the block's movie rows (a
 *   contiguous range) stay in the core's cache.
 */
export interface SgdLayout {
  readonly nUsers: number;
  readonly nMovies: number;
  readonly nRatings: number;
  readonly factors: number;
  /** Floats per factor row: factors rounded up to a multiple of 4. */
  readonly kp: number;
  /** Blocks per side (B); B × B blocks in all. */
  readonly blocks: number;
  readonly nSegments: number;
  readonly P: number;
  readonly Q: number;
  readonly userBias: number;
  readonly movieBias: number;
  readonly ratings: number;
  readonly segUser: number;
  readonly segOff: number;
  /** Bytes the memory must hold. */
  readonly bytes: number;
}

/**
 * The block partition of a training matrix: the internal index of every user and movie (a seeded
 * permutation) and the group each falls in; group g holds the internal indices
 * `userStart[g] .. userStart[g+1]−1` (movies likewise).
 */
export interface SgdPartition {
  readonly blocks: number;
  /** Group of each user and movie, by matrix index. */
  readonly userBlock: Uint8Array | Uint16Array;
  readonly movieBlock: Uint8Array | Uint16Array;
  /** Internal index of each user and movie, by matrix index. */
  readonly userIndex: Uint32Array;
  readonly movieIndex: Uint32Array;
  /** Matrix index of each internal user index (the inverse of userIndex). */
  readonly userOrder: Uint32Array;
  /** B + 1 boundaries of the groups in internal indices. */
  readonly userStart: Uint32Array;
  readonly movieStart: Uint32Array;
  /** Segments per block (B × B) and ratings per block. */
  readonly blockSegments: Uint32Array;
  readonly blockRatings: Uint32Array;
}

/** Groups of {@link balancedGroups}: by matrix index, the internal index, its inverse and the group boundaries. */
interface Groups {
  readonly group: Uint8Array | Uint16Array;
  readonly index: Uint32Array;
  readonly order: Uint32Array;
  readonly start: Uint32Array;
}

/**
 * Cut `n` items into `blocks` groups of about equal total count: items in a seeded random order
 * (which becomes their internal index; the identity for one group), the item at position j joining group
 * ⌊B·(c_before + c_j/2)/total⌋ (c_before: count of the items placed before it). The group never
 * decreases along the order, so each group is a contiguous range of internal indices; random
 * order keeps each group a fair sample of users (or movies).
 */
function balancedGroups(counts: (i: number) => number, n: number, blocks: number, total: number, rng: Random): Groups {
  const group = blocks <= 256 ? new Uint8Array(n) : new Uint16Array(n);
  const order = new Uint32Array(n);
  const index = new Uint32Array(n);
  const start = new Uint32Array(blocks + 1);
  for (let i = 0; i < n; i++) order[i] = i;
  // One group needs no renumbering: keeping the matrix's order keeps each user's movie rows in
  // ascending addresses, as the hardware prefetcher likes.
  if (blocks > 1) rng.shuffle(order);
  let before = 0;
  for (let j = 0; j < n; j++) {
    const i = order[j];
    index[i] = j;
    const c = counts(i);
    const g = total === 0 ? Math.floor((j * blocks) / n) : Math.floor((blocks * (before + c / 2)) / total);
    group[i] = Math.min(blocks - 1, g);
    start[group[i] + 1] = j + 1;
    before += c;
  }
  // Groups left empty end where the previous one ends.
  for (let g = 1; g <= blocks; g++) start[g] = Math.max(start[g], start[g - 1]);
  return { group, index, order, start };
}

/** Partition users and movies into `blocks` groups each (seeded) and count segments and ratings per block. */
export function partitionRatings(train: RatingMatrix, blocks: number, rng: Random): SgdPartition {
  const B = blocks;
  const userPtr = train.userPtr;
  const moviePtr = train.moviePtr;
  const users = balancedGroups((u) => userPtr[u + 1] - userPtr[u], train.nUsers, B, train.nRatings, rng);
  const movieGroups = balancedGroups((m) => moviePtr[m + 1] - moviePtr[m], train.nMovies, B, train.nRatings, rng);
  const userBlock = users.group;
  const movieBlock = movieGroups.group;
  const blockSegments = new Uint32Array(B * B);
  const blockRatings = new Uint32Array(B * B);
  const perMovieBlock = new Uint32Array(B);
  const movies = train.userMovies;
  for (let u = 0; u < train.nUsers; u++) {
    const row = userBlock[u] * B;
    perMovieBlock.fill(0);
    for (let k = userPtr[u]; k < userPtr[u + 1]; k++) perMovieBlock[movieBlock[movies[k]]]++;
    for (let mb = 0; mb < B; mb++) {
      const c = perMovieBlock[mb];
      if (c > 0) {
        blockSegments[row + mb]++;
        blockRatings[row + mb] += c;
      }
    }
  }
  return {
    blocks: B,
    userBlock,
    movieBlock,
    userIndex: users.index,
    movieIndex: movieGroups.index,
    userOrder: users.order,
    userStart: users.start,
    movieStart: movieGroups.start,
    blockSegments,
    blockRatings,
  };
}

const align16 = (x: number): number => Math.ceil(x / 16) * 16;

/**
 * Hands out 16-byte-aligned byte offsets of one linear memory, one array after the other, from
 * the first KiB on (offset 0 never holds data): `take(bytes)` returns an array's offset, `end()`
 * the bytes the memory must hold.
 */
export function memoryPlan(): { take: (bytes: number) => number; end: () => number } {
  let at = FIRST_OFFSET;
  return {
    take: (bytes) => {
      const offset = at;
      at = align16(at + bytes);
      return offset;
    },
    end: () => at,
  };
}

/** Byte offsets of every array for a matrix, factor count and partition. */
export function planLayout(train: RatingMatrix, factors: number, partition: SgdPartition): SgdLayout {
  const kp = Math.ceil(factors / 4) * 4;
  let nSegments = 0;
  for (let b = 0; b < partition.blockSegments.length; b++) nSegments += partition.blockSegments[b];
  const { take, end } = memoryPlan();
  const P = take(train.nUsers * kp * 4);
  const Q = take(train.nMovies * kp * 4);
  const userBias = take(train.nUsers * 4);
  const movieBias = take(train.nMovies * 4);
  const ratings = take(train.nRatings * 4);
  const segUser = take(nSegments * 4);
  const segOff = take((nSegments + 1) * 4);
  return {
    nUsers: train.nUsers,
    nMovies: train.nMovies,
    nRatings: train.nRatings,
    factors,
    kp,
    blocks: partition.blocks,
    nSegments,
    P,
    Q,
    userBias,
    movieBias,
    ratings,
    segUser,
    segOff,
    bytes: end(),
  };
}

/**
 * Write the ratings and segments into `buffer` (zero-filled) as `layout` says and return
 * `blockSeg` (B × B + 1 segment offsets per block). Segments within a block follow ascending
 * internal user index, ratings within a segment ascending internal movie index.
 */
export function writeRatings(buffer: ArrayBuffer | SharedArrayBuffer, layout: SgdLayout, train: RatingMatrix, partition: SgdPartition): Uint32Array {
  const B = layout.blocks;
  const u32 = new Uint32Array(buffer);
  const nBlocks = B * B;
  const blockSeg = new Uint32Array(nBlocks + 1);
  const nextSeg = new Uint32Array(nBlocks);
  const nextRating = new Uint32Array(nBlocks);
  for (let b = 0, s = 0, r = 0; b < nBlocks; b++) {
    blockSeg[b] = s;
    nextSeg[b] = s;
    nextRating[b] = r;
    s += partition.blockSegments[b];
    r += partition.blockRatings[b];
  }
  blockSeg[nBlocks] = layout.nSegments;

  const ratings = layout.ratings >>> 2;
  const segUser = layout.segUser >>> 2;
  const segOff = layout.segOff >>> 2;
  const { userBlock, movieBlock, userOrder, movieIndex, movieStart } = partition;
  const userPtr = train.userPtr;
  const movies = train.userMovies;
  const codes = train.userRatings;
  const cursor = new Uint32Array(B);
  const perMovieBlock = new Uint32Array(B);
  let maxDegree = 0;
  for (let u = 0; u < train.nUsers; u++) maxDegree = Math.max(maxDegree, userPtr[u + 1] - userPtr[u]);
  const packed = new Uint32Array(maxDegree);
  for (let iu = 0; iu < train.nUsers; iu++) {
    const u = userOrder[iu];
    const row = userBlock[u] * B;
    perMovieBlock.fill(0);
    for (let k = userPtr[u]; k < userPtr[u + 1]; k++) perMovieBlock[movieBlock[movies[k]]]++;
    for (let mb = 0; mb < B; mb++) {
      if (perMovieBlock[mb] === 0) continue;
      const b = row + mb;
      const s = nextSeg[b]++;
      u32[segUser + s] = iu;
      u32[segOff + s] = nextRating[b];
      cursor[mb] = nextRating[b];
      nextRating[b] += perMovieBlock[mb];
    }
    // The user's ratings by ascending internal movie index (the packed value's high bits), so
    // every segment reads its movie rows in ascending addresses; groups are ranges of that index.
    const degree = userPtr[u + 1] - userPtr[u];
    for (let k = userPtr[u], i = 0; i < degree; k++, i++) packed[i] = ((movieIndex[movies[k]] << 8) | codes[k]) >>> 0;
    const sorted = packed.subarray(0, degree).sort();
    for (let i = 0, mb = 0; i < degree; i++) {
      while (sorted[i] >>> 8 >= movieStart[mb + 1]) mb++;
      u32[ratings + cursor[mb]++] = sorted[i];
    }
  }
  u32[segOff + layout.nSegments] = layout.nRatings;
  return blockSeg;
}

/**
 * Fill the first `factors` floats of rows of kp floats at byte `offset` with N(mean, std²) draws
 * (pads stay 0), drawing for matrix index 0, 1, … in turn into row `index[i]`: the draws do not
 * depend on the renumbering.
 */
export function initFactors(
  buffer: ArrayBuffer | SharedArrayBuffer,
  offset: number,
  index: Uint32Array,
  factors: number,
  kp: number,
  mean: number,
  std: number,
  rng: Random,
): void {
  const f32 = new Float32Array(buffer, offset, index.length * kp);
  for (let r = 0; r < index.length; r++) {
    const row = index[r] * kp;
    for (let f = 0; f < factors; f++) f32[row + f] = mean + std * rng.normal();
  }
}
