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

/** A snapshot or artifact file that cannot be used: truncated, corrupted, wrong magic or newer version. */
export class SnapshotError extends Error {
  override readonly name = 'SnapshotError';
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
  }
}
