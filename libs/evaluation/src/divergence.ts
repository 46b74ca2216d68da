import type { TrainingProgress } from '@recsys/models';

/**
 * A fit whose training RMSE became NaN or infinite: the factors or biases overflowed (a learning
 * rate too large for the data, too much regularisation for the step). Nothing it predicts is worth
 * serving, writing or scoring.
 */
export class FitDivergedError extends Error {
  override readonly name = 'FitDivergedError';
  constructor(
    readonly kind: string,
    readonly epoch: number,
    readonly epochs: number,
    readonly trainRmse: number,
  ) {
    super(
      `${kind} diverged: training RMSE ${trainRmse} after epoch ${epoch} of ${epochs}; ` +
        'not served or written; lower the learning rate (lr, lrBias) or the regularisation (reg, regBias)',
    );
  }
}

/**
 * Wraps a fit's `onProgress` so that the first epoch with a non-finite training RMSE throws
 * {@link FitDivergedError} from inside the fit: a diverged run stops at once instead of spending
 * its remaining epochs on NaN (the trainers dispose their threads on the way out).
 */
export function stopOnDivergence(kind: string, onProgress?: (p: TrainingProgress) => void): (p: TrainingProgress) => void {
  return (p: TrainingProgress) => {
    onProgress?.(p);
    if (p.trainRmse !== undefined && !Number.isFinite(p.trainRmse)) throw new FitDivergedError(kind, p.epoch, p.epochs, p.trainRmse);
  };
}
