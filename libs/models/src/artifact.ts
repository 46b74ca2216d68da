import * as zlib from 'node:zlib';
import { Container, ContainerFormat, decodeContainer, encodeContainer, readContainer, SectionArray, sectionType, writeContainer } from '@recsys/core';
import { holdoutSlice, holdoutSplit, RatingMatrix, RatingScale, SnapshotError } from '@recsys/data';
import type { TrainingProgress } from './predictor';

/** The 8 ASCII bytes every model artifact starts with. */
export const ARTIFACT_MAGIC = 'RECSYSMD';
/** Format version this build writes and the newest it reads. */
export const ARTIFACT_VERSION = 2;

/*
 * Model artifact, format version 2: the binary container of @recsys/core (magic "RECSYSMD") with
 * the JSON header
 *   { kind, params, trainedAt, history, fingerprint, source: { data, holdout }, scale, meta }
 * and only the sections prediction needs (biases, factors, similarities). The ratings are not in
 * it: the artifact refers to its training data by fingerprint (`source.data`), and the loader
 * supplies that data (see trainingMatrixFor), so a Netflix-size artifact is factors-sized.
 * Version 1 files (which embedded the training matrix) are refused as older.
 */

/** A model or container file that cannot be used (wrong magic, newer version, truncated, corrupt, unknown kind). */
export class ArtifactError extends SnapshotError {
  constructor(file: string, reason: string) {
    super(file, reason);
    Object.defineProperty(this, 'name', { value: 'ArtifactError' });
  }
}

export type { SectionArray } from '@recsys/core';

const ARTIFACT_FORMAT: ContainerFormat = {
  magic: ARTIFACT_MAGIC,
  version: ARTIFACT_VERSION,
  name: 'model artifact',
  error: (file, reason) => new ArtifactError(file, reason),
  reasons: {
    magic: (found) => `not a model artifact: the file starts with ${JSON.stringify(found)}, expected "${ARTIFACT_MAGIC}"`,
    newer: (version) => `format version ${version} is newer than this build reads (${ARTIFACT_VERSION}); upgrade recsys`,
    older: (version) => `format version ${version} is older than this build reads (${ARTIFACT_VERSION}: artifacts no longer embed the training ratings); train the model again`,
    truncatedHeader: (needed, found) => `truncated: ${found} bytes, shorter than the ${needed}-byte header of a model artifact`,
    truncated: (expected, found) => `truncated: ${found} bytes, the header says ${expected}`,
    trailing: (expected, found) => `${found - expected} unexpected bytes after the ${expected} the header announces`,
    checksum: (stored, computed) => `checksum mismatch (stored ${hex(stored)}, computed ${hex(computed)}): the file is corrupt`,
    malformed: (what) => what,
  },
};

/** Counts and a CRC-32 identifying a training matrix (see {@link fingerprintMatrix}). */
export interface DataFingerprint {
  users: number;
  movies: number;
  ratings: number;
  /** CRC-32 over the id, pointer, index and rating arrays, as 8 lower-case hex digits. */
  crc32: string;
}

/** What a model writes into an artifact. */
export interface ArtifactContent {
  kind: string;
  params: Record<string, unknown>;
  /** Per-epoch (or per-iteration) training progress. */
  history: TrainingProgress[];
  /** Fingerprint of the training ratings (after any held-out slice was removed). */
  fingerprint: DataFingerprint;
  /** The data the training ratings came from; default: the training ratings themselves. */
  source?: TrainingSource;
  scale: RatingScale;
  /** Model-specific JSON values (e.g. μ, factor count). */
  meta: Record<string, unknown>;
  /** Named typed arrays: what prediction needs (biases, factors, similarities), never the ratings. */
  sections: Record<string, SectionArray>;
  /** ISO 8601 time of training; defaults to now when written. */
  trainedAt?: string;
}

