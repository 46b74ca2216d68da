import { availableParallelism } from 'node:os';
import type { RatingMatrix } from '@recsys/data';
import type { ModelArtifact } from '../artifact';
import { Backend, backendParam } from '../backend';
import { checkParamBounds, IALS_PARAM_BOUNDS } from '../param-bounds';
import type { FitOptions, TrainingProgress } from '../predictor';
import { FactorRankingModel } from './factor-ranking-model';
import { createIalsTrainer } from './ials/trainer';

/** How an interaction's weight w becomes a confidence c ≥ 1. */
export type IalsConfidence = 'linear' | 'log';

/** Parameters of {@link IalsModel}; defaults in {@link IALS_DEFAULTS}. */
export interface IalsParams {
  /** k, the number of latent factors. */
  factors: number;
  /** Epochs (one users' half step and one items' half step each). */
  epochs: number;
  /** λ: the base ridge weight of every row (and of a folded-in user). */
  reg: number;
  /** ν: each row's ridge weight is λ·(1 + ν·n) for a row with n positive entries (Rendle et al. 2021). 0: Hu et al.'s constant λ. */
  regFrequency: number;
  /** α of the confidence. */
  alpha: number;
  /** `linear`: c = 1 + α·w; `log`: c = 1 + α·log(1 + w/ε). */
  confidence: IalsConfidence;
  /** ε of the log confidence. */
  epsilon: number;
  /** Conjugate-gradient steps per row and half step, warm-started from the row's current value. */
  cgSteps: number;
  /** An entry (rating or count) is a positive interaction when its weight w ≥ minWeight; the others count as absent. */
  minWeight: number;
  seed: number;
  /** Threads of the trainer (the calling thread plus workers); default `os.availableParallelism()`. */
  threads: number;
  /** Initial factors ~ N(0, initStd²). */
  initStd: number;
  /** Where the row kernel runs: `auto` (default) the WebAssembly SIMD kernel when built, else TypeScript; `wasm` or `js` to choose. */
  backend: Backend;
}

/** Defaults of `ials` (see {@link IalsModel} for the measurements they come from). */
export const IALS_DEFAULTS: Readonly<IalsParams> = Object.freeze({
  factors: 64,
  epochs: 15,
  reg: 0.2,
  regFrequency: 1,
  alpha: 0.5,
  confidence: 'linear',
  epsilon: 1,
  cgSteps: 2,
  minWeight: 0,
  seed: 42,
  threads: availableParallelism(),
  initStd: 0.01,
  backend: 'auto',
} as IalsParams);

const PARAM_NAMES = Object.keys(IALS_DEFAULTS) as Array<keyof IalsParams>;
export const CONFIDENCES: readonly IalsConfidence[] = ['linear', 'log'];

/** Full parameters from partial ones: defaults fill the gaps; unknown names and bad values are refused with what and where. */
export function ialsParams(partial: Partial<IalsParams> | Record<string, unknown> = {}): IalsParams {
  const params = { ...IALS_DEFAULTS } as IalsParams;
  for (const [key, value] of Object.entries(partial)) {
    if (!PARAM_NAMES.includes(key as keyof IalsParams)) throw new RangeError(`ials: unknown parameter "${key}" (known: ${PARAM_NAMES.join(', ')})`);
    if (value === undefined) continue;
    if (key === 'backend') {
      params.backend = backendParam('ials', value);
    } else if (key === 'confidence') {
      if (!CONFIDENCES.includes(value as IalsConfidence)) throw new RangeError(`ials: confidence must be one of ${CONFIDENCES.join(', ')}, got ${JSON.stringify(value)}`);
      params.confidence = value as IalsConfidence;
    } else {
      if (typeof value !== 'number' || !Number.isFinite(value)) throw new RangeError(`ials: parameter ${key} must be a finite number, got ${JSON.stringify(value)}`);
      (params as unknown as Record<string, unknown>)[key] = value;
    }
  }
  checkParamBounds('ials', params as unknown as Record<string, unknown>, IALS_PARAM_BOUNDS);
  return params;
}

/** c(w) of the parameters: 1 + α·w or 1 + α·log(1 + w/ε). */
export function ialsConfidence(p: Pick<IalsParams, 'alpha' | 'confidence' | 'epsilon'>, weight: number): number {
  return p.confidence === 'linear' ? 1 + p.alpha * weight : 1 + p.alpha * Math.log(1 + weight / p.epsilon);
}

