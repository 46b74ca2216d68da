import * as fs from 'node:fs';
import * as os from 'node:os';
import * as zlib from 'node:zlib';
import { IdIndex, RatingMatrix, RatingScale, SnapshotError } from '@recsys/data';
import type { TrainingProgress } from './predictor';

/** The 8 ASCII bytes every model artifact starts with. */
export const ARTIFACT_MAGIC = 'RECSYSMD';
/** Format version this build writes and the newest it reads. */
export const ARTIFACT_VERSION = 1;

/*
 * Model artifact layout, format version 1 (integers little-endian):
 *
 *   0   magic "RECSYSMD" (8 bytes)
 *   8   u32 format version
 *   12  u32 byte length J of the JSON header
 *   16  u64 total file length in bytes
 *   24  u32 CRC-32 (zlib) of bytes [0, 24) and [28, end of file): everything but this field
 *   28  u32 reserved, zero
 *   32  JSON header, UTF-8, J bytes, zero padding to a multiple of 8
 *   sections, each starting at a multiple of 8 (zero padding between), in the order of the
 *   header's section table, so that every typed array can be a view over the buffer read.
 *
 * JSON header: { kind, params, trainedAt, history, fingerprint, scale, meta,
 *   sections: [{ name, type, offset, length }] }, offsets in bytes from the start of the file,
 *   lengths in elements of `type` (i8 u8 u16 i32 u32 f32 f64).
 */

const PREAMBLE_BYTES = 32;
const CHECKSUM_OFFSET = 24;

/** A model or container file that cannot be used (wrong magic, newer version, truncated, corrupt, unknown kind). */
export class ArtifactError extends SnapshotError {
  constructor(file: string, reason: string) {
    super(file, reason);
    Object.defineProperty(this, 'name', { value: 'ArtifactError' });
  }
}

export type SectionArray = Int8Array | Uint8Array | Uint16Array | Int32Array | Uint32Array | Float32Array | Float64Array;

type SectionType = 'i8' | 'u8' | 'u16' | 'i32' | 'u32' | 'f32' | 'f64';

const SECTION_TYPES: Record<SectionType, { bytes: number; make: (b: ArrayBuffer, offset: number, length: number) => SectionArray }> = {
  i8: { bytes: 1, make: (b, o, n) => new Int8Array(b, o, n) },
  u8: { bytes: 1, make: (b, o, n) => new Uint8Array(b, o, n) },
  u16: { bytes: 2, make: (b, o, n) => new Uint16Array(b, o, n) },
  i32: { bytes: 4, make: (b, o, n) => new Int32Array(b, o, n) },
  u32: { bytes: 4, make: (b, o, n) => new Uint32Array(b, o, n) },
  f32: { bytes: 4, make: (b, o, n) => new Float32Array(b, o, n) },
  f64: { bytes: 8, make: (b, o, n) => new Float64Array(b, o, n) },
};

function sectionType(a: SectionArray): SectionType {
  if (a instanceof Int8Array) return 'i8';
  if (a instanceof Uint8Array) return 'u8';
  if (a instanceof Uint16Array) return 'u16';
  if (a instanceof Int32Array) return 'i32';
  if (a instanceof Uint32Array) return 'u32';
  if (a instanceof Float32Array) return 'f32';
  return 'f64';
}

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
  /** Fingerprint of the training data. */
  fingerprint: DataFingerprint;
  scale: RatingScale;
  /** Model-specific JSON values (e.g. μ, factor count). */
  meta: Record<string, unknown>;
  /** Named typed arrays (biases, factors, id maps, the training matrix). */
  sections: Record<string, SectionArray>;
  /** ISO 8601 time of training; defaults to now when written. */
  trainedAt?: string;
}

/** An artifact as read back: the content plus the format facts. */
export interface ModelArtifact extends ArtifactContent {
  trainedAt: string;
  version: number;
  /** The path it was read from. */
  file: string;
}