/** An artifact as read back: the content plus the format facts. */
export interface ModelArtifact extends ArtifactContent {
  trainedAt: string;
  source: TrainingSource;
  version: number;
  /** The path it was read from. */
  file: string;
}

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/**
 * Fingerprint of a training matrix: its counts and one CRC-32 chained over user ids, movie ids,
 * userPtr, userMovies and userRatings (the by-movie arrays are derived from these). Two matrices
 * with the same ratings and ids have the same fingerprint. With `exclude` (1 byte per by-user
 * position, 1 = left out, as a fit over the matrix with a mask leaves them out): the fingerprint
 * of the matrix without those ratings and with the same ids (what `holdoutSlice` builds from it),
 * computed in place in chunks, without that matrix.
 */
export function fingerprintMatrix(matrix: RatingMatrix, exclude?: Uint8Array): DataFingerprint {
  if (exclude) return maskedFingerprint(matrix, exclude);
  // A matrix's arrays are never changed once built, so its CRC (about 0.3 s over 100M ratings)
  // is computed once per matrix object and remembered for as long as the matrix lives.
  const known = fingerprints.get(matrix);
  if (known) return { ...known };
  let crc = 0;
  for (const a of [matrix.users.ids, matrix.movies.ids, matrix.userPtr, matrix.userMovies, matrix.userRatings]) {
    crc = zlib.crc32(bytesOf(a), crc);
  }
  const fingerprint = { users: matrix.nUsers, movies: matrix.nMovies, ratings: matrix.nRatings, crc32: crc.toString(16).padStart(8, '0') };
  fingerprints.set(matrix, fingerprint);
  return { ...fingerprint };
}

/** Entries kept per chunk of {@link maskedFingerprint}. */
const FINGERPRINT_CHUNK = 1 << 16;

/** {@link fingerprintMatrix} of `matrix` without the ratings `exclude` marks: the same bytes, gathered a chunk at a time. */
function maskedFingerprint(matrix: RatingMatrix, exclude: Uint8Array): DataFingerprint {
  if (exclude.length !== matrix.nRatings) throw new RangeError(`fingerprintMatrix: exclude has ${exclude.length} entries, expected one per rating (${matrix.nRatings})`);
  const { userPtr, userMovies, userRatings } = matrix;
  const ptr = new Uint32Array(matrix.nUsers + 1);
  for (let u = 0; u < matrix.nUsers; u++) {
    let kept = 0;
    for (let k = userPtr[u]; k < userPtr[u + 1]; k++) kept += exclude[k] === 0 ? 1 : 0;
    ptr[u + 1] = ptr[u] + kept;
  }
  let crc = 0;
  for (const a of [matrix.users.ids, matrix.movies.ids, ptr]) crc = zlib.crc32(bytesOf(a), crc);
  const keptOf = <T extends Int32Array | Uint8Array>(from: T, chunk: T): void => {
    let n = 0;
    for (let k = 0; k < from.length; k++) {
      if (exclude[k] !== 0) continue;
      chunk[n++] = from[k];
      if (n === chunk.length) {
        crc = zlib.crc32(bytesOf(chunk), crc);
        n = 0;
      }
    }
    if (n > 0) crc = zlib.crc32(bytesOf(chunk.subarray(0, n)), crc);
  };
  keptOf(userMovies, new Int32Array(FINGERPRINT_CHUNK));
  keptOf(userRatings, new Uint8Array(FINGERPRINT_CHUNK));
  return { users: matrix.nUsers, movies: matrix.nMovies, ratings: ptr[matrix.nUsers], crc32: crc.toString(16).padStart(8, '0') };
}

/** The fingerprint of each matrix already computed (see {@link fingerprintMatrix}). */
const fingerprints = new WeakMap<RatingMatrix, DataFingerprint>();

/** How the training ratings were drawn from the data the artifact refers to. */
export interface TrainingSource {
  /** Fingerprint of the data to supply when loading (all ratings, the held-out slice included). */
  data: DataFingerprint;
  /** The seeded slice held out of `data` before fitting (see holdoutSplit), or null: fitted on all of it. */
  holdout: { fraction: number; seed: number } | null;
}

