// The per-row work of implicit ALS (Hu, Koren & Volinsky 2008) with conjugate-gradient rows
// (Takács, Pilászy & Tikk 2011; the `implicit` library's CG solver): used by the calling thread
// and by each worker (worker.ts), so it imports nothing that needs the main thread. Two
// implementations of the same steps: plain TypeScript in f64 (the reference) and the
// AssemblyScript SIMD kernel (libs/models/assembly/ials.ts) on shared WebAssembly memory.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { wasmApi, WasmMemory, WasmModule } from '../../wasm';

/** Where the compiled iALS kernel is: libs/models/wasm/ials.wasm (next to both src/ and dist/). */
export const IALS_WASM_PATH = join(__dirname, '..', '..', '..', 'wasm', 'ials.wasm');

/**
 * Fixed row groups of each side for the Gram matrices: threads take groups from a counter and
 * each group's partial YᵀY is summed in group order, so the Gram (and everything after it) is
 * the same for any thread count.
 */
export const IALS_GRAM_GROUPS = 16;

/** Most bytes of fixed-side rows a thread copies out for a row's CG passes (longer rows read in place). */
export const IALS_GATHER_BYTES = 64 << 20;

/**
 * One side of the problem: rows in compressed form (row a's entries `ptr[a] .. ptr[a+1]−1`, each
 * the other side's index `other[j]` and the value code `codes[j]` = weight × 2), its factor rows
 * (kp f32 each) and its per-row ridge weight λ_a (f32).
 */
export interface IalsSide {
  readonly ptr: Uint32Array;
  readonly other: Int32Array;
  readonly codes: Uint8Array;
  readonly factors: Float32Array;
  readonly reg: Float32Array;
}

/**
 * Everything the row kernel reads and writes: both sides, the confidence tables by value code
 * (`cm1` = c − 1 and `cp` = c·p, 256 f32 each; codes below minWeight have both 0), the Gram of
 * the side held fixed in the current half step (`gram`, kp×kp f64, and its f32 copy `gram32`),
 * and the per-group partial Grams and Σ λ‖y‖² of {@link IalsRowKernel.gramGroup}.
 */
export interface IalsViews {
  readonly kp: number;
  readonly users: IalsSide;
  readonly items: IalsSide;
  readonly cm1: Float32Array;
  readonly cp: Float32Array;
  readonly gram: Float64Array;
  readonly gram32: Float32Array;
  readonly gramParts: Float64Array;
  readonly groupReg: Float64Array;
}

/** The row range of group g of a side of n rows. */
export function gramGroupRange(n: number, g: number): [number, number] {
  return [Math.floor((n * g) / IALS_GRAM_GROUPS), Math.floor((n * (g + 1)) / IALS_GRAM_GROUPS)];
}

interface IalsWasmExports {
  ialsRows(
    other: number,
    codes: number,
    ptr: number,
    from: number,
    to: number,
    fixed: number,
    solved: number,
    kp: number,
    k: number,
    gram: number,
    rowReg: number,
    cm1: number,
    cp: number,
    steps: number,
    withLoss: number,
    work: number,
    copy: number,
    gatherBytes: number,
  ): number;
  ialsGram(factors: number, from: number, to: number, kp: number, k: number, rowReg: number, acc: number, out: number): number;
}

const align16 = (x: number): number => Math.ceil(x / 16) * 16;

/** Offsets in a thread's scratch area: the CG vectors, the Gram accumulator, a chunk's slice of the rating arrays, the gathered rows. */
function scratchOffsets(kp: number, chunkRatings: number, chunkRows: number, gatherBytes: number): { work: number; acc: number; ptr: number; other: number; codes: number; copy: number; bytes: number } {
  const work = 0;
  const acc = align16(3 * 4 * kp + 4 * 8 * kp);
  const ptr = acc + align16(4 * kp * kp);
  const other = ptr + align16((chunkRows + 1) * 4);
  const codes = other + align16(chunkRatings * 4);
  const copy = codes + align16(chunkRatings);
  return { work, acc, ptr, other, codes, copy, bytes: copy + align16(gatherBytes) };
}

/** Bytes of one thread's scratch area for the WebAssembly kernel. */
export function ialsScratchBytes(kp: number, chunkRatings: number, chunkRows: number, gatherBytes: number): number {
  return scratchOffsets(kp, chunkRatings, chunkRows, gatherBytes).bytes;
}

let compiled: WasmModule | null = null;

/** The compiled SIMD module (once per thread). Throws when the build has not produced it. */
export function ialsWasmModule(): WasmModule {
  if (compiled === null) {
    if (!existsSync(IALS_WASM_PATH)) throw new Error(`iALS kernel ${IALS_WASM_PATH} is missing: build it with \`node tools/build-wasm.js\` (part of \`npm run build\`)`);
    compiled = new wasmApi.Module(readFileSync(IALS_WASM_PATH));
  }
  return compiled;
}

