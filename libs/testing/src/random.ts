import { Random } from '@recsys/core';

/**
 * The project's one seeded PRNG (`Random` of `@recsys/core`, xoshiro128** with splitmix32
 * seeding), under the name the specs use: the same stream for a seed as the code under test.
 */
export { Random as SeededRandom };

/** Anything that draws uniform numbers in [0, 1). */
export interface UniformSource {
  next(): number;
}
