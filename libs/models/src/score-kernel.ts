// Scores of every movie for one user vector, the inner loop of a recommendation list: the
// WebAssembly SIMD kernel of libs/models/assembly/score.ts over a panel copy of the movie factors,
// and the plain TypeScript loops it must agree with bit for bit (the references of the specs and
// the fallback when the module is not built).
import { join } from 'node:path';
import { logBackend, resolveBackend } from './backend';
import { compiledWasmModule, wasmApi } from './wasm';

/** libs/models/wasm/score.wasm, above both src/ and dist/. */
export const SCORE_WASM_PATH = join(__dirname, '..', 'wasm', 'score.wasm');

/**
 * How a score sums p·q_m:
 * - `4`: four sums by f mod 4 (the factors past the last multiple of 4 added to the first), then
 *   out[m] = (base + start[m]) + (((d0 + d1) + d2) + d3): {@link LatentModel}'s order;
 * - `1`: one running sum from start[m] (base ignored): the factor ranking models' order.
 */
export type ScoreSums = 1 | 4;

/** Movies per panel of the kernel's layout (the panels come in pairs: scoreSum1 takes two at a time). */
const PANEL = 4;

/**
 * The plain TypeScript scores (the reference of {@link MovieScorer}): out[m] for m < out.length
 * from p[offset .. offset + k), Q (out.length × k, row-major) and start[m] (0 when null).
 */
export function referenceScores(sums: ScoreSums, Q: ArrayLike<number>, k: number, start: ArrayLike<number> | null, p: ArrayLike<number>, offset: number, base: number, out: Float64Array): void {
  if (sums === 1) {
    for (let m = 0, row = 0; m < out.length; m++, row += k) {
      let s = start === null ? 0 : start[m];
      for (let f = 0; f < k; f++) s += p[offset + f] * Q[row + f];
      out[m] = s;
    }
    return;
  }
  // Four independent sums (the CPU overlaps their multiply-adds).
  const k4 = k & ~3;
  for (let m = 0, q = 0; m < out.length; m++, q += k) {
    let d0 = 0;
    let d1 = 0;
    let d2 = 0;
    let d3 = 0;
    let f = 0;
    for (; f < k4; f += 4) {
      d0 += p[offset + f] * Q[q + f];
      d1 += p[offset + f + 1] * Q[q + f + 1];
      d2 += p[offset + f + 2] * Q[q + f + 2];
      d3 += p[offset + f + 3] * Q[q + f + 3];
    }
    for (; f < k; f++) d0 += p[offset + f] * Q[q + f];
    out[m] = base + (start === null ? 0 : start[m]) + (d0 + d1 + d2 + d3);
  }
}

interface ScoreExports {
  scoreSum4(panels: number, nPanels: number, k: number, p: number, start: number, base: number, out: number): void;
  scoreSum1(panels: number, nPanels: number, k: number, p: number, start: number, out: number): void;
}

/**
 * One model's movie factors in the kernel's memory (a copy laid out in panels of 4 movies: about
 * 4·k bytes per movie, 7.1 MB at 17,770 movies × 100 factors) and its per-movie start values:
 * {@link score} fills a Float64Array with every movie's score, equal bit for bit to
 * {@link referenceScores} with the same arguments (each SIMD lane is one movie, summed in the
 * scalar order; products of f32 values are exact in f64). The copy is taken once: a model
 * builds its scorer after its factors are final and drops it when it adopts new ones.
 */
export class MovieScorer {
  private constructor(
    private readonly kernel: ScoreExports,
    private readonly f64: Float64Array,
    readonly sums: ScoreSums,
    readonly k: number,
    readonly nMovies: number,
    private readonly nPanels: number,
    private readonly at: { panels: number; start: number; p: number; out: number },
  ) {}

  /**
   * The scorer of Q (nMovies × k, row-major) and start (per movie; null: 0), or null when the
   * kernel is not built (`node tools/build-wasm.js`; callers then use {@link referenceScores}).
   */
  static create(sums: ScoreSums, Q: ArrayLike<number>, k: number, nMovies: number, start: ArrayLike<number> | null): MovieScorer | null {
    const backend = resolveBackend('scoring', 'auto', SCORE_WASM_PATH);
    logBackend(`models: recommendation scoring ${backend.wasm ? 'in WebAssembly' : 'in TypeScript'} (${backend.reason})`);
    if (!backend.wasm) return null;
    if (Q.length < nMovies * k) throw new RangeError(`MovieScorer: ${Q.length} factors, expected ${nMovies} × ${k}`);
    const nPanels = 2 * Math.ceil(nMovies / (2 * PANEL));
    const padded = nPanels * PANEL;
    const panelBytes = k * PANEL * 4;
    const at = { panels: 0, start: nPanels * panelBytes, p: 0, out: 0 };
    at.p = at.start + padded * 8;
    at.out = at.p + k * 8;
    const bytes = at.out + padded * 8;
    const pages = Math.max(1, Math.ceil(bytes / 65_536));
    const memory = new wasmApi.Memory({ initial: pages, maximum: pages, shared: true });
    const kernel = new wasmApi.Instance(compiledWasmModule(SCORE_WASM_PATH, 'scoring kernel'), { env: { memory } }).exports as unknown as ScoreExports;
    const f32 = new Float32Array(memory.buffer, 0, (nPanels * panelBytes) / 4);
    for (let m = 0; m < nMovies; m++) {
      const panel = (m / PANEL) | 0;
      const lane = m % PANEL;
      const base = panel * k * PANEL + lane;
      for (let f = 0, row = m * k; f < k; f++) f32[base + f * PANEL] = Q[row + f];
    }
    const f64 = new Float64Array(memory.buffer);
    if (start !== null) for (let m = 0; m < nMovies; m++) f64[at.start / 8 + m] = start[m];
    return new MovieScorer(kernel, f64, sums, k, nMovies, nPanels, at);
  }

  /** out[m] = the score of movie m for the user vector p[offset .. offset + k) (base: see {@link ScoreSums}). */
  score(p: ArrayLike<number>, offset: number, base: number, out: Float64Array): void {
    const { at, k, f64 } = this;
    const pAt = at.p / 8;
    for (let f = 0; f < k; f++) f64[pAt + f] = p[offset + f];
    if (this.sums === 4) this.kernel.scoreSum4(at.panels, this.nPanels, k, at.p, at.start, base, at.out);
    else this.kernel.scoreSum1(at.panels, this.nPanels, k, at.p, at.start, at.out);
    out.set(f64.subarray(at.out / 8, at.out / 8 + Math.min(out.length, this.nMovies)));
  }
}
