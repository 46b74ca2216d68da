import { ImportIssue } from '../dataset';
import { DataFormatError } from '../errors';

/** How many skipped rows a report keeps as examples. */
export const MAX_SKIPPED_EXAMPLES = 10;

/**
 * Where malformed rows go: by default the first one throws `DataFormatError(file, line, reason)`;
 * with `skipInvalid` each is counted and the first `MAX_SKIPPED_EXAMPLES` are kept.
 */
export class IssueLog {
  skipped = 0;
  readonly examples: ImportIssue[] = [];
  /** Interaction weights above 127.5 that were stored as 127.5 (rows kept, not malformed). */
  capped = 0;

  constructor(readonly skipInvalid = false) {}

  /** Report a malformed row: throws unless skipping, in which case the caller drops the row. */
  reject(file: string, line: number, reason: string): void {
    if (!this.skipInvalid) throw new DataFormatError(file, line, reason);
    this.skipped++;
    if (this.examples.length < MAX_SKIPPED_EXAMPLES) this.examples.push({ file, line, reason });
  }

  /**
   * Take over the skipped rows another reader logged (a worker thread reading a later part of
   * the file): its count, and its examples with line numbers shifted by `lineOffset` (the lines
   * before that part), kept while there is room for examples.
   */
  absorb(skipped: number, examples: readonly ImportIssue[], lineOffset: number): void {
    this.absorbShifted(skipped, examples, () => lineOffset);
  }

  /** As `absorb`, with the line offset of each example chosen by its file (a range spanning files). */
  absorbShifted(skipped: number, examples: readonly ImportIssue[], lineOffsetOf: (file: string) => number): void {
    this.skipped += skipped;
    for (const e of examples) {
      if (this.examples.length >= MAX_SKIPPED_EXAMPLES) break;
      this.examples.push({ file: e.file, line: e.line + lineOffsetOf(e.file), reason: e.reason });
    }
  }
}
