import { closeSync, fsyncSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { ByteWriter, ParquetWriter, SchemaElement } from 'hyparquet-writer';
import type { RatingMatrix } from './rating-matrix';

/**
 * The Parquet schema of exported ratings (what a Spark job reads with `spark.read.parquet`):
 *
 *   user    INT32  required   the raw user id (Spark: int)
 *   movie   INT32  required   the raw movie id (Spark: int)
 *   rating  DOUBLE required   the rating on the data's scale, e.g. 1.0..5.0 (Spark: double)
 *   date    INT32 (DATE) optional  days since 1970-01-01 (Spark: date); null when the data has no dates
 *
 * One row per rating, users in the matrix's index order, each user's movies ascending.
 */
export const RATINGS_PARQUET_SCHEMA: readonly SchemaElement[] = Object.freeze([
  { name: 'root', num_children: 4 },
  { name: 'user', type: 'INT32', repetition_type: 'REQUIRED' },
  { name: 'movie', type: 'INT32', repetition_type: 'REQUIRED' },
  { name: 'rating', type: 'DOUBLE', repetition_type: 'REQUIRED' },
  { name: 'date', type: 'INT32', converted_type: 'DATE', logical_type: { type: 'DATE' }, repetition_type: 'OPTIONAL' },
] as SchemaElement[]);

/** Rows per row group by default: ~20 MB of column data in memory at a time, whatever the data's size. */
export const PARQUET_ROW_GROUP = 1 << 20;

/** Options of {@link writeRatingsParquet}. */
export interface ParquetExportOptions {
  /** Rows per row group (default {@link PARQUET_ROW_GROUP}); the memory the export adds is proportional to it. */
  rowGroupSize?: number;
  /** Called after each row group with the rows written so far and the total. */
  onProgress?: (done: number, total: number) => void;
}

/** What {@link writeRatingsParquet} wrote. */
export interface ParquetExportReport {
  path: string;
  rows: number;
  rowGroups: number;
  bytes: number;
  /** Whether the date column holds dates (false: all null, the data had none). */
  dates: boolean;
}

/** hyparquet-writer's byte writer flushing to an open file: at most ~1 MB (plus one column chunk being encoded) held. */
class FileWriter extends ByteWriter {
  private static readonly CHUNK = 1 << 20;

  constructor(private readonly fd: number) {
    super(FileWriter.CHUNK * 2);
  }

  override ensure(size: number): void {
    if (this.index > FileWriter.CHUNK) this.flush();
    super.ensure(size);
  }

  flush(): void {
    if (this.index === 0) return;
    const bytes = new Uint8Array(this.buffer, 0, this.index);
    for (let written = 0; written < bytes.length; ) written += writeSync(this.fd, bytes, written, bytes.length - written);
    this.index = 0;
  }

  override finish(): void {
    this.flush();
  }
}

/**
 * Writes every rating of `matrix` to `path` as one Parquet file ({@link RATINGS_PARQUET_SCHEMA},
 * SNAPPY pages), streaming row groups of `rowGroupSize` rows: the memory it adds to the matrix's own
 * stays bounded whatever the number of ratings. The file appears whole or not at all (written
 * to `path.tmp-PID`, flushed to disk, then renamed); a failure leaves any earlier `path` untouched.
 */
export async function writeRatingsParquet(path: string, matrix: RatingMatrix, options: ParquetExportOptions = {}): Promise<ParquetExportReport> {
  const groupRows = options.rowGroupSize ?? PARQUET_ROW_GROUP;
  if (!(Number.isInteger(groupRows) && groupRows >= 1)) throw new RangeError(`writeRatingsParquet: rowGroupSize must be an integer ≥ 1, got ${groupRows}`);
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  let renamed = false;
  try {
    const writer = new ParquetWriter({ writer: new FileWriter(fd), schema: RATINGS_PARQUET_SCHEMA as SchemaElement[], createdBy: 'recsys export (hyparquet-writer)' });
    const total = matrix.nRatings;
    const size = Math.min(groupRows, Math.max(total, 1));
    const users = new Int32Array(size);
    const movies = new Int32Array(size);
    const ratings = new Float64Array(size);
    const days = matrix.userDays ? new Int32Array(size) : null;
    const noDates: null[] = days ? [] : new Array<null>(size).fill(null);
    const userIds = matrix.users.ids;
    const movieIds = matrix.movies.ids;
    let u = 0;
    let rowGroups = 0;
    for (let start = 0; start < total; start += size) {
      const end = Math.min(total, start + size);
      const n = end - start;
      for (let p = start; p < end; p++) {
        while (matrix.userPtr[u + 1] <= p) u++;
        const j = p - start;
        users[j] = userIds[u];
        movies[j] = movieIds[matrix.userMovies[p]];
        ratings[j] = matrix.userRatings[p] * 0.5;
        if (days) days[j] = matrix.userDays![p];
      }
      await writer.write({
        columnData: [
          { name: 'user', data: users.subarray(0, n) },
          { name: 'movie', data: movies.subarray(0, n) },
          { name: 'rating', data: ratings.subarray(0, n) },
          { name: 'date', data: days ? days.subarray(0, n) : noDates.slice(0, n) },
        ],
        rowGroupSize: n,
      });
      rowGroups++;
      options.onProgress?.(end, total);
    }
    await writer.finish();
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, path);
    renamed = true;
    return { path, rows: total, rowGroups, bytes: statSync(path).size, dates: days !== null };
  } finally {
    if (!renamed) {
      try {
        closeSync(fd);
      } catch {
        // already closed
      }
      rmSync(tmp, { force: true });
    }
  }
}
