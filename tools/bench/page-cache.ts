// How much of some files the kernel's page cache holds, read with util-linux's `fincore`: the
// import benchmark's input may have been evicted since it was last read (this VM runs DAMON's
// proactive reclaim, which pages out memory idle for a minute), and reading it from the disk
// inside the timed import costs throughput the parser does not.
import { execFileSync } from 'node:child_process';

export interface PageCacheResidency {
  /** Bytes of the files in the page cache. */
  residentBytes: number;
  /** Bytes of the files. */
  bytes: number;
  /** residentBytes ÷ bytes (1 for empty files). */
  share: number;
}

/** Parses `fincore --bytes --raw --noheadings --output RES,SIZE FILE…`: one "RES SIZE" line per file. */
export function parseFincore(output: string): PageCacheResidency {
  let residentBytes = 0;
  let bytes = 0;
  for (const line of output.split('\n')) {
    if (line.trim() === '') continue;
    const fields = line.trim().split(/\s+/);
    const res = Number(fields[0]);
    const size = Number(fields[1]);
    if (fields.length !== 2 || !Number.isSafeInteger(res) || !Number.isSafeInteger(size) || res < 0 || size < 0) {
      throw new Error(`fincore: expected "RES SIZE" in bytes, got ${JSON.stringify(line)}`);
    }
    residentBytes += res;
    bytes += size;
  }
  return { residentBytes, bytes, share: bytes === 0 ? 1 : residentBytes / bytes };
}

/** The page-cache residency of `files`, or null when `fincore` is not installed or fails (a note, not an error: the figure is context). */
export function pageCacheResidency(files: string[]): PageCacheResidency | null {
  if (files.length === 0) return { residentBytes: 0, bytes: 0, share: 1 };
  try {
    const output = execFileSync('fincore', ['--bytes', '--raw', '--noheadings', '--output', 'RES,SIZE', ...files], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return parseFincore(output);
  } catch {
    return null;
  }
}
