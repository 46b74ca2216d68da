import { workingCopies } from './protocol';
import { planLayout } from './trainer';

const LINE = 64;

/**
 * The SVD++ layout keeps what different threads write on different cache lines (and each worker's
 * working copies apart from everything else). Sizes are chosen
 * so that packed 16-byte-aligned arrays would leave the scratch rows off a line's start (the
 * 100M Prize-layout set, 480,189 users, 100,000,000 ratings, put thread 0's g row and thread 1's
 * z row on one line before), and with row lengths of 1, 3, 16 and 100 factors.
 */
describe('SVD++ layout: no cache line shared by what two threads write', () => {
  const sizes = [
    // usersPerRun: ⌈32·nMovies / (ratings per user)⌉ (2,731 and 27,306 for the first two), at most
    // ⌈nUsers / (64·3 workers)⌉ (2,501), at least 64.
    { nUsers: 480_189, nMovies: 17_770, nRatings: 100_000_000, usersPerRun: 2_501 },
    { nUsers: 480_189, nMovies: 17_770, nRatings: 10_000_000, usersPerRun: 2_501 },
    { nUsers: 480_189, nMovies: 17_770, nRatings: 1_000_000_000, usersPerRun: 274 },
    { nUsers: 943, nMovies: 1_682, nRatings: 80_000, usersPerRun: 64 },
    { nUsers: 7, nMovies: 5, nRatings: 13, usersPerRun: 64 },
  ];
  for (const size of sizes) {
    for (const factors of [1, 3, 16, 100]) {
      it(`${size.nUsers} users, ${size.nMovies} movies, ${size.nRatings} ratings, ${factors} factors`, () => {
        const threads = 3;
        const l = planLayout(size, factors, threads);
        const kp = Math.ceil(factors / 4) * 4;
        expect(l.kp).toBe(kp);
        // Each thread's z and g rows (2·kp floats) start a line and end before the next thread's.
        expect(l.scratchBytes % LINE).toBe(0);
        expect(l.scratchBytes).toBeGreaterThanOrEqual(8 * kp);
        expect(l.scratchBytes).toBeLessThan(8 * kp + LINE);
        for (let t = 0; t < threads; t++) expect((l.scratch + t * l.scratchBytes) % LINE).toBe(0);
        // Factor rows from a line's start, and each worker's working copies.
        for (const offset of [l.P, l.Q, l.Y, l.movieBias, l.working]) expect(offset % LINE).toBe(0);
        expect(l.workingBytes % LINE).toBe(0);
        // The arrays, by offset, do not overlap and fit in the memory.
        const arrays: Array<[number, number]> = [
          [l.P, size.nUsers * kp * 4],
          [l.Q, size.nMovies * kp * 4],
          [l.Y, size.nMovies * kp * 4],
          [l.userBias, size.nUsers * 4],
          [l.movieBias, size.nMovies * 4],
          [l.norm, size.nUsers * 4],
          [l.shrink, size.nUsers * 4],
          [l.userPtr, (size.nUsers + 1) * 4],
          [l.ratings, size.nRatings * 4],
          [l.order, size.nUsers * 4],
          [l.scratch, threads * l.scratchBytes],
        ];
        // Each worker's working copies: four movie row arrays and three movie columns, each from a line's start.
        for (let t = 0; t < threads; t++) {
          const w = workingCopies(l, t);
          for (const [offset, bytes] of [[w.Q, size.nMovies * kp * 4], [w.Y, size.nMovies * kp * 4], [w.baseQ, size.nMovies * kp * 4], [w.baseY, size.nMovies * kp * 4], [w.bias, size.nMovies * 4], [w.baseBias, size.nMovies * 4], [w.yScale, size.nMovies * 4]] as const) {
            expect(offset % LINE).toBe(0);
            arrays.push([offset, bytes]);
          }
        }
        expect(l.usersPerRun).toBe(size.usersPerRun);
        arrays.sort((a, b) => a[0] - b[0]);
        expect(arrays[0][0]).toBeGreaterThan(0);
        for (let i = 0; i < arrays.length; i++) {
          expect(arrays[i][0] % 16).toBe(0);
          const end = arrays[i][0] + arrays[i][1];
          expect(end).toBeLessThanOrEqual(i + 1 < arrays.length ? arrays[i + 1][0] : l.bytes);
        }
      });
    }
  }
});
