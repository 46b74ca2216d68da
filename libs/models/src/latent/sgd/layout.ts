import { Random } from '@recsys/core';
import { RatingMatrix } from '@recsys/data';

/** Largest movie count the packed rating format `(movie << 8) | code` can address. */
export const MAX_KERNEL_MOVIES = 1 << 24;

/**
 * Floats from one bias to the next when worker threads train: 16, one 64-byte cache line each
 * (one thread keeps them packed, stride 1, which is faster there: fewer cache misses). With threads, two threads
 * update biases of different users and movies at once, but the block partition interleaves the
 * groups' indices, so packed f32 biases would share cache lines and every rating's bias store
 * would bounce a line between the cores (measured at 10M, 100 factors, 2 threads, 4 × 4 blocks:
 * 1.39 CPU s per epoch against 0.62 s for the same blocks on one thread). Costs 60 bytes per user
 * and movie (0.3 B/rating at the Prize's shape).
 */
export const THREADED_BIAS_STRIDE = 16;

/** Byte offset of the first array: the first KiB stays unused so that offset 0 never holds data. */
const FIRST_OFFSET = 1024;

/**
 * Where the SGD trainer keeps everything in one linear memory (byte offsets, 16-byte aligned).
 *
 * - `P` users × kp f32, `Q` movies × kp f32: factor rows padded to kp = 4·⌈k/4⌉ with zeros;
 *   `userBias`, `movieBias`: f32, one every `biasStride` floats (1, or {@link THREADED_BIAS_STRIDE}
 *   with worker threads: a cache line each).
 * - The ratings, cut into B × B blocks (user block × movie block, block b = ub·B + mb) and inside
 *   a block into segments, one per user with ratings there: segment s is user `segUser[s]` with
 *   the packed ratings `ratings[segOff[s] .. segOff[s+1])`, each `(movie << 8) | (stars × 2)`
 *   (4 bytes a rating), movies ascending. Block b owns segments `blockSeg[b] .. blockSeg[b+1]−1`.
 * - `order`: the processing order of segments, a permutation within each block's range,
 *   reshuffled in place every epoch.
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
  /** Floats from one bias to the next (1 or THREADED_BIAS_STRIDE). */
  readonly biasStride: number;
  readonly userBias: number;
  readonly movieBias: number;
  readonly ratings: number;
  readonly segUser: number;
  readonly segOff: number;
  readonly order: number;
  /** Bytes the memory must hold. */
  readonly bytes: number;
}

/** The block partition of a training matrix: which user block and movie block each index falls in. */
export interface SgdPartition {
  readonly blocks: number;
  readonly userBlock: Uint8Array | Uint16Array;
  readonly movieBlock: Uint8Array | Uint16Array;
  /** Segments per block (B × B) and ratings per block. */
  readonly blockSegments: Uint32Array;
  readonly blockRatings: Uint32Array;
}

/**
 * Cut `count.length` items into `blocks` groups of about equal total count: items in a seeded
 * random order, item i joining group ⌊B·(c_before + c_i/2)/total⌋ (c_before: count of the items
 * placed before it). Random assignment keeps each block a fair sample of users (or movies).
 */
function balancedGroups(counts: (i: number) => number, n: number, blocks: number, total: number, rng: Random): Uint8Array | Uint16Array {
  const group = blocks <= 256 ? new Uint8Array(n) : new Uint16Array(n);
  if (blocks === 1) return group;
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
  return group;
}

/** Partition users and movies into `blocks` groups each (seeded) and count segments and ratings per block. */
export function partitionRatings(train: RatingMatrix, blocks: number, rng: Random): SgdPartition {
  const B = blocks;
  const userPtr = train.userPtr;
  const moviePtr = train.moviePtr;
  const userBlock = balancedGroups((u) => userPtr[u + 1] - userPtr[u], train.nUsers, B, train.nRatings, rng);
  const movieBlock = balancedGroups((m) => moviePtr[m + 1] - moviePtr[m], train.nMovies, B, train.nRatings, rng);
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
  return { blocks: B, userBlock, movieBlock, blockSegments, blockRatings };
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
export function planLayout(train: RatingMatrix, factors: number, partition: SgdPartition, biasStride = 1): SgdLayout {
  if (biasStride !== 1 && biasStride !== THREADED_BIAS_STRIDE) throw new RangeError(`planLayout: biasStride must be 1 or ${THREADED_BIAS_STRIDE}, got ${biasStride}`);
  const kp = Math.ceil(factors / 4) * 4;
  let nSegments = 0;
  for (let b = 0; b < partition.blockSegments.length; b++) nSegments += partition.blockSegments[b];
  const { take, end } = memoryPlan();
  const P = take(train.nUsers * kp * 4);
  const Q = take(train.nMovies * kp * 4);
  const userBias = take(train.nUsers * biasStride * 4);
  const movieBias = take(train.nMovies * biasStride * 4);
  const ratings = take(train.nRatings * 4);
  const segUser = take(nSegments * 4);
  const segOff = take((nSegments + 1) * 4);
  const order = take(nSegments * 4);
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
    biasStride,
    userBias,
    movieBias,
    ratings,
    segUser,
    segOff,
    order,
    bytes: end(),
  };
}

/**
 * Write the ratings, segments and identity order into `buffer` (zero-filled) as `layout` says and
 * return `blockSeg` (B × B + 1 segment offsets per block). Segments within a block follow
 * ascending user index; ratings within a segment ascending movie index.
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
  const order = layout.order >>> 2;
  const { userBlock, movieBlock } = partition;
  const userPtr = train.userPtr;
  const movies = train.userMovies;
  const codes = train.userRatings;
  const cursor = new Uint32Array(B);
  const perMovieBlock = new Uint32Array(B);
  for (let u = 0; u < train.nUsers; u++) {
    const row = userBlock[u] * B;
    perMovieBlock.fill(0);
    for (let k = userPtr[u]; k < userPtr[u + 1]; k++) perMovieBlock[movieBlock[movies[k]]]++;
    for (let mb = 0; mb < B; mb++) {
      if (perMovieBlock[mb] === 0) continue;
      const b = row + mb;
      const s = nextSeg[b]++;
      u32[segUser + s] = u;
      u32[segOff + s] = nextRating[b];
      cursor[mb] = nextRating[b];
      nextRating[b] += perMovieBlock[mb];
    }
    for (let k = userPtr[u]; k < userPtr[u + 1]; k++) {
      const m = movies[k];
      u32[ratings + cursor[movieBlock[m]]++] = ((m << 8) | codes[k]) >>> 0;
    }
  }
  u32[segOff + layout.nSegments] = layout.nRatings;
  for (let s = 0; s < layout.nSegments; s++) u32[order + s] = s;
  return blockSeg;
}

/** Fill the first `factors` floats of each of `rows` rows of kp floats at byte `offset` with N(mean, std²) draws (pads stay 0). */
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
