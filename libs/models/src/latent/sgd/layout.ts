import { Random } from '@recsys/core';
import { RatingMatrix } from '@recsys/data';
import { keptCounts } from '../kept-counts';

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
 * The block partition of a training matrix: the group each user and movie falls in (seeded) and
 * its internal index, numbered by (group, matrix index); group g holds the internal indices
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
  /** B + 1 boundaries of the groups in internal indices. */
  readonly userStart: Uint32Array;
  readonly movieStart: Uint32Array;
  /** Segments per block (B × B) and ratings per block. */
  readonly blockSegments: Uint32Array;
  readonly blockRatings: Uint32Array;
}

/** A renumbering by group: by matrix index the group and the internal index; the group boundaries. */
interface Groups {
  readonly group: Uint8Array | Uint16Array;
  readonly index: Uint32Array;
  readonly start: Uint32Array;
}

/**
 * Cut `n` items into `blocks` groups of about equal total count: items in a seeded random order,
 * the item at position j joining group ⌊B·(c_before + c_j/2)/total⌋ (c_before: count of the items
 * placed before it). Random order keeps each group a fair sample of users (or movies). Then
 * number the items by (group, matrix index): each group a contiguous range of internal indices,
 * the matrix's order kept inside it, so a row sorted by matrix index stays sorted by internal
 * index within each group (no sort when the blocks are written), and one group is the identity.
 */
function balancedGroups(counts: (i: number) => number, n: number, blocks: number, total: number, rng: Random): Groups {
  const group = blocks <= 256 ? new Uint8Array(n) : new Uint16Array(n);
  if (blocks > 1) {
    const perm = new Uint32Array(n);
    for (let i = 0; i < n; i++) perm[i] = i;
    rng.shuffle(perm);
    let before = 0;
    for (let j = 0; j < n; j++) {
      const i = perm[j];
      const c = counts(i);
      const g = total === 0 ? Math.floor((j * blocks) / n) : Math.floor((blocks * (before + c / 2)) / total);
      group[i] = Math.min(blocks - 1, g);
      before += c;
    }
  }
  // Stable counting sort by group.
  const start = new Uint32Array(blocks + 1);
  for (let i = 0; i < n; i++) start[group[i] + 1]++;
  for (let g = 0; g < blocks; g++) start[g + 1] += start[g];
  const next = start.slice(0, blocks);
  const index = new Uint32Array(n);
  for (let i = 0; i < n; i++) index[i] = next[group[i]]++;
  return { group, index, start };
}

/**
 * Partition users and movies into `blocks` groups each (seeded) and count segments and ratings per
 * block. With `exclude` (1 byte per by-user position, 1 = left out), the ratings left out count
 * nowhere: the partition of the matrix without them (same users and movies at the same indices).
 */
export function partitionRatings(train: RatingMatrix, blocks: number, rng: Random, exclude: Uint8Array | null = null): SgdPartition {
  const B = blocks;
  const userPtr = train.userPtr;
  const moviePtr = train.moviePtr;
  const kept = exclude ? keptCounts(train, exclude) : null;
  const total = kept ? kept.total : train.nRatings;
  const userCount = kept ? (u: number) => kept.users[u] : (u: number) => userPtr[u + 1] - userPtr[u];
  const movieCount = kept ? (m: number) => kept.movies[m] : (m: number) => moviePtr[m + 1] - moviePtr[m];
  const users = balancedGroups(userCount, train.nUsers, B, total, rng);
  const movieGroups = balancedGroups(movieCount, train.nMovies, B, total, rng);
  const userBlock = users.group;
  const movieBlock = movieGroups.group;
  const blockSegments = new Uint32Array(B * B);
  const blockRatings = new Uint32Array(B * B);
  const perMovieBlock = new Uint32Array(B);
  const movies = train.userMovies;
  for (let u = 0; u < train.nUsers; u++) {
    const row = userBlock[u] * B;
    perMovieBlock.fill(0);
    for (let k = userPtr[u]; k < userPtr[u + 1]; k++) if (exclude === null || exclude[k] === 0) perMovieBlock[movieBlock[movies[k]]]++;
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
    userStart: users.start,
    movieStart: movieGroups.start,
    blockSegments,
    blockRatings,
  };
}

