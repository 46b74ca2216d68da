import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectingSkippedBlock } from './collection';

export interface TempDirOptions {
  /** Empty the folder before each test of the block, so every test starts from an empty folder. */
  each?: boolean;
}

function makeTempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}

/**
 * A fresh folder under the OS temp folder for the tests of the enclosing `describe` block (or of
 * the file, at top level): made now (so code that collects the block may write into it) and
 * removed with its contents by an `afterAll` hook registered where it is called. Call it at file
 * or describe level, not inside a test (use {@link withTempDir} there). Hooks run in the order
 * they are defined, so define a hook that must run before the removal (stopping a server that
 * writes into the folder) before calling `tempDir`. In a block that {@link describeWithData}
 * skips, nothing is made (the path is still returned).
 *
 * With `{ each: true }` the folder is emptied before each test of the block.
 */
export function tempDir(prefix = 'recsys-test-', options: TempDirOptions = {}): string {
  if (collectingSkippedBlock()) return join(tmpdir(), `${prefix}skipped`);
  const dir = makeTempDir(prefix);
  if (options.each) {
    beforeEach(() => {
      removeTempDir(dir);
      mkdirSync(dir);
    });
  }
  afterAll(() => removeTempDir(dir));
  return dir;
}

/** Runs `fn` with a fresh temporary folder and removes the folder (with its contents) when `fn` settles. */
export async function withTempDir<T>(fn: (dir: string) => T | Promise<T>, prefix = 'recsys-test-'): Promise<T> {
  const dir = makeTempDir(prefix);
  try {
    return await fn(dir);
  } finally {
    removeTempDir(dir);
  }
}
