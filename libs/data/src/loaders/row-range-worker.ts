/*
 * Worker thread entry: reads the rows of one byte range of a rating file (see
 * `readRowsSplit` in parallel-rows.ts) and posts back the list, its line count and its skipped
 * rows, or the error that stopped it. Progress goes to the parent as byte counts as it reads.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { DataFormatError } from '../errors';
import { RatingListBuilder } from '../rating-matrix';
import { workerContext } from './context';
import type { RangeRequest, RangeResult, WorkerMessage } from './parallel-rows';
import { readRowRange } from './rating-rows';

async function readRange(request: RangeRequest): Promise<RangeResult> {
  const ctx = workerContext(request.skipInvalid, request.chunkBytes, (bytes) => post({ kind: 'progress', bytes }));
  const out = new RatingListBuilder(request.capacity, request.withDays);
  try {
    const { lines } = await readRowRange(ctx, request.file, request.layout, out, request.from, request.to, 0);
    const { users, movies, ratings, days } = out.view();
    return {
      kind: 'done',
      users,
      movies,
      ratings,
      days,
      lines,
      bytes: ctx.bytes,
      skipped: ctx.issues.skipped,
      examples: ctx.issues.examples,
      capped: ctx.issues.capped,
    };
  } catch (e) {
    if (e instanceof DataFormatError) return { kind: 'format-error', file: e.file, line: e.line, reason: e.reason };
    return { kind: 'failed', message: e instanceof Error ? (e.stack ?? e.message) : String(e) };
  }
}

function post(message: WorkerMessage): void {
  if (message.kind !== 'done') {
    parentPort!.postMessage(message);
    return;
  }
  // The arrays move to the parent without a copy.
  const transfer: ArrayBuffer[] = [message.users.buffer, message.movies.buffer, message.ratings.buffer] as ArrayBuffer[];
  if (message.days !== null) transfer.push(message.days.buffer as ArrayBuffer);
  parentPort!.postMessage(message, transfer);
}

void readRange(workerData as RangeRequest).then(post);
