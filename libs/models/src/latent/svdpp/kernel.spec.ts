import { Random } from '@recsys/core';
import { wasmApi } from '../../wasm';
import { svdppReferenceKernel, svdppWasmKernel } from './kernel';

const PAGE = 65536;

/** A shared WebAssembly memory and a plain buffer of the same size, with the SIMD kernel on the first and the reference on the second. */
function kernels(pages = 4) {
  const memory = new wasmApi.Memory({ initial: pages, maximum: pages, shared: true });
  const plain = new ArrayBuffer(pages * PAGE);
  return { wasm: svdppWasmKernel(memory), wasmF32: new Float32Array(memory.buffer), reference: svdppReferenceKernel(plain), plainF32: new Float32Array(plain) };
}

describe('SVD++ pushMovies: a worker run applied to the shared movie arrays', () => {
  it('by hand: Q and b add the run\'s difference, Y takes the run\'s affine map s·y + (w − s·base)', () => {
    const { reference, wasm, plainF32, wasmF32 } = kernels(1);
    // One movie, kp = 4; offsets in floats: Q 64, Y 72, bias 80, wQ 96, wY 104, wBias 112, bQ 128, bY 136, bBias 144, yScale 160.
    for (const [kernel, f32] of [
      [reference, plainF32],
      [wasm, wasmF32],
    ] as const) {
      f32.set([1, 2, 3, 4], 64); // shared Q: base [1, 1, 1, 1] plus another thread's [0, 1, 2, 3]
      f32.set([2, 2, 2, 2], 72); // shared Y: another thread moved it from base [4, 4, 4, 4]
      f32[80] = 0.5; // shared bias: base 0.25 plus 0.25 from another thread
      f32.set([1.5, 0.5, 1, 1], 96); // this run's q: base + [0.5, -0.5, 0, 0]
      f32.set([2.5, 2.5, 3, 0], 104); // this run's y = 0.5·base + [0.5, 0.5, 1, -2]
      f32[112] = 0.125; // this run's bias: base − 0.125
      f32.set([1, 1, 1, 1], 128);
      f32.set([4, 4, 4, 4], 136);
      f32[144] = 0.25;
      f32[160] = 0.5;
      kernel.pushMovies(1, 64 * 4, 72 * 4, 80 * 4, 96 * 4, 104 * 4, 112 * 4, 128 * 4, 136 * 4, 144 * 4, 160 * 4, 4);
      expect(Array.from(f32.subarray(64, 68))).toEqual([1.5, 1.5, 3, 4]);
      // 0.5·[2, 2, 2, 2] + [0.5, 0.5, 1, -2]: the other thread's change, shrunk as this run shrank y.
      expect(Array.from(f32.subarray(72, 76))).toEqual([1.5, 1.5, 2, -1]);
      expect(f32[80]).toBe(0.375);
    }
  });

  for (const kp of [4, 16, 100]) {
    it(`the WebAssembly kernel and the TypeScript reference agree bit for bit (kp ${kp})`, () => {
      const nMovies = 37;
      const { reference, wasm, plainF32, wasmF32 } = kernels(4);
      const rows = nMovies * kp;
      const at = { Q: 1024, Y: 1024 + 4 * rows, bias: 1024 + 8 * rows };
      const w = { Q: at.bias + 4 * nMovies + 64, Y: 0, bias: 0, bQ: 0, bY: 0, bBias: 0, scale: 0 };
      w.Y = w.Q + 4 * rows;
      w.bQ = w.Y + 4 * rows;
      w.bY = w.bQ + 4 * rows;
      w.bias = w.bY + 4 * rows;
      w.bBias = w.bias + 4 * nMovies;
      w.scale = w.bBias + 4 * nMovies;
      const end = (w.scale >>> 2) + nMovies;
      expect(end * 4).toBeLessThan(4 * PAGE);
      const random = new Random(kp);
      for (let i = 256; i < end; i++) plainF32[i] = random.normal();
      // yScale in (0, 1], as products of shrinks are.
      for (let m = 0; m < nMovies; m++) plainF32[(w.scale >>> 2) + m] = Math.fround(random.next() * 0.999 + 0.001);
      wasmF32.set(plainF32);
      const args = [nMovies, at.Q, at.Y, at.bias, w.Q, w.Y, w.bias, w.bQ, w.bY, w.bBias, w.scale, kp] as const;
      reference.pushMovies(...args);
      wasm.pushMovies(...args);
      expect(Array.from(wasmF32.subarray(0, end))).toEqual(Array.from(plainF32.subarray(0, end)));
    });
  }
});

describe('SVD++ svdppUsers: the scale of each y_j over a run', () => {
  it('multiplies yScale[j] by the shrink of every user of the run who rated j, in the run\'s order, and both kernels agree', () => {
    // 3 users, 4 movies, kp 4 (byte offsets): user 0 rated movies 0 and 2, user 1 movies 1, 2 and 3, user 2 movie 2.
    const o = { order: 1024, userPtr: 1040, ratings: 1072, P: 1152, Q: 1216, Y: 1280, userBias: 1344, movieBias: 1360, norm: 1376, shrink: 1392, z: 1408, g: 1424, yScale: 1440 };
    const rated = [[0, 2], [1, 2, 3], [2]];
    const shrink = [0.9, 0.8, 0.7].map(Math.fround);
    const { reference, wasm, plainF32, wasmF32 } = kernels(1);
    const u32 = new Uint32Array(plainF32.buffer);
    u32.set([2, 0, 1], o.order >>> 2);
    u32.set([0, 2, 5, 6], o.userPtr >>> 2);
    u32.set(rated.flat().map((m, k) => ((m << 8) | (2 + (k % 8))) >>> 0), o.ratings >>> 2);
    const random = new Random(5);
    for (let i = o.P >>> 2; i < o.userBias >>> 2; i++) plainF32[i] = 0.1 * random.normal();
    plainF32.set(rated.map((r) => Math.fround(1 / Math.sqrt(r.length))), o.norm >>> 2);
    plainF32.set(shrink, o.shrink >>> 2);
    plainF32.fill(1, o.yScale >>> 2, (o.yScale >>> 2) + 4);
    wasmF32.set(plainF32);
    const run = (k: typeof wasm) => k.svdppUsers(o.order, 0, 3, o.userPtr, o.ratings, o.P, o.Q, o.Y, o.userBias, o.movieBias, o.norm, o.shrink, o.z, o.g, o.yScale, 4, 3.5, 0.01, 0.02, 0.01, 0.02);
    expect(run(wasm)).toBe(run(reference));
    // From byte 16 on: bytes 0 … 15 are the SIMD kernel's scratch word (its touching loads' sink).
    expect(Array.from(wasmF32.subarray(4, 400))).toEqual(Array.from(plainF32.subarray(4, 400)));
    // Users in the order 2, 0, 1: movie 2 is shrunk by 0.7, then 0.9, then 0.8 (each product rounded to f32).
    const f = Math.fround;
    expect(Array.from(plainF32.subarray(o.yScale >>> 2, (o.yScale >>> 2) + 4))).toEqual([shrink[0], shrink[1], f(f(shrink[2] * shrink[0]) * shrink[1]), shrink[1]]);
  });
});
