import * as fs from 'node:fs';
import { endianness } from 'node:os';
import * as zlib from 'node:zlib';
import { sharedBuffer } from './wasm-memory';

/*
 * The one binary container of the project's files (snapshots, model artifacts, neighbour
 * indexes): each format brings its magic, version, JSON header fields and named typed sections.
 *
 * Layout (integers little-endian):
 *
 *   0   magic (8 ASCII bytes, the format's)
 *   8   u32 format version
 *   12  u32 byte length J of the JSON header
 *   16  u64 total file length in bytes
 *   24  u32 CRC-32 (zlib) of bytes [0, 24) and [28, end of file): everything but this field
 *   28  u32 reserved, zero
 *   32  JSON header, UTF-8, J bytes, zero padding to a multiple of 8: the format's fields plus
 *       `sections: [{ name, type, offset, length }]`, offsets in bytes from the start of the file,
 *       lengths in elements of `type` (i8 u8 u16 i32 u32 f32 f64)
 *   sections, each starting at a multiple of 8 (zero padding between), in the order of the
 *   table, so that every typed array can be a view over the one buffer a file is read into.
 */

/** Bytes before the JSON header. */
export const CONTAINER_PREAMBLE_BYTES = 32;
const CHECKSUM_OFFSET = 24;
/** Largest single read/write: the fs calls take at most 2^31 - 1 bytes. */
const IO_CHUNK_BYTES = 1 << 30;

/** A typed array that can be a section. */
export type SectionArray = Int8Array | Uint8Array | Uint16Array | Int32Array | Uint32Array | Float32Array | Float64Array;
export type SectionType = 'i8' | 'u8' | 'u16' | 'i32' | 'u32' | 'f32' | 'f64';

const SECTION_TYPES: Record<SectionType, { bytes: number; make: (b: ArrayBufferLike, offset: number, length: number) => SectionArray }> = {
  i8: { bytes: 1, make: (b, o, n) => new Int8Array(b, o, n) },
  u8: { bytes: 1, make: (b, o, n) => new Uint8Array(b, o, n) },
  u16: { bytes: 2, make: (b, o, n) => new Uint16Array(b, o, n) },
  i32: { bytes: 4, make: (b, o, n) => new Int32Array(b, o, n) },
  u32: { bytes: 4, make: (b, o, n) => new Uint32Array(b, o, n) },
  f32: { bytes: 4, make: (b, o, n) => new Float32Array(b, o, n) },
  f64: { bytes: 8, make: (b, o, n) => new Float64Array(b, o, n) },
};

/** The type name of a section array in the table. */
export function sectionType(a: SectionArray): SectionType {
  if (a instanceof Int8Array) return 'i8';
  if (a instanceof Uint8Array) return 'u8';
  if (a instanceof Uint16Array) return 'u16';
  if (a instanceof Int32Array) return 'i32';
  if (a instanceof Uint32Array) return 'u32';
  if (a instanceof Float32Array) return 'f32';
  return 'f64';
}

/** A container file that cannot be used; the message is `file: reason`. */
export class ContainerError extends Error {
  override readonly name: string = 'ContainerError';
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
  }
}

/** Why a file is refused, in a format's words. */
export interface ContainerReasons {
  /** The file has no bytes. */
  empty(): string;
  /** The file does not start with the magic (`found`: its first bytes, up to 8, as latin1). */
  magic(found: string): string;
  /** Written by a newer format version than this build reads. */
  newer(version: number): string;
  /** Written by an older format version than this build reads. */
  older(version: number): string;
  /** Shorter than its preamble and JSON header (`needed` bytes). */
  truncatedHeader(needed: number, found: number): string;
  /** Shorter than the length its preamble announces. */
  truncated(expected: number, found: number): string;
  /** Longer than the length its preamble announces. */
  trailing(expected: number, found: number): string;
  /** The stored CRC-32 differs from the computed one. */
  checksum(stored: number, computed: number): string;
  /** Anything else wrong with the preamble, the JSON header or the section table. */
  malformed(what: string): string;
}

