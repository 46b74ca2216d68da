import type { RatingMatrix } from '@recsys/data';
import type { ModelArtifact } from '../artifact';
import { Backend, backendParam } from '../backend';
import { BPR_PARAM_BOUNDS, checkParamBounds } from '../param-bounds';
import type { FitOptions, TrainingProgress } from '../predictor';
import { createBprTrainer } from './bpr/trainer';
import { FactorRankingModel } from './factor-ranking-model';

/** Parameters of {@link BprModel}; see {@link BPR_DEFAULTS}. */
export interface BprParams {
  /** k, the number of latent factors. */
  factors: number;
  /** Epochs; each draws as many (u, i, j) samples as there are positive interactions. */
  epochs: number;
  /** η, the SGD step. */
  lr: number;
  /** λ_u of the user factors. */
  regUser: number;
  /** λ_i = λ_j of the item factors. */
  regItem: number;
  /** λ_b of the item biases. */
  regBias: number;
  /** β: negatives j drawn with P(j) ∝ (positives of j)^β; 0 (uniform over all movies) is Rendle's sampler. */
  negativeSampling: number;
  /** A stored value v is a positive interaction when v ≥ minWeight (0 keeps every entry). */
  minWeight: number;
  seed: number;
  /** Threads: the calling thread and threads − 1 workers, each on its own range of users. */
  threads: number;
  /** P and Q start N(0, initStd²); b starts 0. */
  initStd: number;
  /** λ of the fold-in least squares (FactorRankingModel). */
  foldInReg: number;
  /** α: a positive's fold-in confidence is 1 + α (BPR trains on positives alone, not their weights). */
  foldInAlpha: number;
  /** Where the kernel runs ({@link Backend}): `auto` (default) the SIMD kernel when built, else the TypeScript reference. */
  backend: Backend;
}

/**
 * Defaults, chosen by measurement on three data sets, NDCG@10 (relevant: held-out ratings ≥ 4;
 * candidates: movies the user has no training entry for; k = 10; `npm run build`, then the sweep
 * scripts of the issue-11 report):
 *
 * | setting (others as the defaults)                 | ML-100k u1–u5 mean | Kaggle sample | generated 1M |
 * |--------------------------------------------------|--------------------|---------------|--------------|
 * | `popular`                                        | 0.198              | 0.819         | 0.0365       |
 * | first guess: lr 0.05, regUser = regItem 0.0025   | 0.266              | 0.596         | 0.097 (20 ep.) |
 * | regUser = regItem 0.01, lr 0.05                  | 0.324              |               |              |
 * | regUser = regItem 0.03, lr 0.02, 200 epochs      | 0.354              |               |              |
 * | **defaults** (lr 0.02, regUser 0.05, regItem 0.01) | **0.360** (P@10 0.278) | **0.814** | 0.136 (20 ep.), 0.137 (100) |
 * | defaults, 50 / 200 epochs                        | 0.345 / 0.365      | 0.815 (50)    |              |
 * | defaults, 32 / 128 factors                       | 0.356 / 0.363      |               | 0.136 / 0.137 (20 ep.) |
 * | defaults, regBias 0 / 0.03                       | 0.335 / 0.356 (reg 0.03) |         |              |
 * | defaults, negativeSampling β 0.3                 | 0.361 (2× the CPU) | 0.776         | 0.136 (20 ep.) |
 *
 * ML-100k: the canonical folds (train uN.base, test uN.test). Kaggle sample: the 99,999-row
 * Netflix file (8 movies), one rating per user with ≥ 2 held out (leaveKOutSplit k 1, seed 42;
 * 11,672 users evaluated). Generated: `recsys generate --ratings 1000000` (5,000 users, 1,600
 * movies), 5 ratings per user held out (seed 42). Popularity-weighted negatives did not help
 * (β 0.3 ties on ML-100k at twice the sampling cost and loses on the Kaggle sample; β 0.5 with
 * the first guess lost 0.08 on ML-100k), so sampling stays uniform. 100 epochs rather than 200:
 * +0.005 on ML-100k, nothing on the generated set, twice the time at scale.
 *
 * Fold-in (λ = foldInReg, c = 1 + foldInAlpha): every training user of ML-100k u1 folded in from
 * their own training entries, NDCG@10 0.367 at λ 10, α 100 (λ 1, α 10: 0.340; λ 100, α 1000:
 * 0.366; α 1: 0.294), against 0.429 with the users' trained vectors.
 */
