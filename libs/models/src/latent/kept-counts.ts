import { RatingMatrix } from '@recsys/data';

/** Ratings each user and movie keeps in `train` once the `exclude`d ones (1 = left out, by-user positions) are gone, and their total. */
export function keptCounts(train: RatingMatrix, exclude: Uint8Array): { users: Uint32Array; movies: Uint32Array; total: number } {
  const users = new Uint32Array(train.nUsers);
  const movies = new Uint32Array(train.nMovies);
  const { userPtr, userMovies } = train;
  let total = 0;
  for (let u = 0; u < train.nUsers; u++) {
    for (let k = userPtr[u]; k < userPtr[u + 1]; k++) {
      if (exclude[k] !== 0) continue;
      users[u]++;
      movies[userMovies[k]]++;
      total++;
    }
  }
  return { users, movies, total };
}
