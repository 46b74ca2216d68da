/*
 * Worker thread entry: one thread of `buildFromMovieRuns` (build-from-runs.ts). It is posted the
 * steps in order (count, columns, scatter, unpack, sort) over shared arrays and answers each when
 * done. It drops the parts' arrays as soon as the steps after no longer read them, and collects,
 * so that their memory goes before the next arrays are allocated.
 */
import { parentPort } from 'node:worker_threads';
import { BuildReply, BuildStep, countShareUsers, PartRows, RowArrays, RunShare, scatterShare, sortBuckets, sortColumns, writeShareColumns } from './build-from-runs';
import { releaseMemory } from './release-memory';

let parts: PartRows | null = null;
let share: RunShare | null = null;
let at = 0;
let columnKeys: Int32Array | null = null;
let rows: RowArrays | null = null;

function run(m: BuildStep): BuildReply {
  switch (m.step) {
    case 'count':
      parts = m.parts;
      share = m.share;
      countShareUsers(parts, share, m.counts);
      return { step: 'done' };
    case 'columns':
      at = m.at;
      columnKeys = m.columnKeys;
      writeShareColumns(parts!, share!, m.indexOf, at, columnKeys);
      parts = { users: [], ratings: [], days: parts!.days };
      releaseMemory();
      return { step: 'done' };
    case 'scatter':
      rows = m.rows;
      scatterShare(parts!.days, share!, at, columnKeys!, m.buckets, m.next, rows);
      parts = null;
      share = null;
      releaseMemory();
      return { step: 'done' };
    case 'unpack':
      return { step: 'done', duplicates: sortBuckets(m.userPtr, m.nU, m.buckets, m.bFrom, m.bTo, rows!) };
    case 'sort':
      sortColumns(m.moviePtr, m.mFrom, m.mTo, columnKeys!, m.movieRatings);
      return { step: 'done' };
  }
}

parentPort!.on('message', (m: BuildStep) => {
  let reply: BuildReply;
  try {
    reply = run(m);
  } catch (e) {
    reply = { step: 'failed', message: e instanceof Error ? (e.stack ?? e.message) : String(e) };
  }
  parentPort!.postMessage(reply);
});