export const BPR_DEFAULTS: Readonly<BprParams> = Object.freeze({
  factors: 64,
  epochs: 100,
  lr: 0.02,
  regUser: 0.05,
  regItem: 0.01,
  regBias: 0.01,
  negativeSampling: 0,
  minWeight: 0,
  seed: 42,
  threads: 1,
  initStd: 0.1,
  foldInReg: 10,
  foldInAlpha: 100,
  backend: 'auto',
});

const PARAM_NAMES = Object.keys(BPR_DEFAULTS) as Array<keyof BprParams>;

/** Full parameters from partial ones: defaults fill the gaps; unknown names and out-of-range values are refused. */
export function bprParams(partial: Partial<BprParams> | Record<string, unknown> = {}): BprParams {
  for (const key of Object.keys(partial)) {
    if (!PARAM_NAMES.includes(key as keyof BprParams)) throw new RangeError(`bpr: unknown parameter "${key}" (known: ${PARAM_NAMES.join(', ')})`);
  }
  const params: BprParams = { ...BPR_DEFAULTS };
  params.backend = backendParam('bpr', (partial as Partial<BprParams>).backend);
  for (const [key, value] of Object.entries(partial)) {
    if (value === undefined || key === 'backend') continue;
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new RangeError(`bpr: parameter ${key} must be a finite number, got ${JSON.stringify(value)}`);
    (params as unknown as Record<string, number>)[key] = value;
  }
  checkParamBounds('bpr', params as unknown as Record<string, unknown>, BPR_PARAM_BOUNDS);
  return params;
}

/** Progress of a BPR epoch: the sampled loss and AUC besides the seconds. */
export interface BprProgress extends TrainingProgress {
  /** Mean −ln σ(x̂_uij) over the epoch's samples, each before its step. */
  loss: number;
  /** Share of the epoch's samples with x̂_ui > x̂_uj before their step: an estimate of the training AUC. */
  auc: number;
}

