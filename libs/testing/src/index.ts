// Test support for the specs of every lib and app (import it only from *.spec.ts files and test
// helpers; production code never does). It depends on node, jest's globals, playwright-core and pg.
export { SeededRandom } from './random';
export type { UniformSource } from './random';
export { longTailDensity, randomRatingDraws, randomRatings } from './ratings';
export type { RandomRatingDrawsOptions, RandomRatingSource, RandomRatingsOptions, RatingTriplets } from './ratings';
export { gaussianSolve, randomSpd, randomSpdSystem } from './linear-algebra';
export { tempDir, withTempDir } from './temp-dir';
export type { TempDirOptions } from './temp-dir';
export { describeWithData, planDataBlock, SHARED_DATA_DIR, sharedDataPath } from './shared-data';
export type { DataBlockPlan } from './shared-data';
export { browserForTests, CHROMIUM_PATH, describeWithBrowser, haveChromium, openBrowser } from './browser';
export type { BrowserSession } from './browser';
export { createTestDatabase, describeWithPostgres, TEST_DATABASE_URL_VARIABLE, testDatabaseUrl } from './postgres';
export type { TestDatabase } from './postgres';
