import { availableParallelism } from 'node:os';

/**
 * The accepted range of one numeric model parameter. Bounds are what keeps a fit from hurting the
 * process that runs it (thousands of threads, gigabytes of factors, hours of epochs) and refuses
 * values no data set needs (a learning rate of 10⁶ only diverges); inside them a fit may still
 * diverge or lose to its reference, which the guard of @recsys/evaluation (`fitChecked`) catches.
 */
export interface ParamBound {
  /** Smallest accepted value. */
  min: number;
  /** Whether `min` itself is refused (0 < lr). */
  minExclusive?: boolean;
  /** Largest accepted value; `'cores'`: the machine's cores, `os.availableParallelism()`. */
  max: number | 'cores';
  /** Whole numbers only. */
  integer?: boolean;
  /** What else to know, e.g. "sgd needs lr > 0": said with the range. */
  note?: string;
  /** The kind's default is the machine's cores (`threads` of ease and ials): it differs from machine to machine. */
  defaultFromMachine?: boolean;
}

/** Bounds of a kind's numeric parameters, by name. */
export type ParamBounds = Readonly<Record<string, Readonly<ParamBound>>>;

/** Upper bound of every `threads` parameter: the cores this process may use. */
export function maxThreads(): number {
  return availableParallelism();
}

const FACTORS: ParamBound = { min: 0, max: 1000, integer: true };
const EPOCHS: ParamBound = { min: 1, max: 1000, integer: true };
const RATE: ParamBound = { min: 0, minExclusive: true, max: 1 };
const REG: ParamBound = { min: 0, max: 1000 };
const INIT_STD: ParamBound = { min: 0, minExclusive: true, max: 1 };
const SEED: ParamBound = { min: 0, max: 4_294_967_295, integer: true };
const THREADS: ParamBound = { min: 1, max: 'cores', integer: true };

function frozen(bounds: Record<string, ParamBound>): ParamBounds {
  for (const b of Object.values(bounds)) Object.freeze(b);
  return Object.freeze(bounds);
}

/** `svd` (every solver; see SVD_DEFAULTS). lr and lrBias are unused by als and lbfgs, whose defaults are 0. */
export const SVD_PARAM_BOUNDS: ParamBounds = frozen({
  factors: { ...FACTORS },
  epochs: { ...EPOCHS, note: 'SGD epochs, ALS or L-BFGS iterations' },
  lr: { min: 0, max: 1, note: 'the sgd solver needs lr > 0; unused by als and lbfgs' },
  lrBias: { min: 0, max: 1, note: 'the sgd solver needs lrBias > 0; unused by als and lbfgs' },
  reg: { ...REG, note: 'the als solver needs reg > 0' },
  regBias: { ...REG, note: 'the als solver needs regBias > 0' },
  initStd: { ...INIT_STD },
  seed: { ...SEED },
  threads: { ...THREADS },
});

/** `svdpp` (see SVDPP_DEFAULTS). */
export const SVDPP_PARAM_BOUNDS: ParamBounds = frozen({
  factors: { ...FACTORS },
  epochs: { ...EPOCHS },
  lr: { ...RATE },
  lrBias: { ...RATE },
  reg: { ...REG },
  regBias: { ...REG },
  initStd: { ...INIT_STD },
  seed: { ...SEED },
  foldInReg: { ...REG, minExclusive: true },
  threads: { ...THREADS },
});

/** `baseline` (every solver; see BASELINE_DEFAULTS). */
export const BASELINE_PARAM_BOUNDS: ParamBounds = frozen({
  epochs: { ...EPOCHS, note: 'ALS iterations, SGD epochs or L-BFGS iterations' },
  regUser: { ...REG, minExclusive: true, note: 'also the fold-in λ' },
  regMovie: { ...REG },
  lr: { ...RATE, note: 'used by the sgd solver' },
  reg: { ...REG },
});

/** `knn-baseline` (see KNN_BASELINE_DEFAULTS). */
export const KNN_BASELINE_PARAM_BOUNDS: ParamBounds = frozen({
  k: { min: 1, max: 1000, integer: true },
  minK: { min: 0, max: 1000, integer: true },
  shrinkage: { min: 0, max: 1_000_000 },
  minSupport: { min: 0, max: 1_000_000, integer: true },
  baselineIterations: { ...EPOCHS },
  regUser: { ...REG },
  regMovie: { ...REG },
});

/** `ease` (see EASE_DEFAULTS in ranking/ease-model.ts). */
export const EASE_PARAM_BOUNDS: ParamBounds = frozen({
  lambda: { min: 0, minExclusive: true, max: 1e9, note: 'G = XᵀX + λI must be positive definite' },
  minWeight: { min: 0, max: 127.5, note: 'stored values are at most 127.5' },
  maxItems: { min: 1, max: 32_000, integer: true, note: 'items² × 4 B of memory; 32,000 items: 4.1 GB, the WebAssembly limit' },
  threads: { ...THREADS, defaultFromMachine: true },
});

