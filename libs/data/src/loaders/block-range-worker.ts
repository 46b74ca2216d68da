/*
 * Worker thread entry: reads the segments of one range of whole `MovieID:` blocks (see
 * `readBlockRanges` in block-ranges.ts) into a MovieRunsList and posts it back (transferred), with
 * each segment's line, row and skipped counts, or the error that stopped it. Progress goes to
 * the parent as byte counts as it reads.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { DataFormatError } from '../errors';
import { MovieRunsBuilder } from '../movie-runs';
import type { BlockRangeRequest, BlockRangeResult, BlockWorkerMessage, SegmentRead } from './block-ranges';
import { readSegments } from './block-ranges';
import { workerContext } from './context';

async function readRange(request: BlockRangeRequest): Promise<BlockRangeResult> {
  const ctx = workerContext(request.skipInvalid, request.chunkBytes, (bytes) => post({ kind: 'progress', bytes }));
  const out = new MovieRunsBuilder(request.capacity, request.withDays, request.shared, request.rows);
  const reads: SegmentRead[] = [];
  try {
    await readSegments(ctx, request.segments, request.layout, out, reads);
    const list = out.view();
    const inRows = request.rows !== undefined && list.users.buffer === request.rows.users.buffer;
    return { kind: 'done', list, inRows, reads, bytes: ctx.bytes, examples: ctx.issues.examples };
  } catch (e) {
    if (e instanceof DataFormatError) return { kind: 'format-error', reads, examples: ctx.issues.examples, file: e.file, line: e.line, reason: e.reason };
    return { kind: 'failed', message: e instanceof Error ? (e.stack ?? e.message) : String(e) };
  }
}

function post(message: BlockWorkerMessage): void {
  if (message.kind !== 'done') {
    parentPort!.postMessage(message);
    return;
  }
  // The arrays go to the parent without a copy: shared ones are shared, the others moved.
  const { users, ratings, days, runMovies, runStarts } = message.list;
  const buffers = [users.buffer, ratings.buffer, runMovies.buffer, runStarts.buffer, days?.buffer];
  const transfer = buffers.filter((b): b is ArrayBuffer => b instanceof ArrayBuffer);
  parentPort!.postMessage(message, transfer);
}

void readRange(workerData as BlockRangeRequest).then(post);