interface SectionEntry {
  name: string;
  type: SectionType;
  offset: number;
  length: number;
}

function align8(n: number): number {
  return Math.ceil(n / 8) * 8;
}

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/**
 * Fingerprint of a training matrix: its counts and one CRC-32 chained over user ids, movie ids,
 * userPtr, userMovies and userRatings (the by-movie arrays are derived from these). Two matrices
 * with the same ratings and ids have the same fingerprint.
 */
export function fingerprintMatrix(matrix: RatingMatrix): DataFingerprint {
  let crc = 0;
  for (const a of [matrix.users.ids, matrix.movies.ids, matrix.userPtr, matrix.userMovies, matrix.userRatings]) {
    crc = zlib.crc32(bytesOf(a), crc);
  }
  return { users: matrix.nUsers, movies: matrix.nMovies, ratings: matrix.nRatings, crc32: crc.toString(16).padStart(8, '0') };
}

/** Section names used by {@link matrixSections} (after the prefix). */
type MatrixSectionName =
  | 'userIds'
  | 'movieIds'
  | 'userPtr'
  | 'userMovies'
  | 'userRatings'
  | 'userDays'
  | 'moviePtr'
  | 'movieUsers'
  | 'movieRatings';

/**
 * The training matrix as artifact sections, names prefixed by `prefix` (default `matrix.`): user
 * and movie ids (the id maps), both sparse layouts, and the days when the matrix has them.
 */
export function matrixSections(matrix: RatingMatrix, prefix = 'matrix.'): Record<string, SectionArray> {
  const out: Record<string, SectionArray> = {
    [`${prefix}userIds`]: matrix.users.ids,
    [`${prefix}movieIds`]: matrix.movies.ids,
    [`${prefix}userPtr`]: matrix.userPtr,
    [`${prefix}userMovies`]: matrix.userMovies,
    [`${prefix}userRatings`]: matrix.userRatings,
    [`${prefix}moviePtr`]: matrix.moviePtr,
    [`${prefix}movieUsers`]: matrix.movieUsers,
    [`${prefix}movieRatings`]: matrix.movieRatings,
  };
  if (matrix.userDays !== null) out[`${prefix}userDays`] = matrix.userDays;
  return out;
}

/**
 * Rebuilds the training matrix written by {@link matrixSections} (arrays are used as they are, no
 * copy) and checks it against the artifact's fingerprint.
 * @throws ArtifactError when a section is missing, has the wrong type, or the data does not match.
 */
export function matrixFromSections(artifact: ModelArtifact, prefix = 'matrix.'): RatingMatrix {
  const s = artifact.sections;
  const get = <T extends SectionArray>(name: MatrixSectionName, ctor: new (n: number) => T, optional = false): T | null => {
    const a = s[prefix + name];
    if (a === undefined) {
      if (optional) return null;
      throw new ArtifactError(artifact.file, `section "${prefix}${name}" is missing`);
    }
    if (!(a instanceof ctor)) throw new ArtifactError(artifact.file, `section "${prefix}${name}" has type ${sectionType(a)}, expected ${ctor.name}`);
    return a;
  };
  let matrix: RatingMatrix;
  try {
    matrix = new RatingMatrix(
      IdIndex.fromSorted(get('userIds', Int32Array)!),
      IdIndex.fromSorted(get('movieIds', Int32Array)!),
      artifact.scale,
      get('userPtr', Uint32Array)!,
      get('userMovies', Int32Array)!,
      get('userRatings', Uint8Array)!,
      get('userDays', Uint16Array, true),
      get('moviePtr', Uint32Array)!,
      get('movieUsers', Int32Array)!,
      get('movieRatings', Uint8Array)!,
    );
  } catch (e) {
    if (e instanceof ArtifactError) throw e;
    throw new ArtifactError(artifact.file, `the training matrix sections are inconsistent: ${(e as Error).message}`);
  }
  const found = fingerprintMatrix(matrix);
  const expected = artifact.fingerprint;
  if (
    found.crc32 !== expected.crc32 ||
    found.users !== expected.users ||
    found.movies !== expected.movies ||
    found.ratings !== expected.ratings
  ) {
    throw new ArtifactError(
      artifact.file,
      `the training matrix does not match the data fingerprint (found ${JSON.stringify(found)}, header says ${JSON.stringify(expected)})`,
    );
  }
  return matrix;
}

