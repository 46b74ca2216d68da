// The test list file of svd-bench: "RSTLIST1" (8 bytes), u32 count, 4 zero bytes, then
// users i32[n], movies i32[n], ratings u8[n] (stars × 2), little-endian. Read back as views over
// one buffer, no copy.
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import type { RatingList } from '@recsys/data';

const LIST_MAGIC = 'RSTLIST1';
const LIST_HEADER = 16;

export function writeRatingList(path: string, list: RatingList): void {
  const header = Buffer.alloc(LIST_HEADER);
  header.write(LIST_MAGIC, 0, 'latin1');
  header.writeUInt32LE(list.length, 8);
  const fd = openSync(path, 'w');
  try {
    for (const part of [header, list.users.subarray(0, list.length), list.movies.subarray(0, list.length), list.ratings.subarray(0, list.length)]) {
      const bytes = new Uint8Array(part.buffer, part.byteOffset, part.byteLength);
      for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
    }
  } finally {
    closeSync(fd);
  }
}

export function readRatingList(path: string): RatingList {
  const fd = openSync(path, 'r');
  const size = fstatSync(fd).size;
  const buffer = new ArrayBuffer(size);
  const bytes = new Uint8Array(buffer);
  try {
    for (let done = 0; done < size; ) {
      const n = readSync(fd, bytes, done, size - done, done);
      if (n === 0) break;
      done += n;
    }
  } finally {
    closeSync(fd);
  }
  if (size < LIST_HEADER || Buffer.from(buffer, 0, 8).toString('latin1') !== LIST_MAGIC) {
    throw new Error(`svd-bench: ${path} is not a rating list file (no "${LIST_MAGIC}" header)`);
  }
  const n = new DataView(buffer).getUint32(8, true);
  if (size !== LIST_HEADER + 9 * n) throw new Error(`svd-bench: ${path} holds ${size} bytes, ${n} ratings need ${LIST_HEADER + 9 * n}`);
  return {
    length: n,
    users: new Int32Array(buffer, LIST_HEADER, n),
    movies: new Int32Array(buffer, LIST_HEADER + 4 * n, n),
    ratings: new Uint8Array(buffer, LIST_HEADER + 8 * n, n),
    days: null,
  };
}