/** Where one thread's WebAssembly kernel works: the shared memory, the module and its scratch area. */
export interface IalsWasmTarget {
  readonly memory: WasmMemory;
  readonly module: WasmModule;
  /** Byte offset of this thread's scratch area. */
  readonly scratch: number;
  readonly maxChunkRatings: number;
  readonly maxChunkRows: number;
  readonly gatherBytes: number;
}

/**
 * Solves the rows of one side with the other side fixed (one instance per thread). For row a
 * with entries j (the fixed side's rows y_j, codes c_j) it takes `cgSteps` conjugate-gradient
 * steps from the current x_a on
 *
 *   (G + λ_a I + Σ_j (c_j − 1) y_j y_jᵀ) x = Σ_j c_j p_j y_j,   G = YᵀY (the whole fixed side)
 *
 * (Hu et al.'s normal equations: YᵀCᵘY = YᵀY + Yᵀ(Cᵘ − I)Y): r = b − A x (one pass over the row,
 * w_j = c_j p_j − (c_j − 1)·y_j·x, plus G x dense), p = r, then per step A p (one pass,
 * w_j = (c_j − 1)·y_j·p, plus G p + λ_a p), α = r·r/p·Ap, x += αp, r −= αAp, β = r·r_new/r·r,
 * p = r + βp. Cost per step O(n_a·k + k²). A row without entries gets x = 0 (the exact solution).
 * The residual pass also gives the row's share of the objective at the current values:
 * Σ_j c_j (p_j − d_j)² − d_j² with d_j = y_j·x (what the observed entries add to Σ_all d²).
 */
export class IalsRowKernel {
  private readonly kernel: IalsWasmExports | null;
  private readonly k: number;
  private readonly kp: number;
  // The plain kernel's vectors (f64).
  private readonly r: Float64Array;
  private readonly p: Float64Array;
  private readonly ap: Float64Array;
  private readonly x: Float64Array;
  private readonly out: Float64Array;
  // The WebAssembly kernel's slice of the current chunk's rating arrays.
  private readonly slice: { ptr: Uint32Array; other: Int32Array; codes: Uint8Array; at: ReturnType<typeof scratchOffsets> } | null;

  constructor(
    factors: number,
    private readonly cgSteps: number,
    private readonly views: IalsViews,
    private readonly wasm: IalsWasmTarget | null,
  ) {
    this.k = factors;
    this.kp = views.kp;
    const kp = views.kp;
    this.r = new Float64Array(kp);
    this.p = new Float64Array(kp);
    this.ap = new Float64Array(kp);
    this.x = new Float64Array(kp);
    this.out = new Float64Array(kp);
    if (wasm) {
      this.kernel = new wasmApi.Instance(wasm.module, { env: { memory: wasm.memory } }).exports as unknown as IalsWasmExports;
      const at = scratchOffsets(kp, wasm.maxChunkRatings, wasm.maxChunkRows, wasm.gatherBytes);
      const buffer = wasm.memory.buffer;
      this.slice = {
        ptr: new Uint32Array(buffer, wasm.scratch + at.ptr, wasm.maxChunkRows + 1),
        other: new Int32Array(buffer, wasm.scratch + at.other, wasm.maxChunkRatings),
        codes: new Uint8Array(buffer, wasm.scratch + at.codes, wasm.maxChunkRatings),
        at,
      };
    } else {
      this.kernel = null;
      this.slice = null;
    }
  }

  /** Adds group g's partial Gram of `byUser`'s side (users: XᵀX, items: YᵀY) into gramParts[g] and Σ λ‖row‖² into groupReg[g]. */
  gramGroup(byUser: boolean, g: number): void {
    const side = byUser ? this.views.users : this.views.items;
    const kp = this.kp;
    const k = this.k;
    const cells = kp * kp;
    const n = side.reg.length;
    const [from, to] = gramGroupRange(n, g);
    const part = this.views.gramParts.subarray(g * cells, (g + 1) * cells);
    part.fill(0);
    if (this.kernel && this.wasm) {
      this.views.groupReg[g] = this.kernel.ialsGram(side.factors.byteOffset, from, to, kp, k, side.reg.byteOffset, this.wasm.scratch + this.slice!.at.acc, part.byteOffset);
      return;
    }
    const Y = side.factors;
    let regSum = 0;
    for (let r = from; r < to; r++) {
      const row = r * kp;
      let norm = 0;
      for (let a = 0; a < k; a++) {
        const ya = Y[row + a];
        norm += ya * ya;
        for (let b = a; b < k; b++) part[a * kp + b] += ya * Y[row + b];
      }
      regSum += side.reg[r] * norm;
    }
    this.views.groupReg[g] = regSum;
  }

