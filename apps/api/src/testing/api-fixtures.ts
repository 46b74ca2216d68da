// Reference computations over the raw ratings (independent of the server's code paths) and small
// helpers shared by the API specs (api-queries.spec.ts, api-mutations.spec.ts).
import { join } from 'node:path';
import { LatentModel, loadModel } from '@recsys/models';
import { startTestApi, TestApi } from './harness';

// Plain reference computations over the raw ratings (independent of the server's code paths).
export interface Ratings {
  byMovie: Map<number, Map<number, number>>;
  byUser: Map<number, Map<number, number>>;
}

export function ratingsOf(t: TestApi): Ratings {
  const list = t.dataset.matrix.toList();
  const byMovie = new Map<number, Map<number, number>>();
  const byUser = new Map<number, Map<number, number>>();
  for (let k = 0; k < list.length; k++) {
    const u = list.users[k];
    const m = list.movies[k];
    const r = list.ratings[k] / 2;
    if (!byMovie.has(m)) byMovie.set(m, new Map());
    if (!byUser.has(u)) byUser.set(u, new Map());
    byMovie.get(m)!.set(u, r);
    byUser.get(u)!.set(m, r);
  }
  return { byMovie, byUser };
}

export function jaccard(a: Map<number, number>, b: Map<number, number>): { similarity: number; support: number } {
  let common = 0;
  for (const u of a.keys()) if (b.has(u)) common++;
  return { similarity: common === 0 ? 0 : common / (a.size + b.size - common), support: common };
}

/** Solves A x = b by Gaussian elimination with partial pivoting (A is n×n row-major). */
export function solve(A: number[][], b: number[]): number[] {
  const n = b.length;
  const M = A.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r][c]) > Math.abs(M[p][c])) p = r;
    [M[c], M[p]] = [M[p], M[c]];
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = M[r][c] / M[c][c];
      for (let k = c; k <= n; k++) M[r][k] -= f * M[c][k];
    }
  }
  return M.map((row, i) => row[n] / row[i]);
}

export async function activeModel(t: TestApi): Promise<{ model: LatentModel; id: string }> {
  const { data } = await t.gql<{ activeModel: { id: string } }>('{ activeModel { id } }');
  const id = data!.activeModel.id;
  const registry = t.api.services()!.registry;
  const record = registry.record(id)!;
  const model = await loadModel(join(t.dir, 'models', record.file), registry.trainingData(record.ratingsThroughId));
  if (!(model instanceof LatentModel)) throw new Error('expected a latent model');
  return { model, id };
}

export const codeOf = (r: { errors?: Array<{ extensions?: { code?: string } }> }) => r.errors?.[0]?.extensions?.code;

/** A started test API with its reference ratings, the most-rated movie and a user with 30–90 ratings. */
export async function startApiFixture(): Promise<{ t: TestApi; ref: Ratings; popular: number; someUser: number }> {
  const t = await startTestApi();
  const ref = ratingsOf(t);
  const popular = [...ref.byMovie.entries()].sort((a, b) => b[1].size - a[1].size || a[0] - b[0])[0][0];
  const someUser = [...ref.byUser.entries()].find(([, m]) => m.size >= 30 && m.size <= 90)![0];
  return { t, ref, popular, someUser };
}