function requireLittleEndian(file: string): void {
  if (os.endianness() !== 'LE') throw new ArtifactError(file, 'model artifacts need a little-endian host');
}

/** Encodes an artifact into one buffer (layout above). */
export function encodeModelArtifact(content: ArtifactContent, file = '<memory>'): Buffer {
  requireLittleEndian(file);
  const names = Object.keys(content.sections);
  const entries: SectionEntry[] = [];
  // The offsets depend on the header length, which depends on the offsets' digits: iterate to a
  // fixed point (the header only grows, so two or three rounds suffice).
  let headerBytes = Buffer.alloc(0);
  let reserved = 0;
  for (let round = 0; round < 10; round++) {
    entries.length = 0;
    let offset = align8(PREAMBLE_BYTES + reserved);
    for (const name of names) {
      const a = content.sections[name];
      const type = sectionType(a);
      entries.push({ name, type, offset, length: a.length });
      offset = align8(offset + a.byteLength);
    }
    const header = {
      kind: content.kind,
      params: content.params,
      trainedAt: content.trainedAt ?? new Date().toISOString(),
      history: content.history,
      fingerprint: content.fingerprint,
      scale: { min: content.scale.min, max: content.scale.max, step: content.scale.step },
      meta: content.meta,
      sections: entries,
    };
    headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
    if (align8(headerBytes.length) <= reserved) break;
    reserved = align8(headerBytes.length);
  }
  const last = entries[entries.length - 1];
  const total = last ? align8(last.offset + content.sections[last.name].byteLength) : align8(PREAMBLE_BYTES + reserved);
  const out = Buffer.alloc(total);
  out.write(ARTIFACT_MAGIC, 0, 'latin1');
  out.writeUInt32LE(ARTIFACT_VERSION, 8);
  out.writeUInt32LE(headerBytes.length, 12);
  out.writeBigUInt64LE(BigInt(total), 16);
  headerBytes.copy(out, PREAMBLE_BYTES);
  for (const e of entries) out.set(bytesOf(content.sections[e.name]), e.offset);
  out.writeUInt32LE(artifactChecksum(out), CHECKSUM_OFFSET);
  return out;
}

function artifactChecksum(all: Uint8Array): number {
  return zlib.crc32(all.subarray(CHECKSUM_OFFSET + 4), zlib.crc32(all.subarray(0, CHECKSUM_OFFSET)));
}

/**
 * Decodes an artifact from the bytes of a file. Sections are views over `bytes` when it is
 * 8-byte aligned (otherwise over one aligned copy).
 * @throws ArtifactError on wrong magic, a newer format version, truncation, checksum mismatch or
 *   a malformed header.
 */