/** Two fingerprints of the same matrix: equal counts and CRC-32. */
export function sameFingerprint(a: DataFingerprint, b: DataFingerprint): boolean {
  return a.crc32 === b.crc32 && a.users === b.users && a.movies === b.movies && a.ratings === b.ratings;
}

function describeFingerprint(f: DataFingerprint): string {
  return `${f.ratings.toLocaleString('en-US')} ratings, ${f.users.toLocaleString('en-US')} users, ${f.movies.toLocaleString('en-US')} movies, CRC-32 ${f.crc32}`;
}

/**
 * The training matrix of an artifact, rebuilt from the data it refers to: an artifact holds no
 * ratings (only what prediction needs: biases, factors, similarities), so whoever loads it supplies
 * the data it was trained on; the held-out slice, if any, is drawn again with its seed. The data's
 * fingerprint and the training matrix's must both match the header.
 * @throws ArtifactError naming both fingerprints when the data is not the model's.
 */
export function trainingMatrixFor(artifact: ModelArtifact, data: RatingMatrix): RatingMatrix {
  const source = artifact.source;
  const given = fingerprintMatrix(data);
  if (!sameFingerprint(given, source.data)) {
    throw new ArtifactError(
      artifact.file,
      `the model was trained on other data (${describeFingerprint(source.data)}); the data given has ${describeFingerprint(given)}`,
    );
  }
  const h = source.holdout;
  // An artifact of the guard keeps every user and movie of the data (holdoutSlice); one written
  // before that has the ids of what was left after the slice (holdoutSplit, ids re-derived).
  const keepsIndices = h !== null && artifact.fingerprint.users === data.nUsers && artifact.fingerprint.movies === data.nMovies;
  const train = h === null ? data : keepsIndices ? holdoutSlice(data, { testFraction: h.fraction, seed: h.seed, days: false }).train : holdoutSplit(data, { testFraction: h.fraction, seed: h.seed }).train;
  if (source.holdout && !sameFingerprint(fingerprintMatrix(train), artifact.fingerprint)) {
    throw new ArtifactError(artifact.file, `the training ratings drawn from the data (holdout ${JSON.stringify(source.holdout)}) do not match the header's fingerprint`);
  }
  return train;
}

/** The container header of an artifact: its JSON fields, in the order they are written. */
function artifactHeader(content: ArtifactContent): Record<string, unknown> {
  return {
    kind: content.kind,
    params: content.params,
    trainedAt: content.trainedAt ?? new Date().toISOString(),
    history: content.history,
    fingerprint: content.fingerprint,
    source: content.source ?? { data: content.fingerprint, holdout: null },
    // `implicit` only when set, so that rating-data artifacts keep the header they always had.
    scale: { min: content.scale.min, max: content.scale.max, step: content.scale.step, ...(content.scale.implicit === true ? { implicit: true } : {}) },
    meta: content.meta,
  };
}

/** Encodes an artifact into one buffer (the container of @recsys/core). */
export function encodeModelArtifact(content: ArtifactContent, file = '<memory>'): Buffer {
  return encodeContainer(ARTIFACT_FORMAT, { header: artifactHeader(content), sections: content.sections }, file);
}

/**
 * Decodes an artifact from the bytes of a file. Sections are views over `bytes` when it is
 * 8-byte aligned (otherwise over one aligned copy).
 * @throws ArtifactError on wrong magic, a newer format version, truncation, checksum mismatch or
 *   a malformed header.
 */
export function decodeModelArtifact(bytes: Uint8Array, file = '<memory>'): ModelArtifact {
  return artifactOf(decodeContainer(ARTIFACT_FORMAT, bytes, file), file);
}

