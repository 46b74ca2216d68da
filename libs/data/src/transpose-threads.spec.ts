import { transpose } from './counting-sort';
import { newArray, transposeOnThreads } from './transpose-threads';

/** A random CSR of nU users over nM movies (movies ascending in each row). */
function randomRows(nU: number, nM: number, seed: number) {
  let s = seed;
  const rnd = (n: number): number => ((s = (s * 1103515245 + 12345) % 2147483648), s % n);
  const userPtr = new Uint32Array(nU + 1);
  const movies: number[] = [];
  const ratings: number[] = [];
  for (let u = 0; u < nU; u++) {
    const row = new Set<number>();
    // Some empty rows, some long ones.
    for (let k = rnd(4) === 0 ? 0 : rnd(nM); k > 0; k--) row.add(rnd(nM));
    for (const m of [...row].sort((a, b) => a - b)) {
      movies.push(m);
      ratings.push(2 + 2 * rnd(5));
    }
    userPtr[u + 1] = movies.length;
  }
  const nr = movies.length;
  const userMovies = newArray(Int32Array, nr, true);
  userMovies.set(movies);
  const userRatings = newArray(Uint8Array, nr, true);
  userRatings.set(ratings);
  const moviePtr = new Uint32Array(nM + 1);
  for (const m of movies) moviePtr[m + 1]++;
  for (let m = 0; m < nM; m++) moviePtr[m + 1] += moviePtr[m];
  return { userPtr, userMovies, userRatings, moviePtr, nr };
}

describe('transposeOnThreads', () => {
  it.each([2, 3, 7])('writes the same columns as transpose on %i threads', async (threads) => {
    const nU = 500;
    const nM = 60;
    const { userPtr, userMovies, userRatings, moviePtr, nr } = randomRows(nU, nM, threads);
    const wantUsers = new Int32Array(nr);
    const wantRatings = new Uint8Array(nr);
    transpose(userPtr, userMovies, userRatings, nU, nM, moviePtr, wantUsers, wantRatings);
    const gotUsers = newArray(Int32Array, nr, true);
    const gotRatings = newArray(Uint8Array, nr, true);
    await transposeOnThreads({ userPtr, userMovies, userRatings, nU, nM, moviePtr, movieUsers: gotUsers, movieRatings: gotRatings }, threads, 0);
    expect(Array.from(gotUsers)).toEqual(Array.from(wantUsers));
    expect(Array.from(gotRatings)).toEqual(Array.from(wantRatings));
    // Users ascend within each column (checked directly, not only against transpose).
    for (let m = 0; m < nM; m++) for (let p = moviePtr[m] + 1; p < moviePtr[m + 1]; p++) expect(gotUsers[p]).toBeGreaterThan(gotUsers[p - 1]);
  });

  it('runs on this thread when the arrays are not shared', async () => {
    const { userPtr, userMovies, userRatings, moviePtr, nr } = randomRows(50, 10, 1);
    const plainUsers = new Int32Array(nr);
    const plainRatings = new Uint8Array(nr);
    const plain = { userPtr, userMovies: Int32Array.from(userMovies), userRatings: Uint8Array.from(userRatings), nU: 50, nM: 10, moviePtr };
    await transposeOnThreads({ ...plain, movieUsers: plainUsers, movieRatings: plainRatings }, 4, 0);
    const want = new Int32Array(nr);
    transpose(userPtr, userMovies, userRatings, 50, 10, moviePtr, want, new Uint8Array(nr));
    expect(Array.from(plainUsers)).toEqual(Array.from(want));
  });
});