/** What a format brings to the container. */
export interface ContainerFormat {
  /** 8 ASCII characters at the start of every file. */
  readonly magic: string;
  /** The version written, and the newest read. */
  readonly version: number;
  /** The oldest version read; default `version`. Older files are refused as such. */
  readonly oldestVersion?: number;
  /** What the files are called in messages, e.g. "recsys snapshot". */
  readonly name: string;
  /** Makes the error thrown for a file and a reason; default a ContainerError. */
  readonly error?: (file: string, reason: string) => Error;
  /** Reasons in the format's own words, replacing those of {@link defaultReasons}. */
  readonly reasons?: Partial<ContainerReasons>;
}

/** What a file holds besides the format facts. */
export interface ContainerContent {
  /** The format's JSON header fields (`sections` is the container's own key). */
  readonly header: Readonly<Record<string, unknown>>;
  /** Named typed arrays, written in this order. */
  readonly sections: Readonly<Record<string, SectionArray>>;
}

/** A decoded container: its version, header fields and sections (views over the bytes read). */
export interface Container extends ContainerContent {
  readonly version: number;
}

interface SectionEntry {
  name: string;
  type: SectionType;
  offset: number;
  length: number;
}

/**
 * The refusal reasons of a format without its own: "not a NAME (empty file)", "not a NAME (the
 * file does not start with "MAGIC")", "written by a newer recsys: format version V, this build
 * reads up to N", "written by an older format version V, this build reads V₀ to N", "truncated:
 * expected N bytes, found M", "truncated: expected at least N bytes (the header), found M",
 * "corrupted: …" for trailing bytes, a checksum mismatch and a malformed header.
 */
export function defaultReasons(format: ContainerFormat): ContainerReasons {
  const oldest = format.oldestVersion ?? format.version;
  return {
    empty: () => `not a ${format.name} (empty file)`,
    magic: () => `not a ${format.name} (the file does not start with "${format.magic}")`,
    newer: (version) => `written by a newer recsys: format version ${version}, this build reads up to ${format.version}`,
    older: (version) =>
      `written by an older format version ${version}, this build reads ${oldest === format.version ? `version ${oldest} only` : `versions ${oldest} to ${format.version}`}: write it again`,
    truncatedHeader: (needed, found) => `truncated: expected at least ${needed} bytes (the header), found ${found}`,
    truncated: (expected, found) => `truncated: expected ${expected} bytes, found ${found}`,
    trailing: (expected, found) => `corrupted: expected ${expected} bytes, found ${found} (trailing bytes)`,
    checksum: (stored, computed) => `corrupted: checksum mismatch (stored ${hex(stored)}, computed ${hex(computed)})`,
    malformed: (what) => `corrupted: ${what}`,
  };
}

/** Throws the format's errors. */
class Refusal {
  readonly reasons: ContainerReasons;
  constructor(
    readonly format: ContainerFormat,
    readonly file: string,
  ) {
    this.reasons = { ...defaultReasons(format), ...format.reasons };
  }

  error(reason: string): Error {
    return this.format.error ? this.format.error(this.file, reason) : new ContainerError(this.file, reason);
  }
}

function requireLittleEndian(refuse: Refusal): void {
  // Typed-array views use the host's byte order; the layout is little-endian.
  if (endianness() !== 'LE') throw refuse.error(`${refuse.format.name} files need a little-endian host`);
}

function align8(n: number): number {
  return Math.ceil(n / 8) * 8;
}

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/**
 * CRC-32 of `bytes` continuing from `crc`. Empty input is skipped: Node's `zlib.crc32` returns 0
 * (not `crc`) for an empty view over a zero-length ArrayBuffer, since zlib's crc32 treats a null
 * data pointer as "start over".
 */
function crc32(bytes: Uint8Array, crc = 0): number {
  return bytes.byteLength === 0 ? crc : zlib.crc32(bytes, crc);
}

function hex(n: number): string {
  return '0x' + n.toString(16).padStart(8, '0');
}

