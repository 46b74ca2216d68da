import { Random } from '@recsys/core';
import { holdoutSlice, RatingList, RatingMatrix, RatingScale } from '@recsys/data';
import { createModel, FitOptions, isRankingModel, RankingModel, TrainingProgress } from '@recsys/models';
import { stopOnDivergence } from './divergence';
import { DEFAULT_HOLDOUT, HoldoutSlice } from './guard';
import { rankingMetrics } from './ranking-metrics';

/** The ranking model every other ranking kind must beat on held-out data; it is itself the floor. */
export const RANKING_REFERENCE_KIND = 'popular';

/** Test users the ranking guard scores at most (a seeded sample of the held-out slice's users). */
export const RANKING_GUARD_MAX_USERS = 5_000;

/**
 * The value from which a held-out entry counts as relevant for the ranking guard: for rating data
 * the top quarter of the scale, min + 0.75 (max − min) (4 stars on 1..5, the protocol);
 * for implicit feedback (`scale.implicit`) every held-out interaction (its weight is a count or a
 * strength, not a judgement).
 */
export function relevantThresholdOf(scale: RatingScale): number {
  return scale.implicit ? scale.min : scale.min + 0.75 * (scale.max - scale.min);
}

/** A ranking model that did not beat `popular` on held-out data: not to be served or written. */
export class RankingModelRejectedError extends Error {
  override readonly name = 'RankingModelRejectedError';
  constructor(
    readonly kind: string,
    readonly ndcg: number,
    readonly referenceKind: string,
    readonly referenceNdcg: number,
    readonly heldOut: number,
    readonly users: number,
  ) {
    super(
      `${kind} does not beat ${referenceKind} on ${heldOut.toLocaleString('en-US')} held-out entries of ${users.toLocaleString('en-US')} users ` +
        `(NDCG@10 ${fmt(ndcg)} against ${fmt(referenceNdcg)}): not served or written; check its parameters`,
    );
  }
}

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toFixed(4) : String(x);
}

export interface CheckedRankingFitOptions extends FitOptions {
  /** The held-out slice (default {@link DEFAULT_HOLDOUT}). */
  holdout?: HoldoutSlice;
  /** Relevant: held-out value ≥ this (default {@link relevantThresholdOf} the data's scale). */
  relevantThreshold?: number;
  /** Test users scored at most (default {@link RANKING_GUARD_MAX_USERS}). */
  maxUsers?: number;
}

/** A fitted ranking model that beat `popular`, with the figures that show it. */
export interface CheckedRankingFit {
  model: RankingModel;
  /** data minus the held-out slice, every user and movie at its index in data (see holdoutSlice). */
  train: RatingMatrix;
  heldOut: number;
  /** Users whose lists were scored (those of the sample with a relevant held-out entry). */
  users: number;
  ndcg: number;
  precision: number;
  reference: { kind: string; ndcg: number } | null;
  history: TrainingProgress[];
}

/** The entries of `test` (in user order) of at most `maxUsers` of its users, drawn with `seed`. */
export function sampleTestUsers(test: RatingList, maxUsers: number, seed: number): RatingList {
  const starts: number[] = [];
  for (let j = 0; j < test.length; j++) if (j === 0 || test.users[j] !== test.users[j - 1]) starts.push(j);
  if (starts.length <= maxUsers) return test;
  const order = Int32Array.from(starts.keys());
  const rng = new Random(seed);
  for (let i = 0; i < maxUsers; i++) {
    const j = i + rng.int(order.length - i);
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  const chosen = Array.from(order.subarray(0, maxUsers)).sort((a, b) => a - b);
  let n = 0;
  for (const s of chosen) n += (s + 1 < starts.length ? starts[s + 1] : test.length) - starts[s];
  const out = { length: n, users: new Int32Array(n), movies: new Int32Array(n), ratings: new Uint8Array(n), days: null };
  let k = 0;
  for (const s of chosen) {
    const end = s + 1 < starts.length ? starts[s + 1] : test.length;
    for (let j = starts[s]; j < end; j++, k++) {
      out.users[k] = test.users[j];
      out.movies[k] = test.movies[j];
      out.ratings[k] = test.ratings[j];
    }
  }
  return out;
}

/**
 * The guard of ranking models, as {@link fitChecked} is for rating models: fits `kind` on `data`
 * minus the seeded held-out slice, and keeps it only if its NDCG@10 on that slice
 * ({@link rankingMetrics}: each sampled test user's top 10 among the movies they have no
 * training entry for; relevant = held-out value ≥ the threshold) is above that of `popular`
 * fitted on the same entries. Ties are refused. `popular` itself is the floor: it is only
 * required to give a finite NDCG. A non-ranking kind is refused with a RangeError.
 * @throws RankingModelRejectedError with both figures when the model does not beat popular.
 */
export async function fitCheckedRanking(kind: string, params: Record<string, unknown>, data: RatingMatrix, options: CheckedRankingFitOptions = {}): Promise<CheckedRankingFit> {
  const probe = createModel(kind, params);
  if (!isRankingModel(probe)) throw new RangeError(`${kind} is not a ranking model: the ranking guard checks ranking kinds only`);
  const holdout = options.holdout ?? DEFAULT_HOLDOUT;
  const split = holdoutSlice(data, { testFraction: holdout.fraction, seed: holdout.seed, consume: false, days: false });
  const train = split.train;
  const test = sampleTestUsers(split.test, options.maxUsers ?? RANKING_GUARD_MAX_USERS, holdout.seed);
  if (test.length === 0) throw new RangeError(`${kind}: the held-out slice is empty (${data.nRatings} entries): too little data to check the model`);
  const metricOptions = { k: 10, relevantThreshold: options.relevantThreshold ?? relevantThresholdOf(data.scale) };
  let reference: CheckedRankingFit['reference'] = null;
  if (kind !== RANKING_REFERENCE_KIND) {
    const ref = await createModel(RANKING_REFERENCE_KIND).fit(train);
    reference = { kind: RANKING_REFERENCE_KIND, ndcg: rankingMetrics(ref, train, test, metricOptions).ndcg };
  }
  const history: TrainingProgress[] = [];
  await probe.fit(train, {
    onProgress: stopOnDivergence(kind, (p: TrainingProgress) => {
      history.push(p);
      options.onProgress?.(p);
    }),
  });
  const measured = rankingMetrics(probe, train, test, metricOptions);
  if (reference !== null ? !(measured.ndcg > reference.ndcg) : !Number.isFinite(measured.ndcg)) {
    throw new RankingModelRejectedError(kind, measured.ndcg, reference?.kind ?? 'a finite NDCG', reference?.ndcg ?? NaN, test.length, measured.usersEvaluated);
  }
  return { model: probe, train, heldOut: test.length, users: measured.usersEvaluated, ndcg: measured.ndcg, precision: measured.precision, reference, history };
}
