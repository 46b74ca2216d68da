// Internal: whether describeWithData is collecting a block it skips, so that helpers called while
// collecting it (tempDir) leave nothing behind: the hooks of a skipped block never run.
let skippedDepth = 0;

/** Runs `collect` (a describe.skip call) with {@link collectingSkippedBlock} true. */
export function collectSkipped(collect: () => void): void {
  skippedDepth++;
  try {
    collect();
  } finally {
    skippedDepth--;
  }
}

export function collectingSkippedBlock(): boolean {
  return skippedDepth > 0;
}
