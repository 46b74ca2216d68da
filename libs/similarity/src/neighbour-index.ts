import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { ContainerFormat, decodeContainer, encodeContainer, MatrixArrays, SectionArray, sectionType, shareArray, shareMatrixArrays, workerScript } from '@recsys/core';
import { SnapshotError } from '@recsys/data';
import type { NeighbourWorkerInput, NeighbourWorkerMessage } from './neighbour-worker-protocol';
import {
  checkMovieIndex,
  Neighbour,
  resolveSimilarityOptions,
  SimilarityMetric,
  SIMILARITY_METRICS,
  SimilarityOptions,
  SimilarityScorer,
} from './similarity';

/**
 * The top-K neighbours of every movie, in one CSR-like layout: the neighbours of internal movie m
 * are positions `ptr[m] .. ptr[m+1]-1` of `neighbours` (internal movie indices), `similarities`
 * (float32) and `supports` (common raters), best first, exactly what `mostSimilar(m, k)` returns
 * with the same options (similarities rounded to float32).
 */
export class NeighbourIndex {
  constructor(
    readonly metric: SimilarityMetric,
    readonly k: number,
    readonly minSupport: number,
    readonly shrinkage: number,
    readonly nMovies: number,
    /** nMovies + 1 offsets. */
    readonly ptr: Uint32Array,
    readonly neighbours: Int32Array,
    readonly similarities: Float32Array,
    readonly supports: Int32Array,
  ) {
    const n = neighbours.length;
    if (ptr.length !== nMovies + 1 || ptr[0] !== 0 || ptr[nMovies] !== n || similarities.length !== n || supports.length !== n) {
      throw new RangeError('NeighbourIndex: array lengths disagree');
    }
  }

  /** Neighbours of internal movie m, best first (O(k): a view of the arrays turned into objects). */
  neighboursOf(m: number): Neighbour[] {
    checkMovieIndex(m, this.nMovies);
    const start = this.ptr[m];
    const end = this.ptr[m + 1];
    const out: Neighbour[] = new Array(end - start);
    for (let p = start; p < end; p++) {
      out[p - start] = { movie: this.neighbours[p], similarity: this.similarities[p], support: this.supports[p] };
    }
    return out;
  }

  /** Bytes held by the four arrays. */
  get byteLength(): number {
    return this.ptr.byteLength + this.neighbours.byteLength + this.similarities.byteLength + this.supports.byteLength;
  }
}

export interface NeighbourIndexOptions extends SimilarityOptions {
  /** Neighbours kept per movie. Default 50. */
  k?: number;
  /** Worker threads. Default `os.availableParallelism()`. */
  threads?: number;
  /** Called as movies finish: (movies done, nMovies). */
  onProgress?: (done: number, total: number) => void;
}

function resolveK(k: number | undefined): number {
  const value = k ?? 50;
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`k must be a non-negative integer, got ${value}`);
  return value;
}

/** Packs k slots per movie into the CSR layout. */
function compact(
  o: { metric: SimilarityMetric; minSupport: number; shrinkage: number },
  k: number,
  nMovies: number,
  counts: Int32Array,
  slotNeighbours: Int32Array,
  slotSimilarities: Float32Array,
  slotSupports: Int32Array,
): NeighbourIndex {
  const ptr = new Uint32Array(nMovies + 1);
  for (let m = 0; m < nMovies; m++) ptr[m + 1] = ptr[m] + counts[m];
  const total = ptr[nMovies];
  const neighbours = new Int32Array(total);
  const similarities = new Float32Array(total);
  const supports = new Int32Array(total);
  for (let m = 0; m < nMovies; m++) {
    const from = m * k;
    const to = from + counts[m];
    neighbours.set(slotNeighbours.subarray(from, to), ptr[m]);
    similarities.set(slotSimilarities.subarray(from, to), ptr[m]);
    supports.set(slotSupports.subarray(from, to), ptr[m]);
  }
  return new NeighbourIndex(o.metric, k, o.minSupport, o.shrinkage, nMovies, ptr, neighbours, similarities, supports);
}

/**
 * The single-threaded build on the calling thread (the reference for buildNeighbourIndex, and
 * fine for small matrices): one SimilarityScorer query per movie.
 */
