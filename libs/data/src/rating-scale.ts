import type { RatingScale } from '@recsys/core';

/** The rating scale of a data set (defined in @recsys/core, beside the matrix arrays that carry it). */
export type { RatingScale } from '@recsys/core';

export const WHOLE_STARS_1_TO_5: RatingScale = Object.freeze({ min: 1, max: 5, step: 1 });
export const HALF_STARS_05_TO_5: RatingScale = Object.freeze({ min: 0.5, max: 5, step: 0.5 });

/** Stored code of a rating (rating × 2). */
export function encodeRating(rating: number): number {
  return Math.round(rating * 2);
}

/** Rating of a stored code. */
export function decodeRating(code: number): number {
  return code * 0.5;
}

/** True when `rating` lies on the scale's grid between min and max. */
export function isOnScale(scale: RatingScale, rating: number): boolean {
  if (!Number.isFinite(rating) || rating < scale.min || rating > scale.max) return false;
  const steps = (rating - scale.min) / scale.step;
  return Math.abs(steps - Math.round(steps)) < 1e-9;
}

/** Clamp a prediction to the scale's range (predictions are not rounded to the grid). */
export function clipToScale(scale: RatingScale, value: number): number {
  return value < scale.min ? scale.min : value > scale.max ? scale.max : value;
}
