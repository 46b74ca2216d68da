import { ContainerError } from '@recsys/core';

/**
 * A malformed input row or file. Carries where it happened so the CLI can say
 * "file:line: reason" and exit with code 2 without a stack trace.
 */
export class DataFormatError extends Error {
  override readonly name = 'DataFormatError';
  constructor(
    readonly file: string,
    /** 1-based line number, or 0 when the problem is not tied to a line (empty file, bad header). */
    readonly line: number,
    readonly reason: string,
  ) {
    super(line > 0 ? `${file}:${line}: ${reason}` : `${file}: ${reason}`);
  }
}

/**
 * A snapshot or artifact file that cannot be used: truncated, corrupted, wrong magic, or a newer
 * or older format version. The container of @recsys/core throws it for the formats of the libs.
 */
export class SnapshotError extends ContainerError {
  override readonly name = 'SnapshotError';
}
