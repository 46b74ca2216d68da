import { buildRatingMatrix, RatingListBuilder, RatingMatrix, WHOLE_STARS_1_TO_5 } from '@recsys/data';
import { gaussSolve } from '../../test/reference';
import { FactorRankingModel, RankingFactors } from './factor-ranking-model';

/** A factor ranking model whose "training" adopts given factors: the base class's verbs under test. */
class GivenFactors extends FactorRankingModel {
  readonly kind = 'given-factors';
  readonly params = Object.freeze({});
  constructor(
    private readonly given: RankingFactors,
    private readonly alpha: number,
    private readonly reg: number,
  ) {
    super();
  }
  protected fitModel(): void {
    this.adoptFactors(this.given);
  }
  protected get foldInReg(): number {
    return this.reg;
  }
  protected foldInConfidence(weight: number): number {
    return 1 + this.alpha * weight;
  }
  protected get minWeight(): number {
    return 0;
  }
}

// Users 1, 2 and movies 10, 20, 30 (internal indices in id order), k = 2.
function matrix(): RatingMatrix {
  const list = new RatingListBuilder();
  list.push(1, 10, 8);
  list.push(1, 20, 6);
  list.push(2, 30, 10);
  return buildRatingMatrix(list.finish(), WHOLE_STARS_1_TO_5).matrix;
}

const Q = [
  [0.5, -0.2],
  [0.1, 0.9],
  [-0.4, 0.3],
];
const factors = (bias: Float32Array | null): RankingFactors => ({
  k: 2,
  userFactors: Float32Array.from([0.3, 0.7, -0.5, 0.2]),
  itemFactors: Float32Array.from(Q.flat()),
  itemBias: bias,
});

/** p = (QᵀQ + Σ (c_j − 1) q_j q_jᵀ + λI)⁻¹ Σ c_j q_j, written out with nested arrays. */
function referenceFoldIn(items: Array<{ m: number; w: number }>, alpha: number, reg: number): { p: number[]; W: (x: number[]) => number[]; c: number[] } {
  const A = [
    [reg, 0],
    [0, reg],
  ];
  for (const q of Q) for (let a = 0; a < 2; a++) for (let b = 0; b < 2; b++) A[a][b] += q[a] * q[b];
  const rhs = [0, 0];
  const c = items.map(({ w }) => 1 + alpha * w);
  items.forEach(({ m }, j) => {
    for (let a = 0; a < 2; a++) {
      rhs[a] += c[j] * Q[m][a];
      for (let b = 0; b < 2; b++) A[a][b] += (c[j] - 1) * Q[m][a] * Q[m][b];
    }
  });
  return { p: gaussSolve(A, rhs), W: (x) => gaussSolve(A, x), c };
}

describe('FactorRankingModel', () => {
  it('scores trained users by p_u·q_i + b_i and unknown users by b_i', async () => {
    const bias = Float32Array.from([0.1, 0.2, 0.3]);
    const model = await new GivenFactors(factors(bias), 2, 0.5).fit(matrix());
    // User 2 (p = [-0.5, 0.2]) did not interact with 10 and 20: 20 scores 0.2 + (-0.05 + 0.18) = 0.33, 10 scores 0.1 + (-0.25 - 0.04) = -0.19.
    const list = model.recommend(2, 3);
    expect(list.map((r) => r.movieId)).toEqual([20, 10]);
    expect(list[0].score).toBeCloseTo(0.33, 6);
    expect(list[1].score).toBeCloseTo(-0.19, 6);
    expect(model.recommend(99, 1)).toEqual([{ movieId: 30, score: expect.closeTo(0.3, 6) }]);
  });

  it('folds a user in by the implicit least squares, and explains the score by exact shares', async () => {
    const model = await new GivenFactors(factors(null), 2, 0.5).fit(matrix());
    const interactions = [
      { movieId: 10, weight: 4 },
      { movieId: 30, weight: 1 },
      { movieId: 30, weight: 2 }, // repeats sum: weight 3
      { movieId: 77, weight: 5 }, // unknown movie: ignored
    ];
    const user = model.foldIn(interactions);
    const ref = referenceFoldIn(
      [
        { m: 0, w: 4 },
        { m: 2, w: 3 },
      ],
      2,
      0.5,
    );
    expect(Array.from(user.movies)).toEqual([0, 2]);
    expect(Array.from(user.weights)).toEqual([4, 3]);
    expect(user.knownInteractions).toBe(3);
    expect(user.vector?.[0]).toBeCloseTo(ref.p[0], 5);
    expect(user.vector?.[1]).toBeCloseTo(ref.p[1], 5);

    // The user's list leaves out what they interacted with: only movie 20 remains.
    const list = model.recommendFolded(user, 3);
    expect(list.map((r) => r.movieId)).toEqual([20]);
    const score20 = ref.p[0] * Q[1][0] + ref.p[1] * Q[1][1];
    expect(list[0].score).toBeCloseTo(score20, 5);

    // c_j (W q_i)·q_j, summing to the score.
    const shares = model.explain(interactions, 20);
    const wq = ref.W(Q[1]);
    const expected = [
      { movieId: 10, share: ref.c[0] * (wq[0] * Q[0][0] + wq[1] * Q[0][1]) },
      { movieId: 30, share: ref.c[1] * (wq[0] * Q[2][0] + wq[1] * Q[2][1]) },
    ].sort((a, b) => Math.abs(b.share) - Math.abs(a.share));
    expect(shares.map((s) => s.movieId)).toEqual(expected.map((e) => e.movieId));
    shares.forEach((s, j) => expect(s.contribution).toBeCloseTo(expected[j].share, 5));
    expect(shares.reduce((sum, s) => sum + s.contribution, 0)).toBeCloseTo(score20, 5);
    expect(model.explain(interactions, 20, 1)).toHaveLength(1);
    expect(model.explain(interactions, 12345)).toEqual([]);
  });

  it('ranks similar movies by the cosine of their factors', async () => {
    const model = await new GivenFactors(factors(null), 1, 1).fit(matrix());
    const cos = (a: number[], b: number[]): number => (a[0] * b[0] + a[1] * b[1]) / (Math.hypot(...a) * Math.hypot(...b));
    const similar = model.similar(30, 5);
    const expected = [
      { movieId: 20, similarity: cos(Q[2], Q[1]) },
      { movieId: 10, similarity: cos(Q[2], Q[0]) },
    ].sort((a, b) => b.similarity - a.similarity);
    expect(similar.map((s) => s.movieId)).toEqual(expected.map((e) => e.movieId));
    similar.forEach((s, j) => expect(s.similarity).toBeCloseTo(expected[j].similarity, 6));
    expect(model.similar(12345, 3)).toEqual([]);
  });

  it('round-trips through its artifact content', async () => {
    const bias = Float32Array.from([0.1, 0.2, 0.3]);
    const model = await new GivenFactors(factors(bias), 2, 0.5).fit(matrix());
    const content = model.toArtifact();
    expect(Object.keys(content.sections).sort()).toEqual(['itemBias', 'itemFactors', 'userFactors']);
    expect(content.meta).toEqual({ factors: 2, itemBias: true });
  });

  it('refuses factors of the wrong shape, naming them', async () => {
    const bad = { ...factors(null), itemFactors: new Float32Array(5) };
    await expect(new GivenFactors(bad, 1, 1).fit(matrix())).rejects.toThrow('5 item factors, expected 3 × 2');
  });
});
