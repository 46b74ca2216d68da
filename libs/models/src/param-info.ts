import { BACKENDS } from './backend';
import { BASELINE_DEFAULTS } from './latent/baseline-model';
import { SVD_DEFAULTS } from './latent/svd-model';
import { createModel } from './model-kinds';
import { boundMax, formatBound, PARAM_BOUNDS } from './param-bounds';
import { CONFIDENCES } from './ranking/ials-model';

/** One parameter of a model kind as a form shows it: its type, default and accepted values. */
export interface ParameterInfo {
  name: string;
  /** The range (or choices) in words, with the bound's note. */
  description: string;
  type: 'integer' | 'number' | 'string';
  /** The kind's default; null when it depends on the machine (`threads` defaulting to the cores). */
  default: number | string | null;
  /** Numeric parameters: the bounds of PARAM_BOUNDS (`cores` resolved on this machine); null for strings. */
  min: number | null;
  max: number | null;
  minExclusive: boolean;
  maxExclusive: boolean;
  /** String parameters: the values the kind accepts; null for numbers. */
  choices: string[] | null;
}

/**
 * The values each kind's string parameters accept, from the models' own lists: the solvers of
 * SVD_DEFAULTS and BASELINE_DEFAULTS, BACKENDS (baseline refuses `wasm`: no kernel), ials'
 * CONFIDENCES and ease's weightings.
 */
export const PARAM_CHOICES: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>> = Object.freeze({
  baseline: { solver: Object.keys(BASELINE_DEFAULTS), backend: BACKENDS.filter((b) => b !== 'wasm') },
  svd: { solver: Object.keys(SVD_DEFAULTS), backend: BACKENDS },
  svdpp: { backend: BACKENDS },
  ease: { weighting: ['binary', 'value'] },
  ials: { confidence: CONFIDENCES, backend: BACKENDS },
  bpr: { backend: BACKENDS },
});

/**
 * Every parameter of `kind` (in the order of its defaults), described from PARAM_BOUNDS and
 * {@link PARAM_CHOICES}, the tables the models validate with, and the defaults `createModel`
 * fills in. Parameters whose bound has `max: 'cores'` and whose default is the machine's core
 * count have default null.
 */
export function parameterInfo(kind: string): ParameterInfo[] {
  const defaults = createModel(kind).params as Record<string, unknown>;
  const bounds = PARAM_BOUNDS[kind] ?? {};
  const choices = PARAM_CHOICES[kind] ?? {};
  const out: ParameterInfo[] = [];
  for (const [name, value] of Object.entries(defaults)) {
    const bound = bounds[name];
    if (bound) {
      const fromMachine = bound.max === 'cores' && bound.defaultFromMachine === true;
      out.push({
        name,
        description: `${formatBound(name, bound)}${bound.note ? ` (${bound.note})` : ''}`,
        type: bound.integer ? 'integer' : 'number',
        default: fromMachine ? null : (value as number),
        min: bound.min,
        max: boundMax(bound),
        minExclusive: bound.minExclusive === true,
        maxExclusive: false,
        choices: null,
      });
    } else if (typeof value === 'string') {
      const allowed = choices[name];
      if (!allowed) throw new Error(`parameterInfo: ${kind}.${name} is a string parameter without choices in PARAM_CHOICES`);
      out.push({ name, description: `one of ${allowed.join(', ')}`, type: 'string', default: value, min: null, max: null, minExclusive: false, maxExclusive: false, choices: [...allowed] });
    } else {
      throw new Error(`parameterInfo: ${kind}.${name} has no bound in PARAM_BOUNDS`);
    }
  }
  return out;
}