/**
 * `ials`: implicit-feedback matrix factorisation (Hu, Koren & Volinsky, ICDM 2008), scoring
 * s(u, i) = x_u·y_i. Every stored entry of weight w ≥ `minWeight` (a rating in stars, or an
 * interaction count) is a positive: preference p_ui = 1 with confidence
 * c_ui = 1 + α·w (`confidence: 'linear'`) or 1 + α·log(1 + w/ε) (`'log'`); every other (u, i)
 * has p = 0, c = 1. The fit minimises
 *
 *   Σ_{u,i} c_ui (p_ui − x_u·y_i)² + Σ_u λ_u ‖x_u‖² + Σ_i λ_i ‖y_i‖²,   λ_a = reg·(1 + ν·n_a)
 *
 * with n_a the row's positives and ν = `regFrequency`: the frequency-scaled regularisation of
 * Rendle, Krichene, Zhang & Koren ("Revisiting the performance of iALS on item recommendation
 * benchmarks", RecSys 2022), whose λ·(|I_u| + α₀|I|)^ν with ν = 1 is exactly this form
 * (reg = λα₀|I|, ν = 1/(α₀|I|)); ν = 0 is Hu et al.'s constant λ. (Their other knob, the
 * unobserved weight α₀ on the Gram term, is here 1/c of the observed entries: α plays its part.)
 *
 * **Update** (alternating; one epoch = users, then items): with G = YᵀY computed once per half
 * step, each user row solves (G + Yᵀ(Cᵘ − I)Y + λ_u I) x_u = YᵀCᵘp(u) by `cgSteps` conjugate-
 * gradient steps warm-started from the current x_u (Takács et al. 2011; the `implicit`
 * library's solver), each step one pass over the user's entries (O(n_u·k)) plus G·p (O(k²));
 * then the same for every item with G = XᵀX. In the WebAssembly SIMD kernel
 * (libs/models/assembly/ials.ts) on `threads` threads over one shared memory (the same result
 * for any thread count). Factors start N(0, initStd²) from `seed`. Progress per epoch reports
 * `seconds` and `trainLoss`, the objective above after the epoch's users' half step; a fit whose
 * objective or factors stop being finite fails with an error saying so.
 *
 * **Fold-in, explain, similar, artifact**: {@link FactorRankingModel}'s, with the same confidence
 * and λ_u = reg·(1 + ν·n_u): a folded-in user is the exact solution of their row's equations.
 *
 * **Defaults** ({@link IALS_DEFAULTS}): 64 factors, 15 epochs, reg 0.2, regFrequency 1, alpha 0.5
 * (linear), cgSteps 2, minWeight 0, initStd 0.01, seed 42, threads = cores. Chosen by a sweep
 * (α ∈ {0.5, 1, 1.5, 2, 3, 5, 10}, reg ∈ {0.01 … 4}, ν ∈ {0, 1}, then factors, epochs, cgSteps)
 * on three sets, relevant = held-out ratings ≥ 4, candidates = movies unrated in training, k = 10,
 * `rankingMetrics` of @recsys/evaluation: MovieLens 100k u1–u5 (mean); the Netflix Kaggle
 * sample (99,999 ratings, 8 movies) with one seeded rating per user held out
 * (`leaveKOutSplit(k 1, seed 42)`); generated heavy users, Netflix shape
 * (`generateSynthetic({ ratings: 1e6, users: 4802, movies: 17770, seed: 42 })`, 10 per user held
 * out, seed 42). P@10 / NDCG@10 (coverage):
 *
 * | model | ML-100k u1–u5 | Kaggle sample | heavy 1M |
 * |---|---|---|---|
 * | `ials` defaults (cgSteps 2) | 0.301 / 0.394 (0.312) | 0.100 / 0.687 | 0.052 / 0.084 (0.113) |
 * | ν = 0 (Hu et al.'s constant λ) | 0.228 / 0.304 (0.350) | 0.100 / 0.471 | 0.051 / 0.083 (0.102) |
 * | α 1, reg 0.3 | 0.302 / 0.394 | 0.100 / 0.687 | 0.053 / 0.085 |
 * | α 2, reg 0.5 | 0.301 / 0.391 | 0.100 / 0.686 | 0.051 / 0.082 |
 * | 32 factors | 0.302 / 0.394 (0.296) | 0.100 / 0.687 | 0.053 / 0.086 (0.107) |
 * | 128 factors (α 1, reg 0.3) | 0.303 / 0.397 (0.300) | – | 0.053 / 0.085 (0.125) |
 * | cgSteps 3 | 0.302 / 0.394 (0.312) | 0.100 / 0.687 | 0.053 / 0.086 (0.114) |
 * | cgSteps 1 | 0.300 / 0.392 (0.273) | 0.100 / 0.687 | 0.050 / 0.081 (0.119) |
 * | `popular` | 0.157 / 0.198 (0.036) | 0.100 / 0.819 | 0.014 / 0.020 (0.013) |
 *
 * (EASE λ 500 by numpy on ML-100k u1–u5: 0.292 / 0.385.) The frequency-scaled λ is what makes
 * iALS competitive, as Rendle et al. report; 64 factors tie 32 on NDCG and cover more of the
 * catalogue; 8, 15 or 30 epochs and 2–4 CG steps differ by < 0.003 on ML-100k u1–u2. On the
 * 8-movie Kaggle sample (≈ 1.3 ratings per user) popularity wins and no setting swept changes
 * iALS's 0.687 by more than 0.11 (α 2, reg 0.1: 0.792, but 0.070 on the heavy set).
 *
 * **Speed** (64 factors, CPU seconds of the process per epoch, epochs after the first of a fresh
 * process, the machine shared by other jobs at load 2–9, so ranges): generated 10M (200,000
 * users, 17,770 movies), 1 thread: `ials` 4.1–4.5 CPU-s with cgSteps 3, 2.2–4.0 with 2, 2.1–3.2
 * with 1, against 0.27–0.44 for an SGD `svd` epoch; 2 threads: 4.7, 4.2–4.4 and 2.9–3.1 against
 * 0.27. The Netflix 100M snapshot (cgSteps 2, load ≈ 2): 20.1 CPU-s (20.1 s wall) on 1 thread,
 * 24.9 CPU-s (25–36 s wall) on 2, against 2.9 and 2.7 for `svd` (2.8 and 2.7 s wall): 7× an SGD
 * epoch on 1 thread, not the 2× asked; the second thread did not shorten the epoch there, but
 * on this shared machine (two busy worker threads got 0.66 of a core at load 6) that says little
 * about scaling. An epoch costs 1 + cgSteps passes over the entries per side (a dot and an axpy of k floats each) plus a
 * k×k product per CG step and row (at 10M, 50 entries per user, that product is about 40 % of the
 * users' arithmetic), against SGD's one update per rating. CPU seconds per half step at 10M
 * (1 thread): users 0.6–0.8 (cgSteps 1) to 1.6–2.0 (cgSteps 3); items 1.0–2.0 whatever cgSteps:
 * a movie's rows of X are gathered at random from 51 MB (123 MB at 100M) in its first pass, and
 * that latency, not the arithmetic, is most of the items' half step. (Touching the rows 8 or 16
 * entries ahead, a software prefetch, changed nothing measurable at this load.)
 */
