import type { RatingList } from '@recsys/data';
import type { FitOptions, TrainingProgress } from '../predictor';
import type { FactorState, FactorTrainer } from './factor-trainer';

/** Fit options of iterative latent models: a validation set for progress and early stopping. */
export interface LatentFitOptions extends FitOptions {
  /** Held-out ratings (external ids); their RMSE is reported per epoch as `validationRmse`. */
  validation?: RatingList;
  /**
   * Stop when the validation RMSE has not improved for `patience` epochs and keep the factors
   * of the best epoch (needs `validation`).
   */
  earlyStopping?: { patience: number };
}

/** What the epoch loop needs of the model being fitted. */
export interface EpochModel<S extends FactorState> {
  readonly kind: string;
  /** Takes a trainer's state over (the arrays become the model's; nothing else holds them). */
  adopt(state: S): void;
  /** RMSE of the model on held-out ratings, with the state last adopted. */
  validationRmse(list: RatingList): number;
}

/**
 * The one epoch loop of every iterative fit (SGD, ALS, L-BFGS; baseline, svd, svdpp): up to
 * `epochs` calls of `trainer.step()`, ending early when the trainer has converged, with
 *
 * - progress per epoch: `{ epoch, epochs, trainRmse, seconds }` to `options.onProgress`, plus
 *   `validationRmse` when `options.validation` is given (the model adopts the state first);
 * - early stopping (`options.earlyStopping.patience`, needs a validation set): stop when the
 *   validation RMSE has not improved for `patience` epochs and restore the best epoch's state.
 *
 * At the end the model adopts the trainer's final state (or the best one), and the trainer is
 * disposed whatever happens. The model's arrays are filled only when needed (after each epoch with
 * a validation set, else once at the end): a copy taken before training would sit beside the
 * trainer's own for the whole fit (4·k bytes per user and movie of peak memory). `restoredBest`
 * says whether the best epoch was earlier than the last and its state was restored.
 */
export async function runEpochs<S extends FactorState>(
  model: EpochModel<S>,
  trainer: FactorTrainer<S>,
  epochs: number,
  options: LatentFitOptions,
): Promise<{ history: TrainingProgress[]; restoredBest: boolean }> {
  try {
    const history: TrainingProgress[] = [];
    const validation = options.validation;
    const patience = options.earlyStopping?.patience;
    if (patience !== undefined) {
      if (!validation) throw new RangeError(`${model.kind}: earlyStopping needs a validation set`);
      if (!(Number.isInteger(patience) && patience >= 1)) throw new RangeError(`${model.kind}: earlyStopping.patience must be an integer ≥ 1, got ${patience}`);
    }
    let best = Infinity;
    let bestEpoch = -1;
    let bestState: S | null = null;
    for (let t = 0; t < epochs && !trainer.converged; t++) {
      const started = performance.now();
      const trainRmse = await trainer.step();
      const progress: TrainingProgress = { epoch: t + 1, epochs, trainRmse, seconds: 0 };
      let state: S | null = null;
      if (validation) {
        state = trainer.state();
        model.adopt(state);
      }
      progress.seconds = (performance.now() - started) / 1000;
      if (validation) progress.validationRmse = model.validationRmse(validation);
      history.push(progress);
      options.onProgress?.(progress);
      if (patience !== undefined) {
        const v = progress.validationRmse!;
        if (v < best) {
          best = v;
          bestEpoch = t;
          // The adopted state is never written to, so it serves as the snapshot.
          bestState = state;
        } else if (t - bestEpoch >= patience) {
          break;
        }
      }
    }
    const restoredBest = bestState !== null && bestEpoch < history.length - 1;
    model.adopt(restoredBest ? bestState! : (trainer.finalState?.() ?? trainer.state()));
    return { history, restoredBest };
  } finally {
    await trainer.dispose();
  }
}