/** Preamble, JSON header and its padding (checksum still zero), the section table and the total length. */
interface Plan {
  head: Buffer;
  entries: SectionEntry[];
  total: number;
}

function plan(format: ContainerFormat, content: ContainerContent, refuse: Refusal): Plan {
  requireLittleEndian(refuse);
  if (format.magic.length !== 8) throw new RangeError(`container: the magic must be 8 characters, got ${JSON.stringify(format.magic)}`);
  if ('sections' in content.header) throw new RangeError('container: "sections" is the container\'s own header key');
  const names = Object.keys(content.sections);
  const entries: SectionEntry[] = [];
  // The offsets depend on the header length, which depends on the offsets' digits: iterate to a
  // fixed point (the header only grows, so two or three rounds suffice).
  let json = Buffer.alloc(0);
  let reserved = 0;
  for (let round = 0; round < 10; round++) {
    entries.length = 0;
    let offset = align8(CONTAINER_PREAMBLE_BYTES + reserved);
    for (const name of names) {
      const a = content.sections[name];
      entries.push({ name, type: sectionType(a), offset, length: a.length });
      offset = align8(offset + a.byteLength);
    }
    json = Buffer.from(JSON.stringify({ ...content.header, sections: entries }), 'utf8');
    if (align8(json.length) <= reserved) break;
    reserved = align8(json.length);
  }
  const last = entries[entries.length - 1];
  const total = last ? align8(last.offset + content.sections[last.name].byteLength) : align8(CONTAINER_PREAMBLE_BYTES + reserved);
  const head = Buffer.alloc(align8(CONTAINER_PREAMBLE_BYTES + reserved));
  head.write(format.magic, 0, 'latin1');
  head.writeUInt32LE(format.version, 8);
  head.writeUInt32LE(json.length, 12);
  head.writeBigUInt64LE(BigInt(total), 16);
  json.copy(head, CONTAINER_PREAMBLE_BYTES);
  return { head, entries, total };
}

function checksumOf(all: Uint8Array): number {
  return crc32(all.subarray(CHECKSUM_OFFSET + 4), crc32(all.subarray(0, CHECKSUM_OFFSET))) >>> 0;
}

/** The whole file in one buffer (layout above). */
export function encodeContainer(format: ContainerFormat, content: ContainerContent, file = '<memory>'): Buffer {
  const { head, entries, total } = plan(format, content, new Refusal(format, file));
  const out = Buffer.alloc(total);
  head.copy(out, 0);
  for (const e of entries) out.set(bytesOf(content.sections[e.name]), e.offset);
  out.writeUInt32LE(checksumOf(out), CHECKSUM_OFFSET);
  return out;
}

/**
 * Writes the file to `path` atomically, without assembling it in memory: the bytes go to
 * `path + '.tmp-<pid>'` section by section, are flushed to disk, and the file is then renamed over
 * `path`, so a reader never sees a half-written file and a crash leaves any older file intact.
 */
