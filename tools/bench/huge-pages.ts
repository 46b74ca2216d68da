// What decides whether large allocations get transparent huge pages here (tools/with-huge-pages.sh).
import { readFileSync } from 'node:fs';

/** The kernel's transparent huge page mode ("always", "madvise", "never"), or null where there is none. */
export function transparentHugePageMode(): string | null {
  try {
    return /\[(\w+)\]/.exec(readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8'))?.[1] ?? null;
  } catch {
    return null;
  }
}

/**
 * Whether this run's large allocations may use transparent huge pages: the kernel's setting and
 * the GLIBC_TUNABLES that `tools/with-huge-pages.sh` sets (every child inherits it, LibMF's too).
 */
export function hugePagesSetting(): { kernel: string | null; glibcTunables: string | null } {
  return { kernel: transparentHugePageMode(), glibcTunables: process.env.GLIBC_TUNABLES ?? null };
}