function artifactOf(container: Container, file: string): ModelArtifact {
  const header = container.header;
  if (typeof header.kind !== 'string' || header.kind === '') throw new ArtifactError(file, 'the header has no model kind');
  const scale = header.scale as RatingScale | undefined;
  if (!scale || typeof scale.min !== 'number' || typeof scale.max !== 'number' || typeof scale.step !== 'number') {
    throw new ArtifactError(file, 'the header has no rating scale');
  }
  return {
    kind: header.kind,
    params: (header.params ?? {}) as Record<string, unknown>,
    history: (header.history ?? []) as TrainingProgress[],
    fingerprint: header.fingerprint as DataFingerprint,
    source: sourceOf(header, file),
    scale: Object.freeze({ min: scale.min, max: scale.max, step: scale.step, ...(scale.implicit === true ? { implicit: true } : {}) }),
    meta: (header.meta ?? {}) as Record<string, unknown>,
    sections: container.sections as Record<string, SectionArray>,
    trainedAt: String(header.trainedAt ?? ''),
    version: container.version,
    file,
  };
}

function sourceOf(header: Record<string, unknown>, file: string): TrainingSource {
  const source = header.source as TrainingSource | undefined;
  const valid = (f: unknown): f is DataFingerprint => {
    const x = f as DataFingerprint | null;
    return !!x && typeof x.crc32 === 'string' && Number.isInteger(x.users) && Number.isInteger(x.movies) && Number.isInteger(x.ratings);
  };
  if (!valid(header.fingerprint)) throw new ArtifactError(file, 'the header has no training-data fingerprint');
  if (source === undefined || !valid(source.data)) throw new ArtifactError(file, 'the header does not say which data the model was trained on');
  const h = source.holdout;
  if (h !== null && !(h && h.fraction > 0 && h.fraction < 1 && Number.isInteger(h.seed))) throw new ArtifactError(file, `malformed holdout ${JSON.stringify(h)}`);
  return { data: source.data, holdout: h ? { fraction: h.fraction, seed: h.seed } : null };
}

function hex(n: number): string {
  return n.toString(16).padStart(8, '0');
}

/** Writes an artifact to `path` (whole file, replaced atomically through a temporary file flushed to disk). */
export function writeModelArtifact(path: string, content: ArtifactContent): void {
  writeContainer(ARTIFACT_FORMAT, path, { header: artifactHeader(content), sections: content.sections });
}

/** Reads and checks an artifact (see {@link decodeModelArtifact} for the refusals). */
export function readModelArtifact(path: string): ModelArtifact {
  let container: Container;
  try {
    container = readContainer(ARTIFACT_FORMAT, path);
  } catch (e) {
    if (e instanceof ArtifactError) throw e;
    throw new ArtifactError(path, `cannot read the model file: ${(e as Error).message}`);
  }
  return artifactOf(container, path);
}

/** The section `name` as a `ctor` array, or an ArtifactError naming what is wrong. */
export function requireSection<T extends SectionArray>(
  artifact: ModelArtifact,
  name: string,
  ctor: new (n: number) => T,
  expectedLength?: number,
): T {
  const a = artifact.sections[name];
  if (a === undefined) throw new ArtifactError(artifact.file, `section "${name}" is missing`);
  if (!(a instanceof ctor)) throw new ArtifactError(artifact.file, `section "${name}" has type ${sectionType(a)}, expected ${ctor.name}`);
  if (expectedLength !== undefined && a.length !== expectedLength) {
    throw new ArtifactError(artifact.file, `section "${name}" has ${a.length} elements, expected ${expectedLength}`);
  }
  return a;
}

/** A finite number from the artifact's meta, or an ArtifactError. */
export function requireMetaNumber(artifact: ModelArtifact, name: string): number {
  const v = artifact.meta[name];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ArtifactError(artifact.file, `meta field "${name}" is missing or not a finite number (${JSON.stringify(v)})`);
  return v;
}

/**
 * The artifact content of a fitted model whose fit has no per-epoch history (imported, or fitted
 * in closed form): its kind, params, the fingerprint of its training matrix and scale, with `meta`
 * and `sections`.
 */
export function fittedArtifact(model: { kind: string; params: Readonly<Record<string, unknown>>; train: RatingMatrix }, meta: Record<string, unknown>, sections: Record<string, SectionArray>): ArtifactContent {
  const train = model.train;
  return { kind: model.kind, params: { ...model.params }, history: [], fingerprint: fingerprintMatrix(train), scale: train.scale, meta, sections };
}