export function buildNeighbourIndexSync(
  matrix: MatrixArrays,
  options: Omit<NeighbourIndexOptions, 'threads'> = {},
): NeighbourIndex {
  const k = resolveK(options.k);
  const o = resolveSimilarityOptions(matrix, options);
  const nM = matrix.nMovies;
  const scorer = new SimilarityScorer(matrix, { ...o, baselines: o.baselines ?? undefined });
  const counts = new Int32Array(nM);
  const neighbours = new Int32Array(nM * k);
  const similarities = new Float32Array(nM * k);
  const supports = new Int32Array(nM * k);
  for (let m = 0; m < nM; m++) {
    counts[m] = scorer.mostSimilarInto(m, k, neighbours, similarities, supports, m * k);
    if (options.onProgress) options.onProgress(m + 1, nM);
  }
  return compact(o, k, nM, counts, neighbours, similarities, supports);
}

/**
 * Top-K neighbours of every movie (K default 50), built in parallel worker threads (default
 * `os.availableParallelism()`) over SharedArrayBuffers: the matrix arrays are copied into shared
 * memory once (not at all when they already are shared). Workers take movies from a shared cursor,
 * most expensive first (cost Σ_{u∈U_m} |I_u|), so the threads finish together. The result is the
 * same as buildNeighbourIndexSync's (each movie's query is independent and deterministic).
 * Total cost O(Σ_u |I_u|²). For pearson-baseline without `baselines`, they are fitted first on the
 * calling thread.
 */
export async function buildNeighbourIndex(matrix: MatrixArrays, options: NeighbourIndexOptions = {}): Promise<NeighbourIndex> {
  const k = resolveK(options.k);
  const o = resolveSimilarityOptions(matrix, options);
  const threads = options.threads ?? availableParallelism();
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`threads must be a positive integer, got ${threads}`);
  const nM = matrix.nMovies;
  const onProgress = options.onProgress;
  if (nM === 0) return compact(o, k, 0, new Int32Array(0), new Int32Array(0), new Float32Array(0), new Int32Array(0));

  // Most expensive movies first (longest-processing-time-first keeps the threads balanced).
  const { userPtr, moviePtr, movieUsers } = matrix;
  const cost = new Float64Array(nM);
  for (let m = 0; m < nM; m++) {
    let c = 0;
    for (let p = moviePtr[m]; p < moviePtr[m + 1]; p++) {
      const u = movieUsers[p];
      c += userPtr[u + 1] - userPtr[u];
    }
    cost[m] = c;
  }
  const orderArray = new Int32Array(new SharedArrayBuffer(4 * nM));
  for (let m = 0; m < nM; m++) orderArray[m] = m;
  orderArray.sort((a, b) => cost[b] - cost[a] || a - b);

  const slots = nM * k;
  const counts = new Int32Array(new SharedArrayBuffer(4 * nM));
  const neighbours = new Int32Array(new SharedArrayBuffer(4 * slots));
  const similarities = new Float32Array(new SharedArrayBuffer(4 * slots));
  const supports = new Int32Array(new SharedArrayBuffer(4 * slots));
  const input: NeighbourWorkerInput = {
    matrix: shareMatrixArrays(matrix),
    metric: o.metric,
    minSupport: o.minSupport,
    shrinkage: o.shrinkage,
    baselines:
      o.baselines === null
        ? null
        : { globalMean: o.baselines.globalMean, userBias: shareArray(o.baselines.userBias), movieBias: shareArray(o.baselines.movieBias) },
    k,
    order: orderArray.buffer as SharedArrayBuffer,
    cursor: new SharedArrayBuffer(4),
    counts: counts.buffer as SharedArrayBuffer,
    neighbours: neighbours.buffer as SharedArrayBuffer,
    similarities: similarities.buffer as SharedArrayBuffer,
    supports: supports.buffer as SharedArrayBuffer,
    progressEvery: Math.max(1, Math.floor(nM / 200)),
  };

  const { filename, options: workerOptions } = workerScript(__dirname, 'neighbour-worker');
  const nWorkers = Math.min(threads, nM);
  let done = 0;
  const workers: Worker[] = [];
  try {
    await Promise.all(
      Array.from({ length: nWorkers }, () => {
        const worker = new Worker(filename, { ...workerOptions, workerData: input });
        workers.push(worker);
        return new Promise<void>((resolve, reject) => {
          let finished = false;
          worker.on('message', (message: NeighbourWorkerMessage) => {
            done += message.done;
            if (onProgress && message.done > 0) onProgress(done, nM);
            if (message.type === 'finished') finished = true;
          });
          worker.on('error', reject);
          worker.on('exit', (code) => {
            if (finished && code === 0) resolve();
            else reject(new Error(`neighbour index worker stopped with exit code ${code} before finishing`));
          });
        });
      }),
    );
  } catch (error) {
    await Promise.all(workers.map((w) => w.terminate()));
    throw error;
  }
  return compact(o, k, nM, counts, neighbours, similarities, supports);
}

