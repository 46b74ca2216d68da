import { promises as fsp } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { workerScript } from '@recsys/core';
import { ImportIssue } from '../dataset';
import { DataFormatError } from '../errors';
import { MovieRunsBuilder, MovieRunsList, RunRows, sharedRunRows } from '../movie-runs';
import { LoadContext } from './context';
import { requireRows, readRowRange, RowLayout } from './rating-rows';

/** Bytes [from, to) of one file; `from` is 0 or the start of a `MovieID:` line. */
export interface Segment {
  readonly file: string;
  readonly from: number;
  readonly to: number;
  /** The segment ends the file (its no-rows check is due after it). */
  readonly last: boolean;
}

/** What reading one segment found (line numbers count from the segment's first line). */
export interface SegmentRead {
  readonly lines: number;
  readonly appended: number;
  readonly skipped: number;
}

/** What a block-range worker is asked to read. */
export interface BlockRangeRequest {
  readonly segments: readonly Segment[];
  readonly layout: RowLayout;
  readonly capacity: number;
  readonly withDays: boolean;
  /** Rows in SharedArrayBuffers (for a build on several threads). */
  readonly shared: boolean;
  readonly skipInvalid: boolean;
  readonly chunkBytes: number;
  /** Views of the ranges' common row buffers to write into (`sharedRunRows`), when shared. */
  readonly rows?: RunRows;
}

/** A range's result: its rows and per-segment counts, or the first error (after `reads` good segments). */
export type BlockRangeResult =
  | {
      readonly kind: 'done';
      readonly list: MovieRunsList;
      /**
       * The list is still in the request's `rows` (it did not outgrow them). Its arrays arrive
       * over new SharedArrayBuffer objects (one per message), so the reader puts them back
       * over its own, for the build to see one buffer per field (`joinedRows`).
       */
      readonly inRows: boolean;
      readonly reads: readonly SegmentRead[];
      readonly bytes: number;
      readonly examples: readonly ImportIssue[];
    }
  | { readonly kind: 'format-error'; readonly reads: readonly SegmentRead[]; readonly examples: readonly ImportIssue[]; readonly file: string; readonly line: number; readonly reason: string }
  | { readonly kind: 'failed'; readonly message: string };

export type BlockWorkerMessage = BlockRangeResult | { readonly kind: 'progress'; readonly bytes: number };

const LF = 10;
const CR = 13;
const COLON = 58;

/**
 * Start of the first `MovieID:` line (a line whose last byte before `\n` or `\r\n` is `:`)
 * that starts after byte `at - 1` of the file, or -1 when there is none before `size`. A range
 * that starts there holds whole blocks: it needs nothing from the bytes before it.
 */
export async function blockAlignedCut(path: string, at: number, size: number): Promise<number> {
  const file = await fsp.open(path, 'r');
  try {
    const window = Buffer.allocUnsafe(256 << 10);
    // Reading from at - 1: a line starts at `at` only when the byte before it is `\n`.
    let pos = Math.max(0, at - 1);
    let lineStart = at === 0 ? 0 : -1;
    let b1 = 0; // the byte before the current one, and the one before that
    let b2 = 0;
    while (pos < size) {
      const { bytesRead } = await file.read(window, 0, Math.min(window.length, size - pos), pos);
      if (bytesRead === 0) break;
      for (let i = 0; i < bytesRead; i++) {
        const c = window[i];
        if (c === LF) {
          const atLine = pos + i;
          if (lineStart >= 0 && atLine > lineStart && (b1 === COLON || (b1 === CR && b2 === COLON))) return lineStart;
          lineStart = atLine + 1;
        }
        b2 = b1;
        b1 = c;
      }
      pos += bytesRead;
    }
    // A last line without a newline.
    if (lineStart >= 0 && lineStart < size && b1 === COLON) return lineStart;
    return -1;
  } finally {
    await file.close();
  }
}

/**
 * Split the concatenated rating files into up to `threads` ranges of about equal bytes, each a
 * list of segments, cut only at file starts or `MovieID:` line starts, so that every range holds
 * whole blocks. Each file lies in one range or is split between consecutive ones; a file of 0
 * bytes is a segment of the range holding the bytes after it (so its no-rows error comes in
 * file order).
 */
