#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { DataFormatError, SnapshotError } from '@recsys/data';
import { registerDataCommands } from './data-commands';
import { registerModelCommands } from './model-commands';
import { registerRetrainCommand } from './remote';
import { registerTuningCommands } from './tuning-commands';

/** Exit code for bad input data (malformed rows, unusable snapshot). */
export const EXIT_BAD_DATA = 2;

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
  registerTuningCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    if (err instanceof DataFormatError || err instanceof SnapshotError) {
      process.stderr.write(`recsys: ${err.message}\n`);
      if (err instanceof DataFormatError) process.stderr.write('recsys: use --skip-invalid to skip malformed rows\n');
      return EXIT_BAD_DATA;
    }
    process.stderr.write(`recsys: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv).then((code) => {
    process.exitCode = code;
  });
}
