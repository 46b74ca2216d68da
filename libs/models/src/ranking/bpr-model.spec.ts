import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Random } from '@recsys/core';
import { buildRatingMatrix, RatingListBuilder, RatingMatrix, WHOLE_STARS_1_TO_5 } from '@recsys/data';
import { setBackendLogger } from '../backend';
import { createModel, loadModel, saveModel } from '../model-kinds';
import { BprModel, bprParams, BprProgress } from './bpr-model';
import { BPR_STATE, referenceBprKernel } from './bpr/kernel';
import { BprTrainer, BprTrainerOptions, createBprTrainer } from './bpr/trainer';

beforeAll(() => setBackendLogger(() => {}));
afterAll(() => setBackendLogger(null));

const BACKENDS = ['wasm', 'js'] as const;

function matrixOf(entries: Array<[number, number, number]>): RatingMatrix {
  const list = new RatingListBuilder();
  for (const [u, m, stars] of entries) list.push(u, m, stars * 2);
  return buildRatingMatrix(list.finish(), WHOLE_STARS_1_TO_5).matrix;
}

/** Users × movies with positives drawn at random (about `density` of the cells), ratings 1–5. */
function randomMatrix(users: number, movies: number, density: number, seed: number): RatingMatrix {
  const random = new Random(seed);
  const entries: Array<[number, number, number]> = [];
  for (let u = 1; u <= users; u++) {
    for (let m = 1; m <= movies; m++) if (random.next() < density) entries.push([u, m, 1 + random.int(5)]);
    if (!entries.some(([eu]) => eu === u)) entries.push([u, 1 + random.int(movies), 3]);
  }
  return matrixOf(entries);
}

/** Planted groups: user u belongs to group u mod G and has 5 of its group's 10 movies (ids g·10 + 1 …). */
function plantedMatrix(users: number, groups: number, seed: number): RatingMatrix {
  const random = new Random(seed);
  const entries: Array<[number, number, number]> = [];
  for (let u = 0; u < users; u++) {
    const g = u % groups;
    const movies = Int32Array.from({ length: 10 }, (_, i) => g * 10 + 1 + i);
    random.shuffle(movies);
    for (let i = 0; i < 5; i++) entries.push([u + 1, movies[i], 4]);
  }
  return matrixOf(entries);
}

function options(over: Partial<BprTrainerOptions>): BprTrainerOptions {
  return { factors: 4, minWeight: 0, negativeSampling: 0, seed: 7, threads: 1, initStd: 0.1, backend: 'wasm', ...over };
}

function rngWord(trainer: BprTrainer, thread = 0): number {
  return (trainer.layout.states + thread * BPR_STATE.bytes + BPR_STATE.rng) >>> 2;
}

/** Triples (u, i, j) the trainer's kernel draws next for thread 0, its sampler state left as it was. */
function drawTriples(trainer: BprTrainer, count: number): Uint32Array {
  const { layout } = trainer;
  const u32 = new Uint32Array(trainer.buffer);
  const out = layout.bytes - count * 12;
  const saved = u32[rngWord(trainer)];
  trainer.kernel.bprDraw(layout.ptr, layout.movies, layout.owners, layout.nMovies, layout.userFrom[0], layout.userFrom[1], layout.table, layout.tableLen, layout.states, count, out);
  u32[rngWord(trainer)] = saved;
  return u32.slice(out >>> 2, (out >>> 2) + 3 * count);
}

