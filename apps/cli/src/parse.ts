import { InvalidArgumentError } from 'commander';

/** commander parser for a positive integer option, naming the option and the value in its error. */
export function positiveInt(flag: string): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!/^\d+(e\d+)?$/i.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) {
      throw new InvalidArgumentError(`${flag} must be a positive integer, got "${value}"`);
    }
    return n;
  };
}

/** commander parser for an integer ≥ 0 (seeds: 0 is the most common one). */
export function nonNegativeInt(flag: string): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!/^\d+(e\d+)?$/i.test(value.trim()) || !Number.isSafeInteger(n)) {
      throw new InvalidArgumentError(`${flag} must be an integer ≥ 0, got "${value}"`);
    }
    return n;
  };
}

/** commander parser for a number in a range. */
export function numberIn(flag: string, min: number, max: number): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${flag} must be a number in ${min}..${max}, got "${value}"`);
    }
    return n;
  };
}

/** commander parser for an external (user or movie) id: a non-negative integer. */
export function externalId(flag: string): (value: string) => number {
  return (value: string) => {
    if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError(`${flag} must be a non-negative integer id, got "${value}"`);
    return Number(value);
  };
}

/** commander parser for a finite decimal number (its range is the receiver's to check, e.g. the server's). */
export function finiteNumber(flag: string): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(value.trim()) || !Number.isFinite(n)) {
      throw new InvalidArgumentError(`${flag} must be a finite number, got "${value}"`);
    }
    return n;
  };
}

/** commander parser for a fraction strictly between 0 and 1 (a share of the ratings to hold out). */
export function openFraction(flag: string): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (value.trim() === '' || !(n > 0 && n < 1)) throw new InvalidArgumentError(`${flag} must be a number strictly between 0 and 1, got "${value}"`);
    return n;
  };
}

/** commander parser for a fold count: an integer of at least 2. */
export function foldCount(flag: string): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 2) throw new InvalidArgumentError(`${flag} must be an integer of at least 2, got "${value}"`);
    return n;
  };
}
