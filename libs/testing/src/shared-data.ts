import { existsSync } from 'node:fs';
import { isAbsolute, join, normalize, resolve } from 'node:path';
import { collectSkipped } from './collection';

/** `../shared/data` beside the repository root (this file is in libs/testing/src or libs/testing/dist). */
export const SHARED_DATA_DIR = resolve(__dirname, '../../..', '../shared/data');

/** Absolute path of a file or folder in ../shared/data, e.g. `sharedDataPath('movielens-100k', 'u1.base')`. */
export function sharedDataPath(...parts: string[]): string {
  return join(SHARED_DATA_DIR, ...parts);
}

/** What {@link describeWithData} does with a block. */
export type DataBlockPlan =
  | { action: 'run' }
  /** The data is missing outside CI: the block is skipped and `note` printed. */
  | { action: 'skip'; missing: string[]; note: string }
  /** The data is missing in CI (`CI=true`): one test fails with `reason` instead of the block. */
  | { action: 'fail'; missing: string[]; reason: string };

/**
 * Decides how a block that needs `requiredPaths` (relative to ../shared/data) runs: `run` when all
 * exist; when some are missing, `fail` if `env.CI === 'true'` (CI must not skip quietly), else `skip`.
 */
export function planDataBlock(name: string, requiredPaths: readonly string[], env: NodeJS.ProcessEnv = process.env, exists: (path: string) => boolean = existsSync): DataBlockPlan {
  if (requiredPaths.length === 0) throw new Error(`describeWithData('${name}'): no required paths given`);
  for (const p of requiredPaths) {
    if (isAbsolute(p) || normalize(p).startsWith('..')) throw new Error(`describeWithData('${name}'): '${p}' must be a path inside ../shared/data`);
  }
  const missing = requiredPaths.filter((p) => !exists(sharedDataPath(p))).map((p) => `../shared/data/${normalize(p)}`);
  if (missing.length === 0) return { action: 'run' };
  const what = `${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing`;
  if (env.CI === 'true') {
    return { action: 'fail', missing, reason: `${what} (looked in ${SHARED_DATA_DIR}); CI=true, so "${name}" fails instead of being skipped` };
  }
  return { action: 'skip', missing, note: `skipped: ${what} ("${name}")` };
}

/**
 * `describe(name, fn)` for tests on the shared data sets in ../shared/data. When every one of
 * `requiredPaths` (relative to ../shared/data, e.g. `movielens-100k/u1.base`) exists, the block
 * runs. When one is missing, the block is skipped and a plain note says so
 * ("skipped: ../shared/data/X is missing"), except in CI (`CI=true`), where the block is replaced
 * by one test that fails with that reason: CI must not pass by quietly skipping them.
 */
export function describeWithData(name: string, requiredPaths: readonly string[], fn: () => void): void {
  const plan = planDataBlock(name, requiredPaths);
  switch (plan.action) {
    case 'run':
      describe(name, fn);
      return;
    case 'skip':
      process.stderr.write(`${plan.note}\n`);
      collectSkipped(() => describe.skip(name, fn));
      return;
    case 'fail':
      describe(name, () => {
        it(`has its data: ${plan.missing.join(', ')}`, () => {
          throw new Error(plan.reason);
        });
      });
      return;
  }
}