describe('bpr kernel', () => {
  it.each(BACKENDS)('%s: one step on a hand-computed triple', async (backend) => {
    // Positives: only user 1 × movie 10 (user 2's 1-star rating of 20 is below minWeight 2), so
    // the epoch is one sample, (user 1, i = 10, j = 20).
    const train = matrixOf([
      [1, 10, 4],
      [2, 20, 1],
    ]);
    const trainer = await createBprTrainer(train, options({ minWeight: 2, backend }));
    try {
      const { layout } = trainer;
      const f32 = new Float32Array(trainer.buffer);
      f32.set([0.1, 0.2, 0.3, 0.4], layout.P >>> 2);
      f32.set([0.5, -0.1, 0.2, 0, -0.3, 0.4, 0.1, 0.2], layout.Q >>> 2);
      f32.set([0.1, -0.2], layout.bias >>> 2);
      const stats = await trainer.step({ lr: 0.1, regUser: 0.01, regItem: 0.02, regBias: 0.03 });
      // x = 0.1 + 0.2 + p·(q_i − q_j) = 0.23, g = 1 / (1 + e^0.23) = 0.442752145, −ln σ(x) = 0.584745157.
      expect(stats.loss).toBeCloseTo(0.5847451567037304, 6);
      expect(stats.auc).toBe(1);
      const expected = {
        p: [0.13532017163211557, 0.1776623927299278, 0.30412752145401445, 0.39074495709197116],
        qi: [0.5034275214540145, -0.09094495709197112, 0.21288256436204334, 0.017710085816057774],
        qj: [-0.3038275214540144, 0.39034495709197115, 0.08651743563795668, 0.18188991418394224],
        b: [0.14397521454014445, -0.24367521454014446],
      };
      const f = trainer.factors();
      const close = (got: ArrayLike<number>, want: number[]): void => want.forEach((w, i) => expect(got[i]).toBeCloseTo(w, 6));
      close(f.userFactors.subarray(0, 4), expected.p);
      close(f.itemFactors.subarray(0, 4), expected.qi);
      close(f.itemFactors.subarray(4, 8), expected.qj);
      close(f.itemBias!, expected.b);
      // User 2 has no positive: untouched.
      expect(Array.from(f.userFactors.subarray(4, 8))).toEqual(Array.from(new Float32Array(trainer.buffer, layout.P + 16, 4)));
    } finally {
      await trainer.dispose();
    }
  });

  it('an epoch of the SIMD kernel equals a plain f64 reference of the update rule on the same samples', async () => {
    const train = randomMatrix(60, 40, 0.2, 3);
    const trainer = await createBprTrainer(train, options({ factors: 6, extraBytes: train.nRatings * 12 }));
    try {
      const { nUsers, nMovies } = trainer.layout;
      const before = trainer.factors();
      const triples = drawTriples(trainer, train.nRatings);
      // The TypeScript sampler draws exactly the kernel's samples.
      const copy = trainer.buffer.slice(0);
      const u32 = new Uint32Array(copy);
      const out = trainer.layout.bytes - train.nRatings * 12;
      const { layout } = trainer;
      referenceBprKernel(copy).bprDraw(layout.ptr, layout.movies, layout.owners, layout.nMovies, 0, nUsers, 0, 0, layout.states, train.nRatings, out);
      expect(u32.slice(out >>> 2, (out >>> 2) + triples.length)).toEqual(triples);

      const params = { lr: 0.05, regUser: 0.01, regItem: 0.02, regBias: 0.005 };
      await trainer.step(params);
      // Plain reference: nested arrays, f64, straight from the update rule.
      const k = 6;
      const P = Array.from({ length: nUsers }, (_, u) => Array.from(before.userFactors.subarray(u * k, u * k + k)));
      const Q = Array.from({ length: nMovies }, (_, m) => Array.from(before.itemFactors.subarray(m * k, m * k + k)));
      const b = Array.from(before.itemBias!);
      for (let s = 0; s < triples.length; s += 3) {
        const [u, i, j] = [triples[s], triples[s + 1], triples[s + 2]];
        expect(j).not.toBe(0xffffffff);
        const x = b[i] - b[j] + P[u].reduce((sum, p, f) => sum + p * (Q[i][f] - Q[j][f]), 0);
        const g = 1 / (1 + Math.exp(x));
        const p = P[u].slice();
        P[u] = p.map((pf, f) => pf + params.lr * (g * (Q[i][f] - Q[j][f]) - params.regUser * pf));
        Q[i] = Q[i].map((q, f) => q + params.lr * (g * p[f] - params.regItem * q));
        Q[j] = Q[j].map((q, f) => q + params.lr * (-g * p[f] - params.regItem * q));
        b[i] += params.lr * (g - params.regBias * b[i]);
        b[j] += params.lr * (-g - params.regBias * b[j]);
      }
      const after = trainer.factors();
      let worst = 0;
      P.flat().forEach((v, x) => (worst = Math.max(worst, Math.abs(v - after.userFactors[x]))));
      Q.flat().forEach((v, x) => (worst = Math.max(worst, Math.abs(v - after.itemFactors[x]))));
      b.forEach((v, x) => (worst = Math.max(worst, Math.abs(v - after.itemBias![x]))));
      expect(worst).toBeLessThan(2e-5);
      expect(worst).toBeGreaterThan(0); // f32 against f64: equal to the bit would mean the same arithmetic, not a check
    } finally {
      await trainer.dispose();
    }
  });

  it.each([0, 0.75])('negatives are never among the user’s positives (β = %s), positives always are', async (beta) => {
    const train = randomMatrix(80, 30, 0.5, 11);
    const count = 200_000;
    const trainer = await createBprTrainer(train, options({ negativeSampling: beta, extraBytes: count * 12 }));
    try {
      const triples = drawTriples(trainer, count);
      const negatives = new Float64Array(train.nMovies);
      let skipped = 0;
      const rows = Array.from({ length: train.nUsers }, (_, u) => new Set(train.userMovies.subarray(train.userPtr[u], train.userPtr[u + 1])));
      for (let s = 0; s < triples.length; s += 3) {
        const [u, i, j] = [triples[s], triples[s + 1], triples[s + 2]];
        if (!rows[u].has(i)) throw new Error(`sample ${s / 3}: positive ${i} is not a positive of user ${u}`);
        if (j === 0xffffffff) {
          skipped++;
          continue;
        }
        if (rows[u].has(j)) throw new Error(`sample ${s / 3}: negative ${j} is a positive of user ${u}`);
        negatives[j]++;
      }
      expect(skipped).toBe(0);
      if (beta === 0) {
        // Uniform over the movies the sample's user lacks (rejection, then the complement draw of
        // dense rows): movie m is expected Σ_s [m ∉ I_u(s)] / (nMovies − |I_u(s)|) times.
        const expected = new Float64Array(train.nMovies);
        for (let s = 0; s < triples.length; s += 3) {
          const row = rows[triples[s]];
          for (let m = 0; m < train.nMovies; m++) if (!row.has(m)) expected[m] += 1 / (train.nMovies - row.size);
        }
        for (let m = 0; m < train.nMovies; m++) expect(Math.abs(negatives[m] - expected[m])).toBeLessThan(5 * Math.sqrt(expected[m]) + 1);
      }
      // Every movie some user lacks is drawn as a negative.
      expect(negatives.every((n, m) => n > 0 || train.moviePtr[m + 1] - train.moviePtr[m] === train.nUsers)).toBe(true);
    } finally {
      await trainer.dispose();
    }
  });

  it('a user lacking one movie always gets that one; a user with every movie is skipped', async () => {
    // User 1 has movies 1..9 of 10 (the complement draw after the rejections), user 2 all 10.
    const entries: Array<[number, number, number]> = [];
    for (let m = 1; m <= 9; m++) entries.push([1, m, 4]);
    for (let m = 1; m <= 10; m++) entries.push([2, m, 4]);
    const train = matrixOf(entries);
    const trainer = await createBprTrainer(train, options({ extraBytes: 1000 * 12 }));
    try {
      const triples = drawTriples(trainer, 1000);
      let skipped = 0;
      for (let s = 0; s < triples.length; s += 3) {
        if (triples[s] === 0) expect(triples[s + 2]).toBe(9);
        else {
          expect(triples[s + 2]).toBe(0xffffffff);
          skipped++;
        }
      }
      expect(skipped).toBeGreaterThan(400);
      expect((await trainer.step({ lr: 0.01, regUser: 0, regItem: 0, regBias: 0 })).skipped).toBeGreaterThan(0);
    } finally {
      await trainer.dispose();
    }
  });

  it('positives are drawn uniformly over all interactions', async () => {
    const train = randomMatrix(30, 20, 0.3, 5);
    const count = 300_000;
    const trainer = await createBprTrainer(train, options({ extraBytes: count * 12 }));
    try {
      const triples = drawTriples(trainer, count);
      const perUser = new Float64Array(train.nUsers);
      for (let s = 0; s < triples.length; s += 3) perUser[triples[s]]++;
      for (let u = 0; u < train.nUsers; u++) {
        const expected = (count * (train.userPtr[u + 1] - train.userPtr[u])) / train.nRatings;
        expect(Math.abs(perUser[u] - expected)).toBeLessThan(5 * Math.sqrt(expected) + 1);
      }
    } finally {
      await trainer.dispose();
    }
  });
});

