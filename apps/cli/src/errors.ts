/**
 * Exit codes: 0 success; 1 a run that failed (e.g. a model that diverged or did not beat its
 * baseline); 2 bad usage or bad input (an unknown or malformed option, a malformed row, an
 * unusable file), so that scripts can tell "fix the command" from "the run failed".
 */
export const EXIT_FAILED = 1;
export const EXIT_BAD_DATA = 2;
export const EXIT_USAGE = 2;

/** An error in what the user asked for (an unknown user, conflicting options): exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * A run that failed although it was asked for correctly: a fit that diverged, a model that did not
 * beat its reference on held-out ratings, a search where every setting failed. Exit code 1.
 */
export class RunFailedError extends Error {
  override readonly name = 'RunFailedError';
}
