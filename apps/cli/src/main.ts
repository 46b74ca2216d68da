#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { compileWasmOptimizedEagerly } from '@recsys/core';
import { DataFormatError, SnapshotError } from '@recsys/data';
import { RecsysClientError } from '@recsys/client';
import { EXIT_BAD_DATA, EXIT_FAILED, EXIT_USAGE, UsageError } from './errors';
import { registerDataCommands } from './data-commands';
import { registerModelCommands } from './model-commands';
import { registerInteractCommand, registerRetrainCommand } from './remote';
import { registerSparkCommands } from './spark-commands';
import { registerTuningCommands } from './tuning-commands';

export { EXIT_BAD_DATA, EXIT_FAILED, EXIT_USAGE, RunFailedError, UsageError } from './errors';

export function buildProgram(): Command {
  const program = new Command('recsys')
    .description('Movie recommender for the Netflix Prize and MovieLens data')
    .version('0.1.0')
    .showHelpAfterError()
    // Throw instead of exiting, so main() decides the exit code (and tests can run it in-process).
    // Set before the commands are added: subcommands copy it when they are created.
    .exitOverride();
  registerDataCommands(program);
  registerModelCommands(program);
  registerRetrainCommand(program);
  registerInteractCommand(program);
  registerTuningCommands(program);
  registerSparkCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    // commander has printed its message; help and --version end with code 0.
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : EXIT_USAGE;
    if (err instanceof DataFormatError || err instanceof SnapshotError) {
      process.stderr.write(`recsys: ${err.message}\n`);
      // The hint only helps for a malformed row (a line number) when rows are not skipped already.
      if (err instanceof DataFormatError && err.line > 0 && !argv.includes('--skip-invalid')) {
        process.stderr.write('recsys: use --skip-invalid to skip malformed rows\n');
      }
      return EXIT_BAD_DATA;
    }
    process.stderr.write(`recsys: ${err instanceof Error ? err.message : String(err)}\n`);
    // RangeError: a parameter the model refused (unknown name, out of bounds); a server's
    // NOT_FOUND or BAD_USER_INPUT is the same kind of mistake made remotely.
    const usage = err instanceof UsageError || err instanceof RangeError || (err instanceof RecsysClientError && (err.code === 'NOT_FOUND' || err.code === 'BAD_USER_INPUT'));
    return usage ? EXIT_USAGE : EXIT_FAILED;
  }
}

if (require.main === module) {
  // Before any kernel compiles: a training run's first epoch otherwise runs baseline WebAssembly code.
  compileWasmOptimizedEagerly();
  main(process.argv).then((code) => {
    process.exitCode = code;
  });
}
