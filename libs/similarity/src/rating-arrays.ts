import type { RatingMatrix } from '@recsys/data';

/**
 * The part of a RatingMatrix the similarity kernels read: the by-user (CSR) and by-movie (CSC)
 * arrays. A RatingMatrix is one; worker threads rebuild this shape over shared memory without
 * the id indices.
 */
export type RatingArrays = Pick<
  RatingMatrix,
  'nUsers' | 'nMovies' | 'userPtr' | 'userMovies' | 'userRatings' | 'moviePtr' | 'movieUsers' | 'movieRatings'
>;
