import { UsageError } from './errors';
import { Command, Option } from 'commander';
import { modelKinds } from '@recsys/models';
import { nonNegativeInt, numberIn, positiveInt } from './parse';

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
 * Adds --model, the parameter flags of every model kind and (unless `modelFile` is false, for
 * commands that always fit a fresh model) --model-file.
 */
export function withModelOptions(cmd: Command, defaultModel = 'svd', options: { modelFile?: false } = {}): Command {
  cmd.option('--model <kind>', `model kind: ${modelKinds().join(', ')}`, defaultModel);
  if (options.modelFile !== false) cmd.option('--model-file <file>', 'use a saved model artifact instead of fitting one');
  return cmd
    .option('--params <json>', 'model parameters as JSON, e.g. \'{"factors":50}\'')
    .option('--factors <n>', 'latent factors', positiveInt('--factors'))
    .option('--epochs <n>', 'training epochs (or ALS / L-BFGS iterations)', positiveInt('--epochs'))
    .option('--lr <rate>', 'SGD learning rate', numberIn('--lr', 0, 10))
    .option('--reg <lambda>', 'L2 regularisation', numberIn('--reg', 0, 1e6))
    .option('--reg-bias <lambda>', 'L2 regularisation of the biases', numberIn('--reg-bias', 0, 1e6))
    .addOption(new Option('--solver <solver>', 'optimiser').choices(['sgd', 'als', 'lbfgs']))
    .addOption(new Option('--backend <backend>', 'where the svd sgd/als kernels run: auto (WebAssembly when built), wasm or js').choices(['auto', 'wasm', 'js']))
    .option('--threads <n>', 'worker threads for training', positiveInt('--threads'))
    .option('--seed <n>', 'random seed (splits and initialisation)', nonNegativeInt('--seed'))
    .option('--k <n>', 'knn-baseline: neighbours used per prediction', positiveInt('--k'))
    .option('--min-k <n>', 'knn-baseline: fewest neighbours before falling back to the baseline', positiveInt('--min-k'))
    .option('--shrinkage <n>', 'knn-baseline: pearson-baseline shrinkage', numberIn('--shrinkage', 0, 1e9))
    .option('--min-support <n>', 'least number of common raters for a similarity to count', positiveInt('--min-support'));
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
