import { UsageError } from './errors';
import { Command, InvalidArgumentError, Option } from 'commander';
import { formatBound, maxThreads, modelKinds, PARAM_BOUNDS, ParamBound, withinBound } from '@recsys/models';

/** Model parameters given as flags; only the flags the user gave end up in the params object. */
export interface ModelFlags {
  model: string;
  modelFile?: string;
  params?: string;
  factors?: number;
  epochs?: number;
  lr?: number;
  reg?: number;
  regBias?: number;
  solver?: string;
  backend?: string;
  threads?: number;
  seed?: number;
  k?: number;
  minK?: number;
  shrinkage?: number;
  minSupport?: number;
}

/**
 * The widest range any kind accepts for `param` in PARAM_BOUNDS (@recsys/models): a flag value
 * outside it is refused by commander (exit 2) before any data is read; the model then checks its
 * own kind's bound when it is created (e.g. lr 0 passes the flag for svd's als solver, svdpp refuses it).
 */
export function flagBound(param: string): ParamBound {
  const bounds = Object.values(PARAM_BOUNDS)
    .map((b) => b[param])
    .filter((b): b is ParamBound => b !== undefined);
  if (bounds.length === 0) throw new Error(`no model kind has a bounded parameter "${param}"`);
  const min = Math.min(...bounds.map((b) => b.min));
  const max = bounds.some((b) => b.max === 'cores') ? 'cores' : Math.max(...bounds.map((b) => b.max as number));
  return {
    min,
    minExclusive: bounds.filter((b) => b.min === min).every((b) => b.minExclusive === true),
    max,
    integer: bounds.every((b) => b.integer === true),
  };
}

/** commander parser of a model parameter flag, within {@link flagBound}; the range is in the message. */
export function boundedFlag(flag: string, param: string): (value: string) => number {
  const bound = flagBound(param);
  return (value: string) => {
    const n = Number(value);
    if (value.trim() === '' || !withinBound(n, bound)) {
      const cores = bound.max === 'cores' ? ` (${maxThreads()} on this machine)` : '';
      throw new InvalidArgumentError(`${flag} must be ${formatBound(param, bound)}${cores}, got "${value}"`);
    }
    return n;
  };
}

/** A flag's help with its range, e.g. "latent factors (an integer in 0..1000)". */
function withRange(help: string, param: string): string {
  return `${help} (${formatBound(param, flagBound(param))})`;
}

/**
 * Adds --model, the parameter flags of every model kind (their ranges from PARAM_BOUNDS) and
 * (unless `modelFile` is false, for commands that always fit a fresh model) --model-file.
 */
export function withModelOptions(cmd: Command, defaultModel = 'svd', options: { modelFile?: false } = {}): Command {
  cmd.option('--model <kind>', `model kind: ${modelKinds().join(', ')}`, defaultModel);
  if (options.modelFile !== false) cmd.option('--model-file <file>', 'use a saved model artifact instead of fitting one');
  return cmd
    .option('--params <json>', 'model parameters as JSON, e.g. \'{"factors":50}\'')
    .option('--factors <n>', withRange('latent factors', 'factors'), boundedFlag('--factors', 'factors'))
    .option('--epochs <n>', withRange('training epochs (or ALS / L-BFGS iterations)', 'epochs'), boundedFlag('--epochs', 'epochs'))
    .option('--lr <rate>', withRange('SGD learning rate', 'lr'), boundedFlag('--lr', 'lr'))
    .option('--reg <lambda>', withRange('L2 regularisation', 'reg'), boundedFlag('--reg', 'reg'))
    .option('--reg-bias <lambda>', withRange('L2 regularisation of the biases', 'regBias'), boundedFlag('--reg-bias', 'regBias'))
    .addOption(new Option('--solver <solver>', 'optimiser').choices(['sgd', 'als', 'lbfgs']))
    .addOption(new Option('--backend <backend>', 'where the svd sgd/als kernels run: auto (WebAssembly when built), wasm or js').choices(['auto', 'wasm', 'js']))
    .option('--threads <n>', withRange('worker threads for training', 'threads'), boundedFlag('--threads', 'threads'))
    .option('--seed <n>', withRange('random seed (splits and initialisation)', 'seed'), boundedFlag('--seed', 'seed'))
    .option('--k <n>', withRange('knn-baseline: neighbours used per prediction', 'k'), boundedFlag('--k', 'k'))
    .option('--min-k <n>', withRange('knn-baseline: fewest neighbours before falling back to the baseline', 'minK'), boundedFlag('--min-k', 'minK'))
    .option('--shrinkage <n>', withRange('knn-baseline: pearson-baseline shrinkage', 'shrinkage'), boundedFlag('--shrinkage', 'shrinkage'))
    .option('--min-support <n>', withRange('least number of common raters for a similarity to count', 'minSupport'), boundedFlag('--min-support', 'minSupport'));
}

const PARAM_FLAGS: Array<keyof ModelFlags> = ['factors', 'epochs', 'lr', 'reg', 'regBias', 'solver', 'backend', 'threads', 'seed', 'k', 'minK', 'shrinkage', 'minSupport'];

/** The params object for createModel: --params JSON first, then the individual flags over it. */
export function modelParams(flags: ModelFlags): Record<string, unknown> {
  let params: Record<string, unknown> = {};
  if (flags.params) {
    try {
      params = JSON.parse(flags.params);
    } catch (e) {
      throw new UsageError(`--params is not valid JSON: ${(e as Error).message}`);
    }
    if (params === null || typeof params !== 'object' || Array.isArray(params)) throw new UsageError('--params must be a JSON object');
  }
  for (const key of PARAM_FLAGS) if (flags[key] !== undefined) params[key] = flags[key];
  return params;
}