/**
 * `bpr`: Bayesian personalised ranking (Rendle, Freudenthaler, Gantner, Schmidt-Thieme, UAI 2009)
 * with item biases:
 *
 *   x̂_ui = p_u·q_i + b_i,   x̂_uij = x̂_ui − x̂_uj,
 *
 * fitted by SGD on sampled triples (u, i ∈ I_u⁺, j ∉ I_u⁺) maximising
 * Σ ln σ(x̂_uij) − λ_u‖P‖² − λ_i‖Q‖² − λ_b‖b‖². With g = 1 − σ(x̂_uij) = σ(−x̂_uij), each sample:
 *
 *   p_u += η(g(q_i − q_j) − λ_u p_u);   q_i += η(g p_u − λ_i q_i);   q_j += η(−g p_u − λ_i q_j)
 *   b_i += η(g − λ_b b_i);               b_j += η(−g − λ_b b_j)        (with the old p_u, q_i, q_j)
 *
 * I_u⁺ are the user's entries with value ≥ minWeight (their weights are not used otherwise).
 * An epoch draws as many samples as there are positives: a positive uniformly among all of them
 * (so users weigh by their activity, as in Rendle's LearnBPR), then a negative uniformly over the
 * movies the user lacks: drawn over all movies and rejected while in I_u⁺ (binary search in the
 * user's ascending row), after 4 rejections drawn among the complement directly (the r-th movie
 * not in the row, by binary search), so heavy users cost no long rejection loops; or, with
 * negativeSampling β > 0, drawn ∝ (positives of j)^β from a table of 2²⁰ entries and rejected
 * while in I_u⁺, the sample skipped after 64 tries. A user with every movie has no negative: their
 * samples are skipped. P and Q start N(0, initStd²), b at 0.
 *
 * Runs in the AssemblyScript f32x4 kernel (libs/models/assembly/bpr.ts), sampling by a seeded
 * xorshift32 per thread, on `threads` threads that share P, Q and b in one shared
 * WebAssembly.Memory: users are cut into contiguous ranges of equal positive counts, one per
 * thread, so a P row is written by one thread alone; Q and b are updated lock-free (Hogwild!).
 * One thread is deterministic for a seed; more threads are not (the order of item updates varies).
 *
 * Progress per epoch ({@link BprProgress}): seconds, the sampled loss and the AUC estimate. An
 * epoch whose loss or parameters are not finite ends the fit with an error naming lr and the
 * regularisation.
 *
 * Serving (FactorRankingModel): scores p_u·q_i + b_i; a new user is folded in by the implicit
 * least squares with Q fixed, c = 1 + foldInAlpha for each positive, λ = foldInReg; similar
 * movies by the cosine of q.
 *
 * Defaults ({@link BPR_DEFAULTS}, with the table of figures they were chosen by): 64 factors,
 * 100 epochs, lr 0.02, regUser 0.05, regItem 0.01, regBias 0.01, uniform negatives, minWeight 0,
 * initStd 0.1, one thread, fold-in λ 10, α 100.
 *
 * Speed (`npm run bench:ranking`, 64 factors, 2 shared cores at load 6–11): about 1 µs of CPU
 * per sample at 10M interactions (9.5–10.8 CPU-s an epoch, 25–34× the CPU of an SGD `svd`
 * epoch), 1.6 µs at 100M (162 CPU-s an epoch; 45× svd's): every sample reads a random user row,
 * two random item rows and the user's positives, so an epoch is bound by memory latency, where
 * svd's blocked SGD streams. The kernel draws the next sample and touches its rows before
 * training on the current one so that those fetches overlap.
 */
export class BprModel extends FactorRankingModel {
  readonly kind = 'bpr';
  readonly params: Readonly<BprParams>;

  constructor(params: Partial<BprParams> | Record<string, unknown> = {}) {
    super();
    this.params = Object.freeze(bprParams(params));
  }

  protected get foldInReg(): number {
    return this.params.foldInReg;
  }

  protected foldInConfidence(): number {
    return 1 + this.params.foldInAlpha;
  }

  protected get minWeight(): number {
    return this.params.minWeight;
  }

  protected async fitModel(train: RatingMatrix, options: FitOptions): Promise<void> {
    const p = this.params;
    const trainer = await createBprTrainer(train, {
      factors: p.factors,
      minWeight: p.minWeight,
      negativeSampling: p.negativeSampling,
      seed: p.seed,
      threads: p.threads,
      initStd: p.initStd,
      backend: p.backend,
    });
    const history: BprProgress[] = [];
    try {
      for (let epoch = 1; epoch <= p.epochs; epoch++) {
        const started = performance.now();
        const stats = await trainer.step(p);
        if (!Number.isFinite(stats.loss) || !trainer.finite()) {
          throw new Error(
            `bpr: training diverged at epoch ${epoch} (sampled loss ${stats.loss}${trainer.finite() ? '' : ', non-finite factors'}): lower lr (${p.lr}) or raise regUser/regItem/regBias (${p.regUser}/${p.regItem}/${p.regBias})`,
          );
        }
        const progress: BprProgress = { epoch, epochs: p.epochs, seconds: (performance.now() - started) / 1000, loss: stats.loss, auc: stats.auc };
        history.push(progress);
        options.onProgress?.(progress);
      }
      this.adoptFactors(trainer.factors());
      this.history = history;
    } finally {
      await trainer.dispose();
    }
  }

  /** The fitted model stored in a `bpr` artifact. */
  static fromArtifact(artifact: ModelArtifact, train: RatingMatrix): BprModel {
    return new BprModel(artifact.params as Partial<BprParams>).restoreFactors(artifact, train);
  }
}