  /**
   * Solves rows `from .. to−1` of the users (`byUser`) or items in place with the other side
   * fixed and {@link IalsViews.gram} its Gram; returns Σ of the rows' objective shares at their
   * values before the update (see the class comment) when `withLoss`, else 0.
   */
  solveRows(byUser: boolean, from: number, to: number, withLoss: boolean): number {
    const rows = byUser ? this.views.users : this.views.items;
    const fixed = byUser ? this.views.items : this.views.users;
    if (this.kernel && this.wasm) {
      const s = this.slice!;
      const first = rows.ptr[from];
      const last = rows.ptr[to];
      if (last - first > this.wasm.maxChunkRatings || to - from > this.wasm.maxChunkRows) {
        throw new RangeError(`IalsRowKernel: a chunk of ${to - from} rows and ${last - first} entries exceeds the scratch area's ${this.wasm.maxChunkRows} and ${this.wasm.maxChunkRatings}`);
      }
      s.ptr.set(rows.ptr.subarray(from, to + 1));
      s.other.set(rows.other.subarray(first, last));
      s.codes.set(rows.codes.subarray(first, last));
      // Addresses that index the slice by the rows' own positions (i32 arithmetic wraps in the kernel).
      const base = this.wasm.scratch;
      return this.kernel.ialsRows(
        base + s.at.other - 4 * first,
        base + s.at.codes - first,
        base + s.at.ptr - 4 * from,
        from,
        to,
        fixed.factors.byteOffset,
        rows.factors.byteOffset,
        this.kp,
        this.k,
        this.views.gram32.byteOffset,
        rows.reg.byteOffset,
        this.views.cm1.byteOffset,
        this.views.cp.byteOffset,
        this.cgSteps,
        withLoss ? 1 : 0,
        base + s.at.work,
        base + s.at.copy,
        this.wasm.gatherBytes,
      );
    }
    let loss = 0;
    for (let a = from; a < to; a++) loss += this.solvePlain(rows, fixed, a);
    return withLoss ? loss : 0;
  }

  /** out ← Σ_j w_j y_j over row a, w_j = cm1_j·(y_j·v) (mode 0) or cp_j − cm1_j·(y_j·v) (mode 1); returns the loss terms in mode 1. */
  private passPlain(mode: 0 | 1, rows: IalsSide, fixed: IalsSide, a: number, v: Float64Array): number {
    const { k, kp, out } = this;
    const { cm1, cp } = this.views;
    const Y = fixed.factors;
    out.fill(0);
    let loss = 0;
    for (let j = rows.ptr[a]; j < rows.ptr[a + 1]; j++) {
      const row = rows.other[j] * kp;
      const code = rows.codes[j];
      let d = 0;
      for (let f = 0; f < k; f++) d += Y[row + f] * v[f];
      let w = cm1[code] * d;
      if (mode === 1) {
        loss += cp[code] - 2 * cp[code] * d + cm1[code] * d * d;
        w = cp[code] - w;
      }
      for (let f = 0; f < k; f++) out[f] += w * Y[row + f];
    }
    return loss;
  }

  /** out += (G + λI) v over the first k components. */
  private addGram(v: Float64Array, reg: number): void {
    const { k, kp, out } = this;
    const G = this.views.gram;
    for (let a = 0; a < k; a++) {
      let s = reg * v[a];
      for (let b = 0; b < k; b++) s += G[a * kp + b] * v[b];
      out[a] += s;
    }
  }

  private solvePlain(rows: IalsSide, fixed: IalsSide, a: number): number {
    const { k, kp, r, p, ap, x, out } = this;
    const X = rows.factors;
    const at = a * kp;
    if (rows.ptr[a] === rows.ptr[a + 1]) {
      X.fill(0, at, at + kp);
      return 0;
    }
    const reg = rows.reg[a];
    for (let f = 0; f < k; f++) x[f] = X[at + f];
    // r = b − A x: the pass gives Σ (cp − cm1 d) y; subtract (G + λI) x.
    const loss = this.passPlain(1, rows, fixed, a, x);
    for (let f = 0; f < k; f++) r[f] = out[f];
    out.fill(0);
    this.addGram(x, reg);
    let rr = 0;
    for (let f = 0; f < k; f++) {
      r[f] -= out[f];
      p[f] = r[f];
      rr += r[f] * r[f];
    }
    for (let s = 0; s < this.cgSteps && rr > 0; s++) {
      this.passPlain(0, rows, fixed, a, p);
      this.addGram(p, reg);
      let pap = 0;
      for (let f = 0; f < k; f++) {
        ap[f] = out[f];
        pap += p[f] * ap[f];
      }
      if (!(pap > 0)) break;
      const alpha = rr / pap;
      let rrNew = 0;
      for (let f = 0; f < k; f++) {
        x[f] += alpha * p[f];
        r[f] -= alpha * ap[f];
        rrNew += r[f] * r[f];
      }
      const beta = rrNew / rr;
      for (let f = 0; f < k; f++) p[f] = r[f] + beta * p[f];
      rr = rrNew;
    }
    for (let f = 0; f < k; f++) X[at + f] = x[f];
    return loss;
  }
}
