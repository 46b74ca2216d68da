import { createHash } from 'node:crypto';
import { mkdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { Dataset, ImportReport, LoadedDataset } from '../dataset';
import { readSnapshotWithMeta, ReadSnapshotOptions, SNAPSHOT_VERSION, writeSnapshot } from '../snapshot';

/** The key of an import: every input file with its size and modification time, and the options that change the result. */
interface CacheKey {
  readonly version: number;
  readonly format: string;
  readonly skipInvalid: boolean;
  readonly files: ReadonlyArray<readonly [path: string, size: number, mtimeMs: number]>;
  /** A column mapping and scale given with the import (absent without them, as in older cache files). */
  readonly mapping?: Readonly<Record<string, string>>;
}

interface CacheMeta {
  readonly key: CacheKey;
  readonly report: ImportReport;
}

/**
 * The snapshot cache of text imports: the import of a folder or file is kept as one snapshot in
 * the cache folder, named by a hash of the source's absolute path, the format, `skipInvalid` and any column mapping or scale
 * (one file per source, replaced when the source changes, so old versions do not pile up).
 * Its header holds the key (absolute path, size and mtime of every file read, titles included,
 * the format, `skipInvalid`, the snapshot version) and the import's report. A later import whose
 * key matches reads the snapshot (seconds at 100M, against re-parsing gigabytes of text); a
 * cache file whose key differs (a file changed size or time: stale) or that does not read
 * (corrupt, truncated) is ignored with a warning, and the import rewrites it. Writes are atomic
 * (`writeSnapshot`: temp file, then rename), so a crash never leaves half a cache file.
 */
export class ImportCache {
  readonly path: string;
  private readonly key: CacheKey;

  /** @param mapping the options besides the format that change what is read (`columns`, `scale`), as text */
  constructor(cacheDir: string, source: string, format: string, skipInvalid: boolean, files: readonly string[], mapping: Readonly<Record<string, string>> = {}) {
    const mapped = Object.keys(mapping).length > 0;
    this.key = {
      version: SNAPSHOT_VERSION,
      format,
      skipInvalid,
      files: files.map((f) => {
        const st = statSync(f);
        return [resolve(f), st.size, st.mtimeMs] as const;
      }),
      ...(mapped ? { mapping } : {}),
    };
    const hash = createHash('sha256')
      .update(JSON.stringify(mapped ? [resolve(source), format, skipInvalid, mapping] : [resolve(source), format, skipInvalid]))
      .digest('hex')
      .slice(0, 16);
    const name = basename(resolve(source)).replace(/[^A-Za-z0-9._-]/g, '_');
    this.path = join(cacheDir, `import-${name}-${hash}.rsnap`);
  }

  /**
   * The cached data set with its original report (seconds: `seconds`), or null with the reason
   * when there is no usable cache file (null reason: there is none). `options` as readSnapshot's.
   */
  read(seconds: () => number, options: ReadSnapshotOptions = {}): { dataset: LoadedDataset | null; warning?: string } {
    let entry: { dataset: Dataset; meta: unknown };
    try {
      statSync(this.path);
    } catch {
      return { dataset: null };
    }
    try {
      entry = readSnapshotWithMeta(this.path, options);
    } catch (e) {
      return { dataset: null, warning: `ignoring the import cache ${this.path}: ${(e as Error).message}` };
    }
    const meta = entry.meta as Partial<CacheMeta> | undefined;
    if (meta === undefined || JSON.stringify(meta.key) !== JSON.stringify(this.key) || meta.report === undefined) {
      return { dataset: null, warning: `ignoring the import cache ${this.path}: stale (written for other files, sizes or modification times); re-reading the text` };
    }
    const { matrix, catalog } = entry.dataset;
    if (meta.report.ratings !== matrix.nRatings || meta.report.users !== matrix.nUsers || meta.report.movies !== matrix.nMovies) {
      return { dataset: null, warning: `ignoring the import cache ${this.path}: stale (its report does not match its ratings)` };
    }
    const report: ImportReport = { ...meta.report, seconds: seconds(), cache: { path: this.path, used: true, written: false } };
    return { dataset: { matrix, catalog, report } };
  }

  /** Write the data set and its report to the cache file (atomically); a failure is a warning, not an error. */
  write(dataset: Dataset, report: ImportReport): string | undefined {
    try {
      mkdirSync(resolve(this.path, '..'), { recursive: true });
      const { cache: _cache, ...stored } = report;
      const meta: CacheMeta = { key: this.key, report: stored };
      writeSnapshot(this.path, dataset, meta);
      return undefined;
    } catch (e) {
      return `could not write the import cache ${this.path}: ${(e as Error).message}`;
    }
  }
}