const MAGIC = 'RSNBRIDX';
const SOURCE = 'neighbour index';

/**
 * Binary form of a NeighbourIndex, format version 2: the container of @recsys/core (magic
 * `RSNBRIDX`, CRC-32, 8-byte aligned sections) with the JSON header
 * `{metric, k, minSupport, shrinkage, nMovies, entries}` and the sections `ptr` (u32 ×
 * (nMovies+1)), `neighbours` (i32 × entries), `similarities` (f32 × entries), `supports` (i32 ×
 * entries). Version 1 (a 16-byte preamble, no checksum) is refused as older.
 */
const NEIGHBOUR_INDEX_FORMAT: ContainerFormat = {
  magic: MAGIC,
  version: 2,
  name: SOURCE,
  error: (file, reason) => new SnapshotError(file, reason),
  reasons: {
    magic: () => `not a neighbour index (magic ${MAGIC} missing)`,
    truncated: (expected, found) => `truncated: ${found} bytes, expected ${expected}`,
  },
};

interface Header {
  metric: SimilarityMetric;
  k: number;
  minSupport: number;
  shrinkage: number;
  nMovies: number;
  entries: number;
}

/** The bytes of a NeighbourIndex (layout above), to embed in a model artifact. */
export function serializeNeighbourIndex(index: NeighbourIndex): Uint8Array {
  const header: Header = {
    metric: index.metric,
    k: index.k,
    minSupport: index.minSupport,
    shrinkage: index.shrinkage,
    nMovies: index.nMovies,
    entries: index.neighbours.length,
  };
  const sections = { ptr: index.ptr, neighbours: index.neighbours, similarities: index.similarities, supports: index.supports };
  const bytes = encodeContainer(NEIGHBOUR_INDEX_FORMAT, { header: { ...header }, sections }, SOURCE);
  // A plain Uint8Array (whose slice() copies), not the Buffer (whose slice() is a view).
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Reads serializeNeighbourIndex's bytes: the arrays are views over `bytes` when it is 8-byte
 * aligned (else over one aligned copy). SnapshotError when they are not a valid index.
 */
export function deserializeNeighbourIndex(bytes: Uint8Array): NeighbourIndex {
  const container = decodeContainer(NEIGHBOUR_INDEX_FORMAT, bytes, SOURCE);
  const header = container.header as unknown as Header;
  const { metric, k, minSupport, shrinkage, nMovies, entries } = header;
  if (
    !SIMILARITY_METRICS.includes(metric) ||
    ![k, minSupport, nMovies, entries].every((v) => Number.isInteger(v) && v >= 0) ||
    typeof shrinkage !== 'number'
  ) {
    throw new SnapshotError(SOURCE, `bad header ${JSON.stringify(header)}`);
  }
  const section = <T extends SectionArray>(name: string, ctor: new (n: number) => T, length: number): T => {
    const a = container.sections[name];
    if (!(a instanceof ctor)) throw new SnapshotError(SOURCE, `section "${name}" is ${a ? `of type ${sectionType(a)}` : 'missing'}, expected ${ctor.name}`);
    if (a.length !== length) throw new SnapshotError(SOURCE, `section "${name}" holds ${a.length} elements, expected ${length} for ${nMovies} movies and ${entries} entries`);
    return a;
  };
  const ptr = section('ptr', Uint32Array, nMovies + 1);
  const neighbours = section('neighbours', Int32Array, entries);
  const similarities = section('similarities', Float32Array, entries);
  const supports = section('supports', Int32Array, entries);
  if (ptr[0] !== 0 || ptr[nMovies] !== entries) throw new SnapshotError(SOURCE, 'offsets do not span the entries');
  for (let m = 0; m < nMovies; m++) {
    if (ptr[m + 1] < ptr[m] || ptr[m + 1] - ptr[m] > k) throw new SnapshotError(SOURCE, `bad offsets at movie ${m}`);
  }
  for (let p = 0; p < entries; p++) {
    if (neighbours[p] < 0 || neighbours[p] >= nMovies) throw new SnapshotError(SOURCE, `neighbour ${neighbours[p]} out of range at entry ${p}`);
  }
  return new NeighbourIndex(metric, k, minSupport, shrinkage, nMovies, ptr, neighbours, similarities, supports);
}
