export type LearningRateKind = 'constant' | 'inverse-time' | 'exponential' | 'bold-driver';

/**
 * Learning rate per SGD epoch (epochs count from 0). Build one with a static factory:
 * - `constant(η)`:              η_t = η
 * - `inverseTime(η₀, decay)`:   η_t = η₀ / (1 + decay·t)
 * - `exponential(η₀, factor)`:  η_t = η₀ · factor^t
 * - `boldDriver(η₀, up, down)`: adaptive; after each epoch call {@link reportLoss}: the rate is
 *   multiplied by `up` (default 1.05) when the loss fell and by `down` (default 0.5) when it rose
 *   or stayed; `rate(t)` returns the current rate whatever t.
 * One class with a `kind` field (not a class hierarchy) so that `rate` stays monomorphic in loops.
 */
export class LearningRateSchedule {
  private current: number;
  private previousLoss = NaN;

  private constructor(
    readonly kind: LearningRateKind,
    readonly initialRate: number,
    /** inverse-time: decay; exponential: factor; bold-driver: increase factor; constant: 0. */
    readonly parameter: number,
    /** bold-driver: decrease factor; others: 0. */
    readonly secondParameter: number,
  ) {
    if (!(initialRate > 0 && Number.isFinite(initialRate))) {
      throw new RangeError(`LearningRateSchedule(${kind}): initial rate must be a finite number > 0, got ${initialRate}`);
    }
    this.current = initialRate;
  }

  /** η_t = rate. */
  static constant(rate: number): LearningRateSchedule {
    return new LearningRateSchedule('constant', rate, 0, 0);
  }

  /** η_t = initialRate / (1 + decay·t), decay ≥ 0. */
  static inverseTime(initialRate: number, decay: number): LearningRateSchedule {
    if (!(decay >= 0)) throw new RangeError(`LearningRateSchedule.inverseTime: decay must be ≥ 0, got ${decay}`);
    return new LearningRateSchedule('inverse-time', initialRate, decay, 0);
  }

  /** η_t = initialRate · factor^t, 0 < factor ≤ 1 for a decay. */
  static exponential(initialRate: number, factor: number): LearningRateSchedule {
    if (!(factor > 0)) throw new RangeError(`LearningRateSchedule.exponential: factor must be > 0, got ${factor}`);
    return new LearningRateSchedule('exponential', initialRate, factor, 0);
  }

  /** Adaptive "bold driver": ×increase after a better epoch, ×decrease after a worse one. */
  static boldDriver(initialRate: number, increase = 1.05, decrease = 0.5): LearningRateSchedule {
    if (!(increase >= 1)) throw new RangeError(`LearningRateSchedule.boldDriver: increase must be ≥ 1, got ${increase}`);
    if (!(decrease > 0 && decrease < 1)) {
      throw new RangeError(`LearningRateSchedule.boldDriver: decrease must lie in (0, 1), got ${decrease}`);
    }
    return new LearningRateSchedule('bold-driver', initialRate, increase, decrease);
  }

  /** Learning rate for epoch t (0-based). */
  rate(epoch: number): number {
    switch (this.kind) {
      case 'constant':
        return this.initialRate;
      case 'inverse-time':
        return this.initialRate / (1 + this.parameter * epoch);
      case 'exponential':
        return this.initialRate * Math.pow(this.parameter, epoch);
      case 'bold-driver':
        return this.current;
    }
  }

  /**
   * Tells the schedule the loss after an epoch. Only `bold-driver` reacts: from the second report
   * on, the current rate is multiplied by `increase` when the loss fell below the previous report
   * and by `decrease` otherwise. Other kinds ignore it.
   */
  reportLoss(loss: number): void {
    if (this.kind !== 'bold-driver') return;
    if (!Number.isNaN(this.previousLoss)) {
      this.current *= loss < this.previousLoss ? this.parameter : this.secondParameter;
    }
    this.previousLoss = loss;
  }
}