/** `ials` (see IALS_DEFAULTS). */
export const IALS_PARAM_BOUNDS: ParamBounds = frozen({
  factors: { ...FACTORS, min: 1 },
  epochs: { ...EPOCHS },
  reg: { ...REG, minExclusive: true, note: 'base λ of every row, also the fold-in λ' },
  regFrequency: { min: 0, max: 100, note: 'ν of λ_u = reg·(1 + ν·n_u)' },
  alpha: { min: 0, max: 10_000, note: 'confidence c = 1 + alpha·w (linear) or 1 + alpha·log(1 + w/epsilon)' },
  epsilon: { min: 0, minExclusive: true, max: 1_000_000, note: 'log confidence only' },
  cgSteps: { min: 1, max: 100, integer: true },
  minWeight: { min: 0, max: 127.5, note: 'entries of weight < minWeight are not positives' },
  initStd: { ...INIT_STD },
  seed: { ...SEED },
  threads: { ...THREADS, defaultFromMachine: true },
});

/** `bpr` (see BPR_DEFAULTS). */
export const BPR_PARAM_BOUNDS: ParamBounds = frozen({
  factors: { ...FACTORS, min: 1 },
  epochs: { ...EPOCHS },
  lr: { ...RATE },
  regUser: { ...REG },
  regItem: { ...REG },
  regBias: { ...REG },
  negativeSampling: { min: 0, max: 2, note: 'β of negatives ∝ popularity^β; 0 uniform' },
  minWeight: { min: 0, max: 1000 },
  seed: { ...SEED },
  threads: { ...THREADS },
  initStd: { ...INIT_STD },
  foldInReg: { ...REG, minExclusive: true },
  foldInAlpha: { min: 0, max: 1_000_000 },
});

/** `spark-als` (see SPARK_ALS_DEFAULTS): imported from Spark, not trained here; its λ serves fold-in. */
export const SPARK_ALS_PARAM_BOUNDS: ParamBounds = frozen({
  regParam: { ...REG, minExclusive: true, note: 'Spark\'s regParam: fold-in solves (YᵀY + regParam·n_u·I) x_u = Yᵀr_u' },
});

/**
 * Bounds of every built-in kind's numeric parameters (`mean`, `jaccard-cf` and `popular` have
 * none). The models refuse values outside them when their parameters are validated; the API's
 * retrain and the CLI's flags read the same table (and print it in their descriptions).
 */
export const PARAM_BOUNDS: Readonly<Record<string, ParamBounds>> = Object.freeze({
  svd: SVD_PARAM_BOUNDS,
  svdpp: SVDPP_PARAM_BOUNDS,
  baseline: BASELINE_PARAM_BOUNDS,
  'knn-baseline': KNN_BASELINE_PARAM_BOUNDS,
  mean: frozen({}),
  'jaccard-cf': frozen({}),
  popular: frozen({}),
  ease: EASE_PARAM_BOUNDS,
  ials: IALS_PARAM_BOUNDS,
  bpr: BPR_PARAM_BOUNDS,
  'spark-als': SPARK_ALS_PARAM_BOUNDS,
});

/** The numeric upper bound (`'cores'` resolved on this machine). */
export function boundMax(bound: ParamBound): number {
  return bound.max === 'cores' ? maxThreads() : bound.max;
}

/** 1e6 for powers of ten from 10,000 up, otherwise the plain number. */
function fmt(x: number): string {
  const text = String(x);
  return x >= 10_000 && /^10+$/.test(text) ? `1e${text.length - 1}` : text;
}

/**
 * The range as text, machine-independent (`cores` stays a word): `an integer in 1..1000`,
 * `a number in 0..1000`, `a number with 0 < lr ≤ 1`, `an integer in 1..cores (os.availableParallelism())`.
 */
export function formatBound(name: string, bound: ParamBound): string {
  const max = bound.max === 'cores' ? 'cores (os.availableParallelism())' : fmt(bound.max);
  const what = bound.integer ? 'an integer' : 'a number';
  return bound.minExclusive ? `${what} with ${fmt(bound.min)} < ${name} ≤ ${max}` : `${what} in ${fmt(bound.min)}..${max}`;
}

/** One line per parameter, `name: range (note)`, joined by `; `. */
export function describeBounds(bounds: ParamBounds): string {
  return Object.entries(bounds)
    .map(([name, b]) => `${name}: ${formatBound(name, b)}${b.note ? ` (${b.note})` : ''}`)
    .join('; ');
}

/** Whether `value` lies within `bound` (finite, whole when it must be). */
export function withinBound(value: number, bound: ParamBound): boolean {
  if (typeof value !== 'number' || !Number.isFinite(value)) return false;
  if (bound.integer && !Number.isInteger(value)) return false;
  if (bound.minExclusive ? !(value > bound.min) : !(value >= bound.min)) return false;
  return value <= boundMax(bound);
}

/**
 * Refuses (RangeError naming kind, parameter, range and value) any parameter of `params` that
 * lies outside its bound; parameters without a bound are left to the caller.
 */
export function checkParamBounds(kind: string, params: Readonly<Record<string, unknown>>, bounds: ParamBounds): void {
  for (const [name, bound] of Object.entries(bounds)) {
    const value = params[name];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !withinBound(value, bound)) {
      const cores = bound.max === 'cores' ? ` (${maxThreads()} on this machine)` : '';
      throw new RangeError(`${kind}: ${name} must be ${formatBound(name, bound)}${cores}, got ${typeof value === 'number' ? String(value) : JSON.stringify(value)}`);
    }
  }
}
