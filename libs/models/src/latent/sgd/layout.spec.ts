import { derive } from '@recsys/core';
import { buildRatingMatrix, generateSynthetic, WHOLE_STARS_1_TO_5 } from '@recsys/data';
import { partitionRatings, planLayout, writeRatings } from './layout';

const matrix = buildRatingMatrix(generateSynthetic({ ratings: 20_000, users: 500, movies: 200, seed: 7, withDates: false }).list, WHOLE_STARS_1_TO_5).matrix;

describe('SGD layout: LibMF-style renumbering into contiguous groups', () => {
  for (const B of [1, 3, 8]) {
    it(`B = ${B}: every group is a range of internal indices, and the blocks hold exactly the matrix's ratings`, () => {
      const part = partitionRatings(matrix, B, derive(3, 1));
      // Internal indices: a permutation, each index in its group's range, matrix order kept within a group.
      expect(new Set(part.userIndex).size).toBe(matrix.nUsers);
      expect(new Set(part.movieIndex).size).toBe(matrix.nMovies);
      for (let u = 0; u < matrix.nUsers; u++) {
        if (u > 0 && part.userBlock[u] === part.userBlock[u - 1]) expect(part.userIndex[u]).toBeGreaterThan(part.userIndex[u - 1]);
        const g = part.userBlock[u];
        expect(part.userIndex[u]).toBeGreaterThanOrEqual(part.userStart[g]);
        expect(part.userIndex[u]).toBeLessThan(part.userStart[g + 1]);
      }
      for (let m = 0; m < matrix.nMovies; m++) {
        const g = part.movieBlock[m];
        expect(part.movieIndex[m]).toBeGreaterThanOrEqual(part.movieStart[g]);
        expect(part.movieIndex[m]).toBeLessThan(part.movieStart[g + 1]);
      }
      expect(part.userStart[B]).toBe(matrix.nUsers);
      expect(part.movieStart[B]).toBe(matrix.nMovies);
      if (B === 1) expect(Array.from(part.movieIndex)).toEqual(Array.from({ length: matrix.nMovies }, (_, m) => m));

      const layout = planLayout(matrix, 4, part);
      const buffer = new ArrayBuffer(layout.bytes);
      const blockSeg = writeRatings(buffer, layout, matrix, part);
      const u32 = new Uint32Array(buffer);
      // Expected: each rating as `internal user, (internal movie << 8) | code`, sorted.
      const expected: string[] = [];
      for (let u = 0; u < matrix.nUsers; u++) {
        for (let k = matrix.userPtr[u]; k < matrix.userPtr[u + 1]; k++) {
          expected.push(`${part.userIndex[u]},${((part.movieIndex[matrix.userMovies[k]] << 8) | matrix.userRatings[k]) >>> 0}`);
        }
      }
      const seen: string[] = [];
      for (let b = 0; b < B * B; b++) {
        let lastUser = -1;
        for (let s = blockSeg[b]; s < blockSeg[b + 1]; s++) {
          const iu = u32[(layout.segUser >>> 2) + s];
          expect(iu).toBeGreaterThan(lastUser); // users ascending within a block
          lastUser = iu;
          expect(iu).toBeGreaterThanOrEqual(part.userStart[Math.floor(b / B)]);
          expect(iu).toBeLessThan(part.userStart[Math.floor(b / B) + 1]);
          let lastMovie = -1;
          for (let k = u32[(layout.segOff >>> 2) + s]; k < u32[(layout.segOff >>> 2) + s + 1]; k++) {
            const packed = u32[(layout.ratings >>> 2) + k];
            const im = packed >>> 8;
            expect(im).toBeGreaterThan(lastMovie); // movies ascending within a segment
            lastMovie = im;
            expect(im).toBeGreaterThanOrEqual(part.movieStart[b % B]);
            expect(im).toBeLessThan(part.movieStart[(b % B) + 1]);
            seen.push(`${iu},${packed}`);
          }
        }
      }
      expect(seen.sort()).toEqual(expected.sort());
    });
  }
});
