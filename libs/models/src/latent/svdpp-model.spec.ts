import { buildRatingMatrix, generateSynthetic, holdoutSplit, RatingMatrix, WHOLE_STARS_1_TO_5 } from '@recsys/data';
import { Shuffler } from '@recsys/optimization';
import { randomRatings } from '@recsys/testing';
import { initialFactors } from './sgd/plain-trainer';
import { SvdppModel } from './svdpp-model';
import { createSvdppTrainer, SvdppState } from './svdpp/trainer';
import { BaselineModel } from './baseline-model';

function randomMatrix(seed: number, users: number, movies: number, density: number): RatingMatrix {
  return buildRatingMatrix(randomRatings({ seed, users, movies, density }), WHOLE_STARS_1_TO_5).matrix;
}

/** The documented SVD++ epoch written plainly over arrays of numbers and per-user rating lists. */
function referenceEpoch(
  rows: Array<Array<[number, number]>>,
  order: number[],
  mu: number,
  bu: number[],
  bi: number[],
  P: number[][],
  Q: number[][],
  Y: number[][],
  h: { lr: number; reg: number; lrBias: number; regBias: number },
): void {
  for (const u of order) {
    const items = rows[u];
    const norm = 1 / Math.sqrt(items.length);
    const z = P[u].map((_, f) => norm * items.reduce((s, [j]) => s + Y[j][f], 0));
    const g = P[u].map(() => 0);
    for (const [i, r] of items) {
      const e = r - (mu + bu[u] + bi[i] + Q[i].reduce((s, q, f) => s + q * (P[u][f] + z[f]), 0));
      bu[u] += h.lrBias * (e - h.regBias * bu[u]);
      bi[i] += h.lrBias * (e - h.regBias * bi[i]);
      const pOld = P[u].slice();
      const qOld = Q[i].slice();
      for (let f = 0; f < g.length; f++) {
        g[f] += e * qOld[f];
        P[u][f] = pOld[f] + h.lr * (e * qOld[f] - h.reg * pOld[f]);
        Q[i][f] = qOld[f] + h.lr * (e * (pOld[f] + z[f]) - h.reg * qOld[f]);
      }
    }
    const shrink = (1 - h.lr * h.reg) ** items.length;
    for (const [j] of items) for (let f = 0; f < g.length; f++) Y[j][f] = shrink * Y[j][f] + h.lr * norm * g[f];
  }
}

const H = { lr: 0.05, reg: 0.03, lrBias: 0.02, regBias: 0.1 };

/** The plain reference run over `epochs` epochs: the trainer's initial factors and user orders (same seed). */
function referenceRun(m: RatingMatrix, k: number, seed: number, initStd: number, epochs: number) {
  const { P: P0, Q: Q0 } = initialFactors(m.nUsers, m.nMovies, k, seed, initStd, 0);
  const Y0 = initialFactors(0, m.nMovies, k, seed + 1, initStd, 0).Q;
  const rows2 = (a: Float32Array, n: number) => Array.from({ length: n }, (_, r) => Array.from(a.subarray(r * k, r * k + k)));
  const P = rows2(P0, m.nUsers);
  const Q = rows2(Q0, m.nMovies);
  const Y = rows2(Y0, m.nMovies);
  const bu = new Array<number>(m.nUsers).fill(0);
  const bi = new Array<number>(m.nMovies).fill(0);
  const rows = Array.from({ length: m.nUsers }, (_, u) =>
    Array.from({ length: m.userCount(u) }, (_, j): [number, number] => [m.userMovies[m.userPtr[u] + j], m.userRatings[m.userPtr[u] + j] * 0.5]),
  );
  const shuffler = new Shuffler(m.nUsers, seed);
  for (let e = 0; e < epochs; e++) referenceEpoch(rows, Array.from(shuffler.shuffle()), m.globalMean(), bu, bi, P, Q, Y, H);
  return { P, Q, Y, bu, bi };
}

async function trainerRun(m: RatingMatrix, k: number, seed: number, initStd: number, epochs: number, backend: 'wasm' | 'js', threads = 1): Promise<{ state: SvdppState; rmse: number[] }> {
  const trainer = await createSvdppTrainer(m, { factors: k, ...H, initStd, seed, backend, threads });
  try {
    const rmse: number[] = [];
    for (let e = 0; e < epochs; e++) rmse.push(await trainer.step());
    return { state: trainer.state(), rmse };
  } finally {
    await trainer.dispose();
  }
}

