import { promises as fsp } from 'node:fs';
import { availableParallelism } from 'node:os';
import { ByteProgress, CHUNK_BYTES, ChunkHandler, ChunkReader } from './byte-reader';
import { IssueLog } from './issues';
import { LoadOptions } from './options';
import { fileSize } from './plan';

/** Rating files of at least this size are read on two threads (smaller ones are not worth a thread). */
export const PARALLEL_MIN_BYTES = 8 << 20;

/**
 * State shared by the readers of one load: the malformed-row log, the reused line buffer, the
 * byte progress over every planned file, and the files and bytes actually read (for the report).
 */
export class LoadContext {
  /** Files of at least this many bytes are read on two threads (tests lower it to split tiny files). */
  parallelMinBytes = PARALLEL_MIN_BYTES;
  /** Threads to read on: `options.threads`, else every core (`os.availableParallelism()`). */
  readonly threads: number;
  readonly issues: IssueLog;
  readonly reader: ChunkReader;
  readonly progress: ByteProgress;
  readonly files: string[] = [];
  bytes = 0;

  /**
   * @param plannedFiles every file the load will read, so progress has its total up front
   * @param chunkBytes read size (tests use tiny chunks to cross chunk boundaries everywhere)
   */
  constructor(options: LoadOptions, plannedFiles: readonly string[], chunkBytes = CHUNK_BYTES) {
    this.reader = new ChunkReader(chunkBytes);
    this.threads = options.threads ?? availableParallelism();
    this.issues = new IssueLog(options.skipInvalid ?? false);
    let total = 0;
    for (const f of plannedFiles) total += fileSize(f);
    this.progress = new ByteProgress(total, options.onProgress);
  }

  /**
   * Stream a file, or its bytes [from, to), in chunks of whole lines (see
   * `ChunkReader.forEachChunk`), recording the file (once: for the range that starts it) and the
   * bytes read for the report.
   */
  async forEachChunk(path: string, onChunk: ChunkHandler, from = 0, to = Infinity): Promise<void> {
    if (from === 0) this.files.push(path);
    this.bytes += await this.reader.forEachChunk(path, onChunk, this.progress, from, to);
  }

  /** Read a small file (titles) whole, recording it for the report. */
  async readWhole(path: string): Promise<Buffer> {
    const bytes = await fsp.readFile(path);
    this.files.push(path);
    this.bytes += bytes.length;
    this.progress.add(bytes.length);
    return bytes;
  }
}

/**
 * The context of a reader thread: no planned files (the parent counts the total), and progress
 * posted to the parent as the bytes read since the last report.
 */
export function workerContext(skipInvalid: boolean, chunkBytes: number, postBytes: (bytes: number) => void): LoadContext {
  let reported = 0;
  const onProgress = (done: number): void => {
    postBytes(done - reported);
    reported = done;
  };
  return new LoadContext({ skipInvalid, onProgress }, [], chunkBytes);
}
