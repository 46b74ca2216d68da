import { basename } from 'node:path';
import { buildRatingMatrix } from '../build-matrix';
import { RatingList, RatingMatrix } from '../rating-matrix';
import { HALF_STARS_05_TO_5 } from '../rating-scale';
import { LoadContext } from './context';
import { readRatingsFileInto } from './load';
import { LoadOptions } from './options';

/** Name of a file-defined split: the shared stem (`u1.base` + `u1.test` → `u1`), else both file names. */
export function splitName(trainPath: string, testPath: string): string {
  const stem = (p: string): string => basename(p).replace(/\.[^.]*$/, '');
  const a = stem(trainPath);
  return a !== '' && a === stem(testPath) ? a : `${basename(trainPath)}|${basename(testPath)}`;
}

/**
 * A split defined by two files, such as MovieLens `u1.base` / `u1.test` (each file's format from
 * `options.format`, else from its name or content). The train file becomes a RatingMatrix
 * (duplicates resolved, last wins); the test file stays a RatingList of external ids, whose users
 * and movies may be unknown to the train matrix. Progress runs over both files.
 *
 * The matrix's scale is the files' common scale; when a half-star format reads whole stars only in
 * one file and half stars in the other, it is the half-star scale.
 */
export async function fileSplit(
  trainPath: string,
  testPath: string,
  options: LoadOptions = {},
): Promise<{ name: string; train: RatingMatrix; test: RatingList }> {
  const ctx = new LoadContext(options, [trainPath, testPath]);
  const train = await readRatingsFileInto(ctx, trainPath, options);
  const test = await readRatingsFileInto(ctx, testPath, options);
  const scale = train.scale === test.scale ? train.scale : HALF_STARS_05_TO_5;
  return { name: splitName(trainPath, testPath), train: buildRatingMatrix(train.list, scale).matrix, test: test.list };
}