/** Share of each user's top 5 (training positives excluded) that are the 5 other movies of their group. */
function groupHits(model: BprModel, train: RatingMatrix, groups: number): number {
  let hits = 0;
  let total = 0;
  for (let u = 0; u < train.nUsers; u++) {
    const userId = train.users.ids[u];
    const g = (userId - 1) % groups;
    for (const r of model.recommend(userId, 5)) {
      total++;
      if (r.movieId > g * 10 && r.movieId <= g * 10 + 10) hits++;
    }
  }
  return hits / total;
}

describe('bpr model', () => {
  const planted = plantedMatrix(400, 4, 1);
  const planParams = { factors: 8, epochs: 40, lr: 0.05, regUser: 0.01, regItem: 0.01, regBias: 0.01, seed: 3 };

  it('one and two threads both find the planted groups', async () => {
    const one = await new BprModel({ ...planParams, threads: 1 }).fit(planted);
    const two = await new BprModel({ ...planParams, threads: 2 }).fit(planted);
    const a = groupHits(one, planted, 4);
    const b = groupHits(two, planted, 4);
    // Popularity alone would hit 1/4 of the time (the groups are equally popular).
    expect(a).toBeGreaterThan(0.95);
    expect(b).toBeGreaterThan(0.95);
    expect(Math.abs(a - b)).toBeLessThan(0.03);
    const last = two.trainingHistory.at(-1) as BprProgress;
    expect(last.auc).toBeGreaterThan(0.9);
    expect(last.loss).toBeLessThan((one.trainingHistory[0] as BprProgress).loss);
  });

  it('reports progress per epoch and is deterministic for a seed on one thread', async () => {
    const progress: BprProgress[] = [];
    const a = await new BprModel({ ...planParams, epochs: 5 }).fit(planted, { onProgress: (p) => progress.push(p as BprProgress) });
    const b = await new BprModel({ ...planParams, epochs: 5 }).fit(planted);
    expect(progress.map((p) => p.epoch)).toEqual([1, 2, 3, 4, 5]);
    expect(progress.every((p) => p.seconds >= 0 && p.loss > 0 && p.auc > 0 && p.auc <= 1)).toBe(true);
    expect(b.factors.itemFactors).toEqual(a.factors.itemFactors);
  });

  it('folds a user in, recommends without their movies, and saves and loads', async () => {
    const model = await new BprModel(planParams).fit(planted);
    // A new user with three movies of group 2 gets group 2's other movies first.
    const user = model.foldIn([
      { movieId: 21, weight: 5 },
      { movieId: 22, weight: 4 },
      { movieId: 23, weight: 4 },
    ]);
    const list = model.recommendFolded(user, 5);
    expect(list.map((r) => r.movieId).every((m) => m > 20 && m <= 30 && m > 23)).toBe(true);
    const similar = model.similar(21, 3);
    expect(similar.every((s) => s.movieId > 20 && s.movieId <= 30)).toBe(true);

    const dir = mkdtempSync(join(tmpdir(), 'bpr-'));
    try {
      saveModel(join(dir, 'bpr.model'), model);
      const loaded = (await loadModel(join(dir, 'bpr.model'), planted)) as BprModel;
      expect(loaded.kind).toBe('bpr');
      expect(loaded.params).toEqual(model.params);
      expect(loaded.recommend(7, 10)).toEqual(model.recommend(7, 10));
      expect(loaded.similar(21, 3)).toEqual(similar);
      expect(loaded.recommendFolded(loaded.foldIn([{ movieId: 21, weight: 5 }]), 5)).toEqual(model.recommendFolded(model.foldIn([{ movieId: 21, weight: 5 }]), 5));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses bad parameters with what and where', () => {
    expect(() => createModel('bpr', { lr: 0 })).toThrow(/bpr: lr must be a number with 0 < lr ≤ 1.*got 0/);
    expect(() => createModel('bpr', { factors: 0 })).toThrow(/bpr: factors must be an integer in 1\.\.1000.*got 0/);
    expect(() => createModel('bpr', { epochs: 2.5 })).toThrow(/bpr: epochs must be an integer/);
    expect(() => createModel('bpr', { regUser: -1 })).toThrow(/bpr: regUser must be a number in 0\.\.1000, got -1/);
    expect(() => createModel('bpr', { negativeSampling: 'popular' })).toThrow(/bpr: parameter negativeSampling must be a finite number, got "popular"/);
    expect(() => createModel('bpr', { threads: 10_000 })).toThrow(/bpr: threads must be an integer in 1\.\.cores/);
    expect(() => createModel('bpr', { learningRate: 0.1 })).toThrow(/bpr: unknown parameter "learningRate"/);
    expect(() => createModel('bpr', { backend: 'gpu' })).toThrow(/bpr: backend must be one of auto, wasm, js, got "gpu"/);
    expect(bprParams({}).factors).toBe(64);
  });

  it('refuses data without positives and ends a diverging fit with the reason', async () => {
    await expect(new BprModel({ minWeight: 5 }).fit(matrixOf([[1, 1, 4]]))).rejects.toThrow(/bpr: no positive interactions: minWeight 5 keeps none of the 1 entries/);
    // keep = 1 − lr·regUser = −999: |p| grows a thousandfold per step.
    await expect(new BprModel({ ...planParams, lr: 1, regUser: 1000, epochs: 3 }).fit(planted)).rejects.toThrow(/bpr: training diverged at epoch 1 .*lower lr \(1\)/);
  });
});
