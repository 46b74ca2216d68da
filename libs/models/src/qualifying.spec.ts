import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildRatingMatrix, readQualifying, RatingListBuilder, WHOLE_STARS_1_TO_5 } from '@recsys/data';
import { tempDir } from '@recsys/testing';
import { MeanModel } from './neighbourhood/mean-model';
import { IdPairs, Prediction, Predictor, Recommendation } from './predictor';
import { writeQualifyingPredictions } from './qualifying';

/** Predicts f(user, movie) unclipped, so the writer's own clipping and formatting are what is tested. */
class FormulaPredictor implements Predictor {
  readonly kind = 'formula';
  readonly params = {};
  constructor(private readonly f: (user: number, movie: number) => number) {}
  async fit(): Promise<this> {
    return this;
  }
  predict(userId: number, movieId: number): Prediction {
    const v = this.f(userId, movieId);
    return { userId, movieId, rating: v, unclipped: v, fallback: null };
  }
  predictMany(pairs: IdPairs, out = new Float64Array(pairs.length)): Float64Array {
    for (let k = 0; k < pairs.length; k++) out[k] = this.f(pairs.users[k], pairs.movies[k]);
    return out;
  }
  recommend(): Recommendation[] {
    return [];
  }
}

describe('writeQualifyingPredictions', () => {
  const dir = tempDir('qualifying-', { each: true });

  it("writes the mean model's μ on every line, movie blocks in qualifying.txt order", async () => {
    const qualifyingFile = path.join(dir, 'qualifying.txt');
    fs.writeFileSync(qualifyingFile, '1:\n10,2005-09-06\n20,2005-09-06\n3:\n10,2005-01-01\n30,2005-01-02\n2:\n20,2005-01-01\n');
    const qualifying = await readQualifying(qualifyingFile);
    const b = new RatingListBuilder(3);
    b.push(10, 1, 10); // 5 stars
    b.push(20, 2, 8); // 4
    b.push(30, 3, 8); // 4 → μ = 13/3
    const model = await new MeanModel().fit(buildRatingMatrix(b.finish(), WHOLE_STARS_1_TO_5).matrix);
    const out = path.join(dir, 'predictions.txt');
    const result = await writeQualifyingPredictions(out, model, qualifying);
    expect(fs.readFileSync(out, 'latin1')).toBe('1:\n4.3333\n4.3333\n3:\n4.3333\n4.3333\n2:\n4.3333\n');
    expect(result).toMatchObject({ path: out, pairs: 5, movieBlocks: 3, bytes: fs.statSync(out).size });
    expect(fs.existsSync(`${out}.partial`)).toBe(false);
  });

  it('clips to 1..5 and writes at most 4 decimals without trailing zeros', async () => {
    const values = [0.2, 5.7, 3.5, 4, 2.123449, 2.99996, 1.05, 4.00004, 3.12346];
    const pairs = { length: values.length, users: Int32Array.from(values, (_, i) => i), movies: new Int32Array(values.length).fill(17770) };
    const out = path.join(dir, 'p.txt');
    await writeQualifyingPredictions(out, new FormulaPredictor((u) => values[u]), pairs);
    expect(fs.readFileSync(out, 'latin1')).toBe('17770:\n1\n5\n3.5\n4\n2.1234\n3\n1.05\n4\n3.1235\n');
  });

  it('streams many batches without repeating a block header across a batch boundary', async () => {
    // 150,000 pairs in blocks of 7,001 (so blocks straddle the 65,536-pair batches), movies out of id order.
    const n = 150_000;
    const users = new Int32Array(n);
    const movies = new Int32Array(n);
    for (let k = 0; k < n; k++) {
      users[k] = (k * 7919) % 480_189;
      movies[k] = 20_000 - Math.floor(k / 7001);
    }
    const f = (u: number, m: number) => 1 + ((u * 31 + m) % 4001) / 1000;
    const out = path.join(dir, 'big.txt');
    const progress: number[] = [];
    const result = await writeQualifyingPredictions(out, new FormulaPredictor(f), { length: n, users, movies }, { onProgress: (done) => progress.push(done) });
    // Plain string version of the same layout.
    const lines: string[] = [];
    for (let k = 0; k < n; k++) {
      if (k === 0 || movies[k] !== movies[k - 1]) lines.push(`${movies[k]}:`);
      lines.push(String(Number(Math.min(5, f(users[k], movies[k])).toFixed(4))));
    }
    expect(fs.readFileSync(out, 'latin1')).toBe(lines.join('\n') + '\n');
    expect(result.movieBlocks).toBe(Math.ceil(n / 7001));
    expect(progress).toEqual([65_536, 131_072, 150_000]);
  });

  it('writes an empty file for no pairs', async () => {
    const out = path.join(dir, 'empty.txt');
    const result = await writeQualifyingPredictions(out, new FormulaPredictor(() => 3), { length: 0, users: new Int32Array(0), movies: new Int32Array(0) });
    expect(fs.readFileSync(out, 'latin1')).toBe('');
    expect(result.movieBlocks).toBe(0);
  });

  it('refuses a non-finite prediction, naming the pair, and leaves no file behind', async () => {
    const out = path.join(dir, 'bad.txt');
    const pairs = { length: 3, users: Int32Array.of(5, 6, 7), movies: Int32Array.of(1, 1, 2) };
    await expect(writeQualifyingPredictions(out, new FormulaPredictor((u) => (u === 7 ? NaN : 3)), pairs)).rejects.toThrow(
      'writeQualifyingPredictions: formula predicted NaN for user 7, movie 2 (pair 3)',
    );
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});