const alignTo = (x: number, alignment: number): number => Math.ceil(x / alignment) * alignment;

/**
 * Hands out byte offsets of one linear memory, one array after the other, from the first KiB on
 * (offset 0 never holds data): `take(bytes, alignment = 16)` returns an array's offset (a multiple
 * of `alignment`: 64 starts an array on a cache line), `end()` the bytes the memory must hold.
 */
export function memoryPlan(): { take: (bytes: number, alignment?: number) => number; end: () => number } {
  let at = FIRST_OFFSET;
  return {
    take: (bytes, alignment = 16) => {
      const offset = alignTo(at, alignment);
      at = alignTo(offset + bytes, 16);
      return offset;
    },
    end: () => at,
  };
}

/** Byte offsets of every array for a matrix, factor count and partition (its ratings: those the partition counts). */
export function planLayout(train: RatingMatrix, factors: number, partition: SgdPartition): SgdLayout {
  const kp = Math.ceil(factors / 4) * 4;
  let nSegments = 0;
  let nRatings = 0;
  for (let b = 0; b < partition.blockSegments.length; b++) {
    nSegments += partition.blockSegments[b];
    nRatings += partition.blockRatings[b];
  }
  const { take, end } = memoryPlan();
  const P = take(train.nUsers * kp * 4);
  const Q = take(train.nMovies * kp * 4);
  const userBias = take(train.nUsers * 4);
  const movieBias = take(train.nMovies * 4);
  const ratings = take(nRatings * 4);
  const segUser = take(nSegments * 4);
  const segOff = take((nSegments + 1) * 4);
  return {
    nUsers: train.nUsers,
    nMovies: train.nMovies,
    nRatings,
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
 * `blockSeg` (B × B + 1 segment offsets per block). Users in matrix order and each user's
 * ratings in the matrix's ascending movie order give, by {@link balancedGroups}' numbering,
 * segments in ascending internal user index within a block and ratings in ascending internal
 * movie index within a segment.
 */
export function writeRatings(buffer: ArrayBuffer | SharedArrayBuffer, layout: SgdLayout, train: RatingMatrix, partition: SgdPartition, exclude: Uint8Array | null = null): Uint32Array {
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
  const { userBlock, movieBlock, userIndex, movieIndex } = partition;
  const userPtr = train.userPtr;
  const movies = train.userMovies;
  const codes = train.userRatings;
  const cursor = new Uint32Array(B);
  const perMovieBlock = new Uint32Array(B);
  for (let u = 0; u < train.nUsers; u++) {
    const row = userBlock[u] * B;
    perMovieBlock.fill(0);
    for (let k = userPtr[u]; k < userPtr[u + 1]; k++) if (exclude === null || exclude[k] === 0) perMovieBlock[movieBlock[movies[k]]]++;
    for (let mb = 0; mb < B; mb++) {
      if (perMovieBlock[mb] === 0) continue;
      const b = row + mb;
      const s = nextSeg[b]++;
      u32[segUser + s] = userIndex[u];
      u32[segOff + s] = nextRating[b];
      cursor[mb] = nextRating[b];
      nextRating[b] += perMovieBlock[mb];
    }
    for (let k = userPtr[u]; k < userPtr[u + 1]; k++) {
      if (exclude !== null && exclude[k] !== 0) continue;
      const m = movies[k];
      u32[ratings + cursor[movieBlock[m]]++] = ((movieIndex[m] << 8) | codes[k]) >>> 0;
    }
  }
  u32[segOff + layout.nSegments] = layout.nRatings;
  return blockSeg;
}

/**
 * Fill the first `factors` floats of each of `rows` rows of kp floats at byte `offset` with
 * N(mean, std²) draws, row after row in memory order (pads stay 0).
 */
export function initFactors(
  buffer: ArrayBuffer | SharedArrayBuffer,
  offset: number,
  rows: number,
  factors: number,
  kp: number,
  mean: number,
  std: number,
  rng: Random,
): void {
  const f32 = new Float32Array(buffer, offset, rows * kp);
  for (let r = 0; r < rows; r++) {
    const row = r * kp;
    for (let f = 0; f < factors; f++) f32[row + f] = mean + std * rng.normal();
  }
}