describe('SVD++ trainer', () => {
  const m = randomMatrix(9, 8, 7, 0.5);
  for (const backend of ['js', 'wasm'] as const) {
    it(`matches a plain implementation of the documented update over two epochs (${backend === 'js' ? 'TypeScript reference' : 'WebAssembly'} kernel)`, async () => {
      const k = 3;
      const ref = referenceRun(m, k, 1, 0.1, 2);
      const { state } = await trainerRun(m, k, 1, 0.1, 2, backend);
      ref.P.flat().forEach((v, j) => expect(state.rawUserFactors[j]).toBeCloseTo(v, 5));
      ref.Q.flat().forEach((v, j) => expect(state.movieFactors[j]).toBeCloseTo(v, 5));
      ref.Y.flat().forEach((v, j) => expect(state.implicitFactors[j]).toBeCloseTo(v, 5));
      ref.bu.forEach((v, j) => expect(state.userBias[j]).toBeCloseTo(v, 5));
      ref.bi.forEach((v, j) => expect(state.movieBias[j]).toBeCloseTo(v, 5));
    });
  }

  // 3 and 10: rows of fewer than 16 floats; 22: a 4-chunk group and two chunks more.
  for (const k of [3, 10, 22]) {
    it(`WebAssembly and the TypeScript reference give bit-identical epochs (${k} factors)`, async () => {
      const big = randomMatrix(4, 60, 40, 0.3);
      const wasm = await trainerRun(big, k, 7, 0.1, 3, 'wasm');
      const js = await trainerRun(big, k, 7, 0.1, 3, 'js');
      expect(wasm.rmse).toEqual(js.rmse);
      expect(Array.from(wasm.state.rawUserFactors)).toEqual(Array.from(js.state.rawUserFactors));
      expect(Array.from(wasm.state.movieFactors)).toEqual(Array.from(js.state.movieFactors));
      expect(Array.from(wasm.state.implicitFactors)).toEqual(Array.from(js.state.implicitFactors));
      expect(Array.from(wasm.state.movieBias)).toEqual(Array.from(js.state.movieBias));
    });
  }

  it('two worker threads learn as well as one and beat the baseline on held-out ratings', async () => {
    const data = generateSynthetic({ ratings: 60_000, users: 1_500, movies: 400, seed: 3, withDates: false });
    const split = holdoutSplit(buildRatingMatrix(data.list, WHOLE_STARS_1_TO_5).matrix, { testFraction: 0.1, seed: 1 });
    const rmse = async (threads: number) => {
      const model = await new SvdppModel({ threads }).fit(split.train);
      const p = model.predictMany(split.test);
      let sse = 0;
      for (let j = 0; j < split.test.length; j++) sse += (p[j] - split.test.ratings[j] * 0.5) ** 2;
      return Math.sqrt(sse / split.test.length);
    };
    const baseline = await new BaselineModel().fit(split.train);
    const bp = baseline.predictMany(split.test);
    let bsse = 0;
    for (let j = 0; j < split.test.length; j++) bsse += (bp[j] - split.test.ratings[j] * 0.5) ** 2;
    const one = await rmse(1);
    const two = await rmse(2);
    expect(one).toBeLessThan(Math.sqrt(bsse / split.test.length));
    expect(Math.abs(two - one)).toBeLessThan(0.01);
  }, 60_000);
});

describe('SvdppModel', () => {
  const m = randomMatrix(2, 20, 15, 0.4);

  it('predicts with the implicit term: μ + b_u + b_i + q_i·(p_u + |N(u)|^-½ Σ y_j)', async () => {
    const model = await new SvdppModel({ factors: 3, epochs: 3 }).fit(m);
    const a = model.toArtifact();
    const P = model.rawUserFactorsOfFit;
    const Y = a.sections.implicitFactors as Float32Array;
    const Q = a.sections.movieFactors as Float32Array;
    const ub = a.sections.userBias as Float64Array;
    const mb = a.sections.movieBias as Float64Array;
    const u = 5;
    const i = 9;
    const items = Array.from(m.userMovies.subarray(m.userPtr[u], m.userPtr[u + 1]));
    let dot = 0;
    for (let f = 0; f < 3; f++) {
      const implicit = items.reduce((s, j) => s + Y[j * 3 + f], 0) / Math.sqrt(items.length);
      dot += Q[i * 3 + f] * (P[u * 3 + f] + implicit);
    }
    expect(model.predict(m.users.ids[u], m.movies.ids[i]).unclipped).toBeCloseTo(m.globalMean() + ub[u] + mb[i] + dot, 5);
  });

  it('is deterministic for a seed', async () => {
    const pairs = m.toList();
    const a = (await new SvdppModel({ factors: 3, epochs: 3, seed: 5 }).fit(m)).predictMany(pairs);
    const b = (await new SvdppModel({ factors: 3, epochs: 3, seed: 5 }).fit(m)).predictMany(pairs);
    expect(Array.from(a)).toEqual(Array.from(b));
  });
});
