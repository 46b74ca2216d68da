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

/** The largest value a code (value × 2 in a Uint8) holds. */
export const MAX_CODED_VALUE = 127.5;

/**
 * The scale of implicit feedback (`implicit: true`): interaction weights (a count, plays, a
 * strength) in half units from 0.5 to 127.5, as codes 1..255. A weight is rounded to the nearest
 * half unit (at least 0.5); repeated (user, item) pairs are summed and a sum above 127.5 is capped.
 */
export const INTERACTION_WEIGHTS: RatingScale = Object.freeze({ min: 0.5, max: MAX_CODED_VALUE, step: 0.5, implicit: true });

/**
 * The scale written `MIN..MAX[:STEP]` (`1..10`, `0.5..5:0.5`; step 1 when omitted), for rating
 * data on another scale than the format's. Refused with a RangeError saying why when the codes
 * (value × 2 in a Uint8) cannot hold it: a number that is not a multiple of 0.5, min < 0,
 * max > 127.5, min ≥ max, or a max that is not min plus a whole number of steps.
 */
export function parseRatingScale(text: string): RatingScale {
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*\.\.\s*([0-9]+(?:\.[0-9]+)?)\s*(?::\s*([0-9]+(?:\.[0-9]+)?)\s*)?$/.exec(text);
  if (m === null) throw new RangeError(`scale "${text}" is not MIN..MAX[:STEP] with non-negative numbers (e.g. 1..10 or 0.5..5:0.5)`);
  const [min, max, step] = [Number(m[1]), Number(m[2]), m[3] === undefined ? 1 : Number(m[3])];
  const halves = (v: number): boolean => Number.isInteger(v * 2);
  if (!halves(min) || !halves(max)) throw new RangeError(`scale "${text}": min and max must be multiples of 0.5 (ratings are stored in half units)`);
  if (!(step > 0) || !halves(step)) throw new RangeError(`scale "${text}": the step ${step} is not a positive multiple of 0.5 (ratings are stored in half units)`);
  if (max > MAX_CODED_VALUE) throw new RangeError(`scale "${text}": max ${max} is above ${MAX_CODED_VALUE}, the largest value the stored codes hold`);
  if (min >= max) throw new RangeError(`scale "${text}": min ${min} must be below max ${max}`);
  if (!Number.isInteger((max - min) / step)) throw new RangeError(`scale "${text}": max ${max} is not min ${min} plus a whole number of steps of ${step}`);
  return Object.freeze({ min, max, step });
}

/** A scale as `MIN..MAX:STEP` (the form `parseRatingScale` reads). */
export function formatRatingScale(scale: RatingScale): string {
  return `${scale.min}..${scale.max}:${scale.step}`;
}
