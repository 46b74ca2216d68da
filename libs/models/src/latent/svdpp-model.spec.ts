import { Random } from '@recsys/core';
import { buildRatingMatrix, RatingMatrix, WHOLE_STARS_1_TO_5 } from '@recsys/data';
import { randomRatings } from '@recsys/testing';
import { SvdppModel, svdppEpoch } from './svdpp-model';

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

describe('svdppEpoch', () => {
  it('matches a plain implementation of the documented update over two epochs', () => {
    const m = randomMatrix(9, 8, 7, 0.5);
    const k = 3;
    const random = new Random(1);
    const init = (n: number) => Array.from({ length: n }, () => Array.from({ length: k }, () => 0.1 * random.normal()));
    const P = init(m.nUsers);
    const Q = init(m.nMovies);
    const Y = init(m.nMovies);
    const bu = new Array<number>(m.nUsers).fill(0);
    const bi = new Array<number>(m.nMovies).fill(0);
    const P32 = Float32Array.from(P.flat());
    const Q32 = Float32Array.from(Q.flat());
    const Y32 = Float32Array.from(Y.flat());
    const bu32 = new Float32Array(m.nUsers);
    const bi32 = new Float32Array(m.nMovies);
    const rows = Array.from({ length: m.nUsers }, (_, u) =>
      Array.from({ length: m.userCount(u) }, (_, j): [number, number] => [m.userMovies[m.userPtr[u] + j], m.userRatings[m.userPtr[u] + j] * 0.5]),
    );
    const h = { lr: 0.05, reg: 0.03, lrBias: 0.02, regBias: 0.1 };
    const mu = m.globalMean();
    const orders = [[3, 0, 7, 1, 5, 2, 6, 4], [6, 2, 0, 4, 1, 7, 3, 5]].map((o) => o.filter((u) => u < m.nUsers));
    const z = new Float64Array(k);
    const g = new Float64Array(k);
    for (const order of orders) {
      referenceEpoch(rows, order, mu, bu, bi, P, Q, Y, h);
      svdppEpoch(m, Uint32Array.from(order), mu, bu32, bi32, P32, Q32, Y32, k, h.lr, h.reg, h.lrBias, h.regBias, z, g);
    }
    P.flat().forEach((v, j) => expect(P32[j]).toBeCloseTo(v, 5));
    Q.flat().forEach((v, j) => expect(Q32[j]).toBeCloseTo(v, 5));
    Y.flat().forEach((v, j) => expect(Y32[j]).toBeCloseTo(v, 5));
    bu.forEach((v, j) => expect(bu32[j]).toBeCloseTo(v, 5));
    bi.forEach((v, j) => expect(bi32[j]).toBeCloseTo(v, 5));
  });
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
