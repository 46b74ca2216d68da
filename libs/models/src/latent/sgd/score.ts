import { SgdKernel, sgdWasmModule, wasmKernel } from './kernel';
import { wasmApi } from '../../wasm';

/**
 * Batched dot products for scoring: out[m] = base + bias[m] + p·Q[m] for every movie m, with Q
 * nMovies × k row-major (k = p.length) and the sum taken in f64. A plain loop, fine for one
 * user (17,770 × 100 multiply-adds take about a millisecond); for many users over the same Q use
 * {@link MovieScorer}, which copies Q once into WebAssembly memory and runs the SIMD kernel.
 */
export function scoreAllMovies(
  p: Float32Array,
  Q: Float32Array,
  movieBias: Float32Array,
  base: number,
  out: Float64Array | Float32Array,
): void {
  const k = p.length;
  const nMovies = movieBias.length;
  if (Q.length !== nMovies * k) {
    throw new RangeError(`scoreAllMovies: Q has ${Q.length} floats, expected ${nMovies} movies × ${k} factors`);
  }
  if (out.length < nMovies) throw new RangeError(`scoreAllMovies: out holds ${out.length} scores, need ${nMovies}`);
  for (let m = 0; m < nMovies; m++) {
    const row = m * k;
    let dot = 0;
    let f = 0;
    for (; f + 4 <= k; f += 4) {
      dot += p[f] * Q[row + f] + p[f + 1] * Q[row + f + 1] + p[f + 2] * Q[row + f + 2] + p[f + 3] * Q[row + f + 3];
    }
    for (; f < k; f++) dot += p[f] * Q[row + f];
    out[m] = base + movieBias[m] + dot;
  }
}

/**
 * Scores every movie for many users with the SIMD kernel: Q (nMovies × k) and the movie biases
 * are copied once into WebAssembly memory, rows padded to a multiple of 4 floats.
 * `score(p, base, out)` sets out[m] = base + bias[m] + p·Q[m]; the dot product is summed in f32
 * (four f32x4 accumulators), the rest in f64.
 */
export class MovieScorer {
  readonly nMovies: number;
  readonly factors: number;
  private readonly kp: number;
  private readonly kernel: SgdKernel;
  private readonly pAt: number;
  private readonly qAt: number;
  private readonly biasAt: number;
  private readonly outAt: number;
  private readonly f32: Float32Array;
  private readonly f64: Float64Array;

  constructor(Q: Float32Array, movieBias: Float32Array, factors: number) {
    if (!Number.isInteger(factors) || factors < 1) throw new RangeError(`MovieScorer: factors must be an integer ≥ 1, got ${factors}`);
    const nMovies = movieBias.length;
    if (Q.length !== nMovies * factors) {
      throw new RangeError(`MovieScorer: Q has ${Q.length} floats, expected ${nMovies} movies × ${factors} factors`);
    }
    this.nMovies = nMovies;
    this.factors = factors;
    const kp = (this.kp = Math.ceil(factors / 4) * 4);
    const align = (x: number): number => Math.ceil(x / 16) * 16;
    this.pAt = 1024;
    this.qAt = align(this.pAt + kp * 4);
    this.biasAt = align(this.qAt + nMovies * kp * 4);
    this.outAt = align(this.biasAt + nMovies * 4);
    const pages = Math.ceil((this.outAt + nMovies * 8) / 65536);
    const memory = new wasmApi.Memory({ initial: pages, maximum: pages, shared: true });
    this.kernel = wasmKernel(memory, sgdWasmModule());
    this.f32 = new Float32Array(memory.buffer);
    this.f64 = new Float64Array(memory.buffer);
    for (let m = 0; m < nMovies; m++) this.f32.set(Q.subarray(m * factors, (m + 1) * factors), (this.qAt >>> 2) + m * kp);
    this.f32.set(movieBias, this.biasAt >>> 2);
  }

  /** out[m] = base + bias[m] + p·Q[m] for every movie (p holds `factors` floats). */
  score(p: Float32Array, base: number, out: Float64Array | Float32Array): void {
    if (p.length !== this.factors) throw new RangeError(`MovieScorer: p has ${p.length} floats, expected ${this.factors}`);
    if (out.length < this.nMovies) throw new RangeError(`MovieScorer: out holds ${out.length} scores, need ${this.nMovies}`);
    this.f32.set(p, this.pAt >>> 2);
    this.kernel.scoreMovies(this.pAt, this.qAt, this.biasAt, base, this.outAt, 0, this.nMovies, this.kp);
    const at = this.outAt >>> 3;
    if (out instanceof Float64Array) out.set(this.f64.subarray(at, at + this.nMovies));
    else for (let m = 0; m < this.nMovies; m++) out[m] = this.f64[at + m];
  }
}