export function writeContainer(format: ContainerFormat, path: string, content: ContainerContent): void {
  const { head, entries, total } = plan(format, content, new Refusal(format, path));
  let crc = crc32(head.subarray(0, CHECKSUM_OFFSET));
  crc = crc32(head.subarray(CHECKSUM_OFFSET + 4), crc);
  const padding = new Uint8Array(8);
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = fs.openSync(tmp, 'w');
  try {
    writeAll(fd, head, 0);
    let end = head.length;
    for (const e of entries) {
      const bytes = bytesOf(content.sections[e.name]);
      writeAll(fd, bytes, e.offset);
      crc = crc32(bytes, crc);
      end = e.offset + bytes.byteLength;
      const pad = align8(end) - end;
      if (pad > 0) {
        writeAll(fd, padding.subarray(0, pad), end);
        crc = crc32(padding.subarray(0, pad), crc);
        end += pad;
      }
    }
    if (end !== total) throw new Error(`container: wrote ${end} bytes of ${total}`);
    const checksum = Buffer.alloc(4);
    checksum.writeUInt32LE(crc >>> 0, 0);
    writeAll(fd, checksum, CHECKSUM_OFFSET);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
  } catch (e) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  try {
    fs.renameSync(tmp, path);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

function writeAll(fd: number, bytes: Uint8Array, position: number): void {
  let done = 0;
  while (done < bytes.byteLength) {
    const n = Math.min(IO_CHUNK_BYTES, bytes.byteLength - done);
    done += fs.writeSync(fd, bytes, done, n, position + done);
  }
}

/** Read up to `length` bytes at `position` into `target` from offset `at`, in chunks (< 2 GiB each). */
function readAll(fd: number, target: Uint8Array, at: number, length: number, position: number): number {
  let done = 0;
  while (done < length) {
    const n = fs.readSync(fd, target, at + done, Math.min(IO_CHUNK_BYTES, length - done), position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

/**
 * Checks what the first bytes (`head`, at least the preamble when the file has it) say against
 * the file's `size`, in this order: empty, magic, version (0, newer, older), the preamble and
 * JSON header against the size, the announced length against the size.
 */
function checkPreamble(refuse: Refusal, head: Uint8Array, size: number): { version: number; headerLength: number; total: number } {
  const { format, reasons } = refuse;
  if (size === 0) throw refuse.error(reasons.empty());
  const found = Buffer.from(head.buffer, head.byteOffset, Math.min(8, head.byteLength)).toString('latin1');
  if (found !== format.magic) throw refuse.error(reasons.magic(found));
  if (size < 12 || head.byteLength < 12) throw refuse.error(reasons.truncatedHeader(CONTAINER_PREAMBLE_BYTES, size));
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const version = view.getUint32(8, true);
  if (version === 0) throw refuse.error(reasons.malformed('format version 0 is invalid'));
  if (version > format.version) throw refuse.error(reasons.newer(version));
  if (version < (format.oldestVersion ?? format.version)) throw refuse.error(reasons.older(version));
  if (size < CONTAINER_PREAMBLE_BYTES || head.byteLength < CONTAINER_PREAMBLE_BYTES) {
    throw refuse.error(reasons.truncatedHeader(CONTAINER_PREAMBLE_BYTES, size));
  }
  const headerLength = view.getUint32(12, true);
  const total = Number(view.getBigUint64(16, true));
  if (size < CONTAINER_PREAMBLE_BYTES + headerLength) throw refuse.error(reasons.truncatedHeader(CONTAINER_PREAMBLE_BYTES + headerLength, size));
  if (size < total) throw refuse.error(reasons.truncated(total, size));
  if (size > total) throw refuse.error(reasons.trailing(total, size));
  return { version, headerLength, total };
}

/** The JSON header's bytes parsed (refused as malformed when they do not parse). */
function parseHeader(refuse: Refusal, json: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(json.buffer, json.byteOffset, json.byteLength).toString('utf8'));
  } catch (e) {
    throw refuse.error(refuse.reasons.malformed(`the JSON header does not parse: ${(e as Error).message}`));
  }
}

/**
 * The format's header fields and the checked section table: each entry of a known type, an
 * integer offset (a multiple of 8, after the JSON header) and length, inside the file's `total`
 * bytes, no name twice.
 */
function headerAndTable(refuse: Refusal, parsed: unknown, headerLength: number, total: number): { header: Record<string, unknown>; table: SectionEntry[] } {
  const { reasons } = refuse;
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw refuse.error(reasons.malformed('the JSON header is not an object'));
  const { sections: table, ...header } = parsed as Record<string, unknown>;
  if (!Array.isArray(table)) throw refuse.error(reasons.malformed('the header has no section table'));
  const seen = new Set<string>();
  for (const entry of table as SectionEntry[]) {
    const type = entry !== null && typeof entry === 'object' ? SECTION_TYPES[entry.type] : undefined;
    if (!type || typeof entry.name !== 'string' || !Number.isInteger(entry.offset) || !Number.isInteger(entry.length) || entry.length < 0) {
      throw refuse.error(reasons.malformed(`malformed section entry ${JSON.stringify(entry)}`));
    }
    if (seen.has(entry.name)) throw refuse.error(reasons.malformed(`section "${entry.name}" appears twice`));
    seen.add(entry.name);
    if (entry.offset % 8 !== 0 || entry.offset < CONTAINER_PREAMBLE_BYTES + headerLength || entry.offset + entry.length * type.bytes > total) {
      throw refuse.error(reasons.malformed(`section "${entry.name}" (offset ${entry.offset}, ${entry.length} × ${entry.type}) lies outside the file`));
    }
  }
  return { header, table: table as SectionEntry[] };
}

/**
 * Decodes a container from the bytes of a file. Sections are views over `bytes` when it is
 * 8-byte aligned (otherwise over one aligned copy). Refuses, with the format's error naming
 * `file` and the reason: an empty file, a wrong magic, a newer or older format version, a
 * truncated file or one with trailing bytes, a checksum mismatch, and a malformed JSON header or
 * section table.
 */
export function decodeContainer(format: ContainerFormat, bytes: Uint8Array, file = '<memory>'): Container {
  const refuse = new Refusal(format, file);
  requireLittleEndian(refuse);
  const { version, headerLength, total } = checkPreamble(refuse, bytes, bytes.byteLength);
  const { reasons } = refuse;
  const stored = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(CHECKSUM_OFFSET, true);
  const computed = checksumOf(bytes);
  if (stored !== computed) throw refuse.error(reasons.checksum(stored, computed));

  const parsed = parseHeader(refuse, bytes.subarray(CONTAINER_PREAMBLE_BYTES, CONTAINER_PREAMBLE_BYTES + headerLength));
  const { header, table } = headerAndTable(refuse, parsed, headerLength, total);
  // Views need an 8-aligned base; a pooled or sliced Buffer may not be.
  let base = bytes;
  if (bytes.byteOffset % 8 !== 0) {
    base = new Uint8Array(bytes.byteLength);
    base.set(bytes);
  }
  const sections: Record<string, SectionArray> = {};
  for (const entry of table) sections[entry.name] = SECTION_TYPES[entry.type].make(base.buffer, base.byteOffset + entry.offset, entry.length);
  return { version, header, sections };
}

/** Options of {@link readContainer}. */
export interface ReadContainerOptions {
  /**
   * Default false: the whole file goes into one shared buffer and the sections are views over it.
   * True: each section is read into an ArrayBuffer of its own (not shared), so that a reader that
   * no longer needs some sections can release them one by one (a view's buffer can be detached);
   * the same checks and the same checksum over every byte of the file.
   */
  separate?: boolean;
}

/**
 * Reads and decodes the container at `path` (see {@link decodeContainer} for the refusals). The
 * preamble is checked first; then the whole file goes into one preallocated SharedArrayBuffer
 * (a shared WebAssembly.Memory's, see sharedBuffer; chunked reads, so files beyond 2 GiB work) and every section is a view over it: no copy, and
 * posting a section to a worker thread shares it. With `separate`, one ArrayBuffer per section
 * instead ({@link ReadContainerOptions}). Errors of the file system (a missing file) are thrown as they are.
 */
export function readContainer(format: ContainerFormat, path: string, options: ReadContainerOptions = {}): Container {
  const refuse = new Refusal(format, path);
  requireLittleEndian(refuse);
  const fd = fs.openSync(path, 'r');
  let bytes: Uint8Array;
  try {
    const size = fs.fstatSync(fd).size;
    const head = new Uint8Array(Math.min(size, CONTAINER_PREAMBLE_BYTES));
    const got = readAll(fd, head, 0, head.byteLength, 0);
    const preamble = checkPreamble(refuse, head.subarray(0, got), size);
    if (options.separate === true) return readSections(refuse, fd, preamble);
    // Shared memory: the sections (views of it) can be posted to worker threads (ALS, similarity, API
    // training) and read there in place, without a copy; inside a WebAssembly.Memory (sharedBuffer)
    // so that WebAssembly kernels (the similarity pool's) read them in place too.
    bytes = new Uint8Array(sharedBuffer(size), 0, size);
    const read = readAll(fd, bytes, 0, size, 0);
    if (read !== size) throw refuse.error(refuse.reasons.truncated(size, read));
  } finally {
    fs.closeSync(fd);
  }
  return decodeContainer(format, bytes, path);
}

/**
 * The container of `fd` with each section in an ArrayBuffer of its own: the preamble and JSON
 * header, then the file in order (sections into their buffers, the padding between them through
 * a small scratch buffer), the CRC-32 chained over every byte but its own field, as
 * {@link decodeContainer} computes it. Sections that overlap are refused as malformed.
 */
function readSections(refuse: Refusal, fd: number, preamble: { version: number; headerLength: number; total: number }): Container {
  const { version, headerLength, total } = preamble;
  const { reasons } = refuse;
  const headBytes = new Uint8Array(CONTAINER_PREAMBLE_BYTES + headerLength);
  const truncated = (at: number) => refuse.error(reasons.truncated(total, at));
  if (readAll(fd, headBytes, 0, headBytes.byteLength, 0) !== headBytes.byteLength) throw truncated(0);
  const stored = new DataView(headBytes.buffer).getUint32(CHECKSUM_OFFSET, true);
  let crc = crc32(headBytes.subarray(CHECKSUM_OFFSET + 4), crc32(headBytes.subarray(0, CHECKSUM_OFFSET)));
  const scratch = new Uint8Array(1 << 16);
  let at = headBytes.byteLength;
  // Bytes [at, to) that belong to no section: checksummed only.
  const skipTo = (to: number) => {
    while (at < to) {
      const n = Math.min(scratch.byteLength, to - at);
      if (readAll(fd, scratch, 0, n, at) !== n) throw truncated(at);
      crc = crc32(scratch.subarray(0, n), crc);
      at += n;
    }
  };
  const checkSum = () => {
    if (stored !== crc >>> 0) throw refuse.error(reasons.checksum(stored, crc >>> 0));
  };
  let header: Record<string, unknown>;
  let table: SectionEntry[];
  try {
    ({ header, table } = headerAndTable(refuse, parseHeader(refuse, headBytes.subarray(CONTAINER_PREAMBLE_BYTES)), headerLength, total));
  } catch (e) {
    // As decodeContainer: a file whose checksum fails is refused for that first.
    skipTo(total);
    checkSum();
    throw e;
  }
  const sections: Record<string, SectionArray> = {};
  for (const entry of [...table].sort((a, b) => a.offset - b.offset)) {
    const type = SECTION_TYPES[entry.type];
    if (entry.offset < at) {
      skipTo(total);
      checkSum();
      throw refuse.error(reasons.malformed(`section "${entry.name}" (offset ${entry.offset}) overlaps the bytes before it: sections cannot be read apart`));
    }
    skipTo(entry.offset);
    const bytes = new Uint8Array(new ArrayBuffer(entry.length * type.bytes));
    if (readAll(fd, bytes, 0, bytes.byteLength, at) !== bytes.byteLength) throw truncated(at);
    crc = crc32(bytes, crc);
    at += bytes.byteLength;
    sections[entry.name] = type.make(bytes.buffer, 0, entry.length);
  }
  skipTo(total);
  checkSum();
  // In the table's order, as decodeContainer gives them.
  const ordered: Record<string, SectionArray> = {};
  for (const entry of table) ordered[entry.name] = sections[entry.name];
  return { version, header, sections: ordered };
}

/** Whether `path` exists and starts with the format's magic (reads 8 bytes; never throws). */
export function isContainerFile(format: ContainerFormat, path: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(path, 'r');
  } catch {
    return false;
  }
  try {
    const magic = Buffer.alloc(8);
    return readAll(fd, magic, 0, 8, 0) === 8 && magic.toString('latin1') === format.magic;
  } catch {
    return false;
  } finally {
    fs.closeSync(fd);
  }
}
