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

  constructor(readonly skipInvalid = false) {}

  /** Report a malformed row: throws unless skipping, in which case the caller drops the row. */
  reject(file: string, line: number, reason: string): void {
    if (!this.skipInvalid) throw new DataFormatError(file, line, reason);
    this.skipped++;
    if (this.examples.length < MAX_SKIPPED_EXAMPLES) this.examples.push({ file, line, reason });
  }
}