export function decodeModelArtifact(bytes: Uint8Array, file = '<memory>'): ModelArtifact {
  requireLittleEndian(file);
  if (bytes.byteLength < PREAMBLE_BYTES) {
    throw new ArtifactError(file, `truncated: ${bytes.byteLength} bytes, shorter than the ${PREAMBLE_BYTES}-byte preamble of a model artifact`);
  }
  const magic = Buffer.from(bytes.buffer, bytes.byteOffset, 8).toString('latin1');
  if (magic !== ARTIFACT_MAGIC) {
    throw new ArtifactError(file, `not a model artifact: the file starts with ${JSON.stringify(magic)}, expected "${ARTIFACT_MAGIC}"`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version > ARTIFACT_VERSION) {
    throw new ArtifactError(file, `format version ${version} is newer than this build reads (${ARTIFACT_VERSION}); upgrade recsys`);
  }
  if (version === 0) throw new ArtifactError(file, 'format version 0 is invalid');
  const headerLength = view.getUint32(12, true);
  const total = Number(view.getBigUint64(16, true));
  if (bytes.byteLength < total) throw new ArtifactError(file, `truncated: ${bytes.byteLength} bytes, the header says ${total}`);
  if (bytes.byteLength > total) throw new ArtifactError(file, `${bytes.byteLength - total} unexpected bytes after the ${total} the header announces`);
  const stored = view.getUint32(CHECKSUM_OFFSET, true);
  const actual = artifactChecksum(bytes);
  if (stored !== actual) {
    throw new ArtifactError(file, `checksum mismatch (stored ${hex(stored)}, computed ${hex(actual)}): the file is corrupt`);
  }
  if (PREAMBLE_BYTES + headerLength > total) throw new ArtifactError(file, `header length ${headerLength} runs past the end of the file`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + PREAMBLE_BYTES, headerLength).toString('utf8'));
  } catch (e) {
    throw new ArtifactError(file, `the JSON header does not parse: ${(e as Error).message}`);
  }
  if (typeof header.kind !== 'string' || header.kind === '') throw new ArtifactError(file, 'the header has no model kind');
  if (!Array.isArray(header.sections)) throw new ArtifactError(file, 'the header has no section table');
  const scale = header.scale as RatingScale | undefined;
  if (!scale || typeof scale.min !== 'number' || typeof scale.max !== 'number' || typeof scale.step !== 'number') {
    throw new ArtifactError(file, 'the header has no rating scale');
  }

  // Views need an 8-aligned base; a pooled or sliced Buffer may not be.
  let base = bytes;
  if (bytes.byteOffset % 8 !== 0) {
    base = new Uint8Array(bytes.byteLength);
    base.set(bytes);
  }
  const sections: Record<string, SectionArray> = {};
  for (const entry of header.sections as SectionEntry[]) {
    const type = SECTION_TYPES[entry.type];
    if (!type || typeof entry.name !== 'string' || !Number.isInteger(entry.offset) || !Number.isInteger(entry.length) || entry.length < 0) {
      throw new ArtifactError(file, `malformed section entry ${JSON.stringify(entry)}`);
    }
    if (entry.offset % 8 !== 0 || entry.offset < PREAMBLE_BYTES + headerLength || entry.offset + entry.length * type.bytes > total) {
      throw new ArtifactError(file, `section "${entry.name}" (offset ${entry.offset}, ${entry.length} × ${entry.type}) lies outside the file`);
    }
    sections[entry.name] = type.make(base.buffer as ArrayBuffer, base.byteOffset + entry.offset, entry.length);
  }
  return {
    kind: header.kind,
    params: (header.params ?? {}) as Record<string, unknown>,
    history: (header.history ?? []) as TrainingProgress[],
    fingerprint: header.fingerprint as DataFingerprint,
    scale: Object.freeze({ min: scale.min, max: scale.max, step: scale.step }),
    meta: (header.meta ?? {}) as Record<string, unknown>,
    sections,
    trainedAt: String(header.trainedAt ?? ''),
    version,
    file,
  };
}

function hex(n: number): string {
  return n.toString(16).padStart(8, '0');
}

/** Writes an artifact to `path` (whole file, replaced atomically through a temporary file). */
export function writeModelArtifact(path: string, content: ArtifactContent): void {
  const bytes = encodeModelArtifact(content, path);
  const temporary = `${path}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, bytes);
  fs.renameSync(temporary, path);
}

/** Reads and checks an artifact (see {@link decodeModelArtifact} for the refusals). */
export function readModelArtifact(path: string): ModelArtifact {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(path);
  } catch (e) {
    throw new ArtifactError(path, `cannot read the model file: ${(e as Error).message}`);
  }
  return decodeModelArtifact(bytes, path);
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
