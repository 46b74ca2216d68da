import { Random } from '@recsys/core';
import * as fs from 'node:fs';
import { buildRatingMatrix, RatingListBuilder, RatingMatrix, WHOLE_STARS_1_TO_5 } from '@recsys/data';
import { resolveBackend, setBackendLogger } from './backend';
import { createAlsTrainer } from './latent/als/trainer';
import { createSgdTrainer } from './latent/sgd/trainer';
import { SGD_WASM_PATH } from './latent/sgd/kernel';
import { createModel } from './model-kinds';

function randomMatrix(seed: number, users: number, movies: number, density: number): RatingMatrix {
  const random = new Random(seed);
  const b = new RatingListBuilder(64);
  for (let u = 1; u <= users; u++) for (let m = 1; m <= movies; m++) if (random.next() < density) b.push(u, m, 2 * (1 + random.int(5)));
  return buildRatingMatrix(b.finish(), WHOLE_STARS_1_TO_5).matrix;
}

const m = randomMatrix(7, 30, 20, 0.4);
// The module object itself (a namespace import is a copy that a spy would not reach).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const nodeFs = require('node:fs') as typeof fs;
const wasmBuilt = fs.existsSync(SGD_WASM_PATH);
const itWasm = wasmBuilt ? it : it.skip;

describe('backend choice', () => {
  let lines: string[] = [];
  beforeEach(() => {
    lines = [];
    setBackendLogger((line) => lines.push(line));
  });
  afterEach(() => {
    setBackendLogger(null);
    jest.restoreAllMocks();
  });

  it('resolves auto by the presence of the compiled kernel, and refuses wasm without it naming the file and the build command', () => {
    const missing = '/nowhere/sgd.wasm';
    expect(resolveBackend('SGD', 'js', missing)).toEqual({ wasm: false, reason: "backend 'js' requested" });
    expect(resolveBackend('SGD', 'auto', missing)).toMatchObject({ wasm: false, reason: expect.stringContaining('is not built') });
    expect(() => resolveBackend('SGD', 'wasm', missing)).toThrow("backend 'wasm': the SGD kernel /nowhere/sgd.wasm is missing; build it with `node tools/build-wasm.js`");
  });

  it('the trainers fall back to TypeScript under auto when the kernel is missing, refuse wasm, and log the choice once', async () => {
    jest.spyOn(nodeFs, 'existsSync').mockReturnValue(false);
    await expect(createSgdTrainer(m, { factors: 4, lr: 0.01, reg: 0.02, backend: 'wasm' })).rejects.toThrow(/sgd\.wasm is missing; build it with `node tools\/build-wasm\.js`/);
    await expect(createAlsTrainer(m, { factors: 4, reg: 1, regBias: 1, randomFactors: { seed: 1, std: 0.1 }, backend: 'wasm' })).rejects.toThrow(/als\.wasm is missing/);
    for (let i = 0; i < 2; i++) {
      const sgd = await createSgdTrainer(m, { factors: 4, lr: 0.01, reg: 0.02 });
      expect(sgd.wasm).toBe(false);
      await sgd.dispose();
      // One thread: with existsSync mocked, no worker script would be found.
      const als = await createAlsTrainer(m, { factors: 4, reg: 1, regBias: 1, randomFactors: { seed: 1, std: 0.1 }, threads: 1 });
      expect(als.wasm).toBe(false);
      await als.dispose();
    }
    expect(lines).toEqual([
      expect.stringMatching(/^models: SGD kernel in TypeScript \(auto: .*sgd\.wasm is not built/),
      expect.stringMatching(/^models: ALS passes in TypeScript \(auto: .*als\.wasm is not built/),
    ]);
  });

  itWasm('auto picks the built kernel and says why; js is honoured', async () => {
    const auto = await createSgdTrainer(m, { factors: 4, lr: 0.01, reg: 0.02 });
    const js = await createSgdTrainer(m, { factors: 4, lr: 0.01, reg: 0.02, backend: 'js' });
    expect(auto.wasm).toBe(true);
    expect(js.wasm).toBe(false);
    await auto.dispose();
    await js.dispose();
    expect(lines).toEqual([expect.stringMatching(/^models: SGD kernel in WebAssembly \(auto: .*sgd\.wasm is built\)$/), "models: SGD kernel in TypeScript (backend 'js' requested)"]);
  });

  it('the ALS trainer refuses wasm where the kernel has nothing to do', async () => {
    await expect(createAlsTrainer(m, { factors: 4, reg: 1, regBias: 1, randomFactors: { seed: 1, std: 0.1 }, solver: 'cholesky', backend: 'wasm' })).rejects.toThrow(
      wasmBuilt ? "backend 'wasm' needs the cg row solver" : 'is missing',
    );
  });

  it('is a parameter of svd, svdpp and baseline: auto by default, checked, wasm refused where there is no kernel', async () => {
    expect(createModel('svd').params).toMatchObject({ backend: 'auto' });
    expect(createModel('svd', { solver: 'als', backend: 'js' }).params).toMatchObject({ backend: 'js' });
    expect(createModel('svdpp').params).toMatchObject({ backend: 'auto' });
    expect(createModel('baseline', { backend: 'js' }).params).toMatchObject({ backend: 'js' });
    expect(() => createModel('svd', { backend: 'gpu' })).toThrow('svd: backend must be one of auto, wasm, js, got "gpu"');
    expect(() => createModel('svd', { solver: 'lbfgs', backend: 'wasm' })).toThrow("svd: backend 'wasm': the lbfgs solver has no WebAssembly kernel");
    expect(() => createModel('svd', { factors: 0, backend: 'wasm' })).toThrow("svd: backend 'wasm': the sgd solver with 0 factors has no WebAssembly kernel");
    expect(createModel('svdpp', { backend: 'wasm' }).params).toMatchObject({ backend: 'wasm' });
    expect(() => createModel('baseline', { backend: 'wasm' })).toThrow("baseline: backend 'wasm': the biases have no WebAssembly kernel");
  });

  itWasm('svd sgd predicts bit-identically with either backend', async () => {
    const pairs = m.toList();
    const wasm = (await createModel('svd', { factors: 6, epochs: 4, backend: 'wasm' }).fit(m)).predictMany(pairs);
    const js = (await createModel('svd', { factors: 6, epochs: 4, backend: 'js' }).fit(m)).predictMany(pairs);
    expect(Array.from(js)).toEqual(Array.from(wasm));
  });
});
