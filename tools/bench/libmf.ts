// LibMF as a yardstick (../shared/reference/libmf, LibMF's own binaries; never a dependency):
// the ratings of a RatingMatrix in its text format, and one timed run of `mf-train`.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { RatingMatrix } from '@recsys/data';
import { processCpuSeconds } from './api-bench-server';

/** The folder of LibMF's binaries: $LIBMF_DIR, else beside the project (`<repo>/../shared/reference/libmf`); null when absent. */
export function libmfDir(repoRoot: string): string | null {
  const dir = process.env.LIBMF_DIR ?? join(repoRoot, '..', 'shared', 'reference', 'libmf');
  return existsSync(join(dir, 'mf-train')) ? dir : null;
}

/** Writes the ASCII digits of a non-negative integer at `at`; returns the position after them. */
function putInt(buf: Buffer, at: number, value: number): number {
  if (value < 10) {
    buf[at] = 48 + value;
    return at + 1;
  }
  let digits = 0;
  for (let v = value; v > 0; v = Math.floor(v / 10)) digits++;
  let v = value;
  for (let i = at + digits - 1; i >= at; i--) {
    buf[i] = 48 + (v % 10);
    v = Math.floor(v / 10);
  }
  return at + digits;
}

/**
 * The matrix's ratings as LibMF's training text, `user movie rating` a line with the internal
 * (0-based) indices, in user order, written through one reused 16 MiB buffer to a temporary name
 * and renamed (an interrupted run leaves no half file under the final name).
 */
export function writeLibmfText(matrix: RatingMatrix, path: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  const buf = Buffer.allocUnsafe(16 << 20);
  const limit = buf.length - 64;
  let at = 0;
  const { userPtr, userMovies, userRatings } = matrix;
  try {
    for (let u = 0; u < matrix.nUsers; u++) {
      for (let k = userPtr[u]; k < userPtr[u + 1]; k++) {
        at = putInt(buf, at, u);
        buf[at++] = 32;
        at = putInt(buf, at, userMovies[k]);
        buf[at++] = 32;
        const code = userRatings[k];
        at = putInt(buf, at, code >> 1);
        if ((code & 1) !== 0) {
          buf[at++] = 46;
          buf[at++] = 53;
        }
        buf[at++] = 10;
        if (at > limit) {
          writeSync(fd, buf, 0, at);
          at = 0;
        }
      }
    }
    if (at > 0) writeSync(fd, buf, 0, at);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** One `mf-train` run: seconds per iteration from the arrival of its per-iteration lines. */
export interface LibmfRun {
  threads: number;
  factors: number;
  iterations: number;
  /** From the start to the first iteration's line: reading the text, setting up, iteration 0. */
  firstLineSeconds: number;
  /** Seconds between consecutive iteration lines (iterations 1 …): one iteration plus LibMF's loss print. */
  secondsPerIteration: number[];
  /** CPU seconds (all of mf-train's threads, from /proc) between the same lines. */
  cpuSecondsPerIteration: number[];
  medianSecondsPerIteration: number;
  trainRmse: number[];
  wallSeconds: number;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 === 1 ? s[h] : (s[h - 1] + s[h]) / 2;
}

/**
 * Runs `mf-train -s threads -k factors -t iterations -l2 reg -r lr text model` and times each
 * iteration by when its line (`iter tr_rmse obj`, flushed per iteration) arrives. The first
 * iteration's line also carries the reading of the text, so it is reported apart and iterations
 * 1 … are the per-iteration figures (at least 2 iterations are needed).
 */
export function runLibmf(dir: string, text: string, model: string, o: { threads: number; factors: number; iterations: number; reg: number; lr: number }): Promise<LibmfRun> {
  if (o.iterations < 2) throw new RangeError('runLibmf: at least 2 iterations (the first one includes reading the text)');
  const args = ['-s', String(o.threads), '-k', String(o.factors), '-t', String(o.iterations), '-l2', String(o.reg), '-r', String(o.lr), text, model];
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(join(dir, 'mf-train'), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const stamps: number[] = [];
    const cpuStamps: number[] = [];
    const rmse: number[] = [];
    let pending = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      const now = performance.now();
      pending += chunk;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl).trim();
        pending = pending.slice(nl + 1);
        const m = /^(\d+)\s+([0-9.eE+-]+)\s+/.exec(line);
        if (m) {
          stamps.push(now);
          cpuStamps.push(processCpuSeconds(child.pid ?? -1));
          rmse.push(Number(m[2]));
        }
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0 || stamps.length !== o.iterations) {
        reject(new Error(`mf-train ${args.join(' ')} exited with ${code} after ${stamps.length}/${o.iterations} iterations: ${stderr.trim()}`));
        return;
      }
      const per = stamps.slice(1).map((t, i) => (t - stamps[i]) / 1000);
      const cpu = cpuStamps.slice(1).map((t, i) => t - cpuStamps[i]);
      resolve({
        threads: o.threads,
        factors: o.factors,
        iterations: o.iterations,
        firstLineSeconds: (stamps[0] - started) / 1000,
        secondsPerIteration: per,
        cpuSecondsPerIteration: cpu,
        medianSecondsPerIteration: median(per),
        trainRmse: rmse,
        wallSeconds: (performance.now() - started) / 1000,
      });
    });
  });
}
