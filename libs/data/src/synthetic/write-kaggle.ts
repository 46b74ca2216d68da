// The Netflix Kaggle layout writer.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { BufferedFile, ByMovie, CHUNK, COMMA, csvField, groupByMovie, NEWLINE, putRating, putUint, withFile, WritableRatings, WrittenFiles } from './write-common';

/** Kaggle rating rows of movies m … (grouped as in `g`) from position j until the buffer is full; returns [m, j] to resume. */
function kaggleRows(out: BufferedFile, g: ByMovie, m: number, j: number, ratingFirst: boolean): [number, number] {
  const buf = out.buf;
  let pos = out.pos;
  const { ptr, users, ratings } = g;
  const ids = g.movies.ids;
  const nM = ids.length;
  for (; m < nM; m++) {
    const movieId = ids[m];
    const end = ptr[m + 1];
    for (; j < end; j++) {
      if (pos >= CHUNK) {
        out.pos = pos;
        return [m, j];
      }
      pos = putUint(buf, pos, users[j]);
      buf[pos++] = COMMA;
      if (ratingFirst) {
        pos = putRating(buf, pos, ratings[j]);
        buf[pos++] = COMMA;
        pos = putUint(buf, pos, movieId);
      } else {
        pos = putUint(buf, pos, movieId);
        buf[pos++] = COMMA;
        pos = putRating(buf, pos, ratings[j]);
      }
      buf[pos++] = NEWLINE;
    }
  }
  out.pos = pos;
  return [m, j];
}

/**
 * Write the Netflix Kaggle layout ("Netflix Movie Rating Dataset") into `dir` (created if needed):
 *
 * - `Netflix_Dataset_Rating.csv`: header `User_ID,Rating,Movie_ID` (or `User_ID,Movie_ID,Rating` with
 *   `columnOrder: 'user,movie,rating'`), one row per rating, rows grouped by movie in ascending
 *   movie id like the Kaggle file (list order within a movie). Ratings in stars (`4`, or `3.5` for
 *   half stars). No dates (the Kaggle file has none).
 * - `Netflix_Dataset_Movie.csv`: `Movie_ID,Year,Name` for every catalog movie in ascending id; year
 *   `NULL` when unknown; names quoted with `""` escapes when they hold `"` or `,`; UTF-8.
 *
 * Lines end with `\n`. Streams through a 4 MiB buffer.
 */
export async function writeNetflixKaggle(
  dir: string,
  data: WritableRatings,
  options: { columnOrder?: 'user,rating,movie' | 'user,movie,rating' } = {},
): Promise<WrittenFiles> {
  const columnOrder = options.columnOrder ?? 'user,rating,movie';
  if (columnOrder !== 'user,rating,movie' && columnOrder !== 'user,movie,rating') {
    throw new RangeError(`writeNetflixKaggle: columnOrder must be 'user,rating,movie' or 'user,movie,rating', got '${columnOrder}'`);
  }
  await mkdir(dir, { recursive: true });
  const files: string[] = [];
  let bytes = 0;
  const list = data.list;
  const grouped = groupByMovie(list, false);
  const ratingFirst = columnOrder === 'user,rating,movie';

  bytes += await withFile(join(dir, 'Netflix_Dataset_Rating.csv'), files, async (out) => {
    out.text(ratingFirst ? 'User_ID,Rating,Movie_ID\n' : 'User_ID,Movie_ID,Rating\n', 'utf8');
    // Fill the buffer synchronously (an optimisable loop), flush, repeat.
    let m = 0;
    let j = 0;
    while (m < grouped.movies.size) {
      [m, j] = kaggleRows(out, grouped, m, j, ratingFirst);
      await out.flush();
    }
  });

  bytes += await withFile(join(dir, 'Netflix_Dataset_Movie.csv'), files, async (out) => {
    out.text('Movie_ID,Year,Name\n', 'utf8');
    for (const movie of data.catalog.list()) {
      out.text(`${movie.id},${movie.year === null ? 'NULL' : movie.year},${csvField(movie.title)}\n`, 'utf8');
      if (out.full) await out.flush();
    }
  });
  return { files, bytes };
}