export async function blockRanges(files: readonly string[], sizes: readonly number[], threads: number): Promise<Segment[][]> {
  const starts: number[] = [];
  let total = 0;
  for (const s of sizes) {
    starts.push(total);
    total += s;
  }
  const cuts = [0];
  for (let i = 1; i < threads; i++) {
    const target = Math.floor((total * i) / threads);
    let f = 0;
    while (f + 1 < files.length && starts[f + 1] <= target) f++;
    const offset = target - starts[f];
    let cut: number;
    if (offset === 0) cut = starts[f];
    else {
      const c = await blockAlignedCut(files[f], offset, sizes[f]);
      cut = c >= 0 ? starts[f] + c : starts[f] + sizes[f];
    }
    if (cut > cuts[cuts.length - 1] && cut < total) cuts.push(cut);
  }
  cuts.push(total);
  const ranges: Segment[][] = [];
  for (let k = 0; k + 1 < cuts.length; k++) {
    const lo = cuts[k];
    const hi = cuts[k + 1];
    const last = k + 2 === cuts.length;
    const segments: Segment[] = [];
    for (let f = 0; f < files.length; f++) {
      const s = starts[f];
      const e = s + sizes[f];
      const inside = sizes[f] === 0 ? s >= lo && (s < hi || last) : s < hi && e > lo;
      if (inside) segments.push({ file: files[f], from: Math.max(lo, s) - s, to: Math.min(hi, e) - s, last: e <= hi });
    }
    ranges.push(segments);
  }
  return ranges;
}

/** `list`, which a worker wrote into its copy of `rows`, as views of `rows` themselves. */
function inViews(list: MovieRunsList, rows: RunRows): MovieRunsList {
  const n = list.length;
  return { ...list, users: rows.users.subarray(0, n), ratings: rows.ratings.subarray(0, n), days: rows.days === null ? null : rows.days.subarray(0, n) };
}

/**
 * Read the segments of one range into `out`, in order; per-segment counts go to `reads` as each
 * segment ends (so that after an error they say how far the range got). Errors are thrown with
 * line numbers from the start of their segment.
 */
export async function readSegments(ctx: LoadContext, segments: readonly Segment[], layout: RowLayout, out: MovieRunsBuilder, reads: SegmentRead[]): Promise<void> {
  for (const seg of segments) {
    const skippedBefore = ctx.issues.skipped;
    const headerLines = seg.from === 0 ? layout.headerLines : 0;
    const r = await readRowRange(ctx, seg.file, layout, out, seg.from, seg.to, headerLines);
    reads.push({ lines: r.lines, appended: r.appended, skipped: ctx.issues.skipped - skippedBefore });
  }
}

/**
 * Read every rating file of a block layout (Netflix Prize: `MovieID:` lines opening blocks of
 * rows) on `threads` threads: the files are cut into ranges of whole blocks (`blockRanges`);
 * this thread reads the first while worker threads read the others, each into a MovieRunsList
 * of its own that comes here without a copy (in shared memory on several threads, else
 * transferred).
 *
 * The result is what one thread would give, in parts: errors and skipped-row examples name each
 * file's own lines (a later range's are shifted by the lines of the file before it); the first
 * error in file order is the one thrown; each file's no-rows check covers the whole file.
 */