export class IalsModel extends FactorRankingModel {
  readonly kind = 'ials';
  readonly params: Readonly<IalsParams>;

  constructor(params: Partial<IalsParams> | Record<string, unknown> = {}) {
    super();
    this.params = Object.freeze(ialsParams(params));
  }

  protected get foldInReg(): number {
    return this.params.reg;
  }

  protected override foldInRegFor(count: number): number {
    return this.params.reg * (1 + this.params.regFrequency * count);
  }

  protected foldInConfidence(weight: number): number {
    return ialsConfidence(this.params, weight);
  }

  protected get minWeight(): number {
    return this.params.minWeight;
  }

  protected async fitModel(train: RatingMatrix, options: FitOptions): Promise<void> {
    const p = this.params;
    const trainer = await createIalsTrainer(train, {
      factors: p.factors,
      cgSteps: p.cgSteps,
      reg: p.reg,
      regFrequency: p.regFrequency,
      confidence: (w) => ialsConfidence(p, w),
      minWeight: p.minWeight,
      init: { seed: p.seed, std: p.initStd },
      threads: p.threads,
      backend: p.backend,
    });
    try {
      const history: TrainingProgress[] = [];
      for (let t = 0; t < p.epochs; t++) {
        const started = performance.now();
        const trainLoss = await trainer.step();
        const progress: TrainingProgress = { epoch: t + 1, epochs: p.epochs, trainLoss, seconds: (performance.now() - started) / 1000 };
        history.push(progress);
        options.onProgress?.(progress);
      }
      const state = trainer.state();
      this.history = history;
      this.adoptFactors({ k: state.k, userFactors: state.userFactors, itemFactors: state.itemFactors, itemBias: null });
    } finally {
      await trainer.dispose();
    }
  }

  /** The fitted model stored in an `ials` artifact. */
  static fromArtifact(artifact: ModelArtifact, train: RatingMatrix): IalsModel {
    return new IalsModel(artifact.params as Partial<IalsParams>).restoreFactors(artifact, train);
  }
}