export async function readBlockRanges(
  ctx: LoadContext,
  files: readonly string[],
  sizes: readonly number[],
  layout: RowLayout,
  threads: number,
  capacityOf: (bytes: number) => number,
): Promise<MovieRunsList[]> {
  const withDays = layout.date >= 0 || layout.timestamp >= 0;
  const ranges = await blockRanges(files, sizes, threads);
  // Rows in shared memory, so that the build can use every thread on them (`buildFromMovieRuns`).
  const shared = threads > 1;
  const rangeBytes = (r: readonly Segment[]): number => r.reduce((sum, s) => sum + s.to - s.from, 0);
  const filesBefore = ctx.files.length;
  // On several threads the ranges write consecutive views of one buffer per field, which the
  // build reuses as matrix arrays (memory already backed) once it no longer reads the rows.
  const capacities = ranges.map((r) => capacityOf(rangeBytes(r)));
  const views = shared ? sharedRunRows(capacities, withDays, true) : null;

  const workers: Worker[] = [];
  // Each result arrives in a box that is emptied once read: a worker that has posted but not yet
  // exited keeps its listeners, hence its promise and the promise's value, reachable, and the
  // arrays must not stay reachable through it once the build frees them.
  const later: Array<Promise<{ result: BlockRangeResult | null }>> = [];
  const { filename, options } = workerScript(__dirname, 'block-range-worker');
  for (let k = 1; k < ranges.length; k++) {
    const request: BlockRangeRequest = {
      segments: ranges[k],
      layout,
      capacity: capacities[k],
      withDays,
      shared,
      skipInvalid: ctx.issues.skipInvalid,
      chunkBytes: ctx.reader.chunkBytes,
      ...(views !== null ? { rows: views[k] } : {}),
    };
    const worker = new Worker(filename, { ...options, workerData: request });
    workers.push(worker);
    const result = new Promise<{ result: BlockRangeResult | null }>((resolve, reject) => {
      worker.on('message', (m: BlockWorkerMessage) => {
        if (m.kind === 'progress') ctx.progress.add(m.bytes);
        else resolve({ result: m });
      });
      worker.on('error', reject);
      worker.on('exit', (code) => reject(new Error(`reading ${ranges[k][0].file} from byte ${ranges[k][0].from}: the reader thread exited (code ${code})`)));
    });
    // Handled in order below; until then a failure must not count as unhandled.
    result.catch(() => undefined);
    later.push(result);
  }

  const stopAll = async (): Promise<void> => {
    await Promise.all(workers.map((w) => w.terminate()));
  };

  // Lines, rows and skipped rows of each file so far, in file order.
  const lines = new Map<string, number>();
  const rows = new Map<string, number>();
  const skipped = new Map<string, number>();
  const account = (segments: readonly Segment[], reads: readonly SegmentRead[]): void => {
    for (let s = 0; s < reads.length; s++) {
      const { file, last } = segments[s];
      lines.set(file, (lines.get(file) ?? 0) + reads[s].lines);
      rows.set(file, (rows.get(file) ?? 0) + reads[s].appended);
      skipped.set(file, (skipped.get(file) ?? 0) + reads[s].skipped);
      if (last) requireRows(file, layout, rows.get(file)!, lines.get(file)!, skipped.get(file)!, layout.headerLines);
    }
  };

  const parts: MovieRunsList[] = [];
  const first = new MovieRunsBuilder(capacities[0], withDays, shared, views?.[0]);
  const reads: SegmentRead[] = [];
  try {
    await readSegments(ctx, ranges[0], layout, first, reads);
    account(ranges[0], reads);
  } catch (e) {
    await stopAll();
    throw e;
  }
  parts.push(first.view());

  for (let k = 1; k < ranges.length; k++) {
    let result: BlockRangeResult;
    try {
      const box = await later[k - 1];
      result = box.result!;
      box.result = null;
    } catch (e) {
      await stopAll();
      throw e;
    }
    if (result.kind === 'failed') {
      await stopAll();
      throw new Error(`reading ${ranges[k][0].file} from byte ${ranges[k][0].from}: ${result.message}`);
    }
    // Examples and errors of the range's first segment count lines from its cut.
    const shift = (file: string): number => (file === ranges[k][0].file ? (lines.get(file) ?? 0) : 0);
    const skippedHere = result.reads.reduce((sum, r) => sum + r.skipped, 0);
    ctx.issues.absorbShifted(skippedHere, result.examples, shift);
    account(ranges[k], result.reads);
    if (result.kind === 'format-error') {
      await stopAll();
      throw new DataFormatError(result.file, result.line + shift(result.file), result.reason);
    }
    ctx.bytes += result.bytes;
    parts.push(views !== null && result.inRows ? inViews(result.list, views[k]) : result.list);
  }
  // Every file was read; list them in order (the threads that read each file's start are many).
  ctx.files.splice(filesBefore, ctx.files.length - filesBefore, ...files);
  return parts;
}
