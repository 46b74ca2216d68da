/**
 * Command-line options of the benchmarks, parsed by `util.parseArgs` (node:util) in strict mode:
 * an unknown option, a missing value or a stray argument is an error (exit code 2, the message
 * on stderr), and `--help` prints the options with their defaults (exit code 0).
 *
 * A benchmark declares its options once (`BenchCli`), and a `convert` function turns the raw
 * strings into its typed arguments, throwing `BenchUsageError` (with the helpers below) when a
 * value is out of range.
 */
import { parseArgs } from 'node:util';

export interface BenchOption {
  type: 'string' | 'boolean';
  /** Placeholder of the value in --help (string options), e.g. `N` or `LIST`. */
  value?: string;
  /** Default of a string option, as the user would type it. */
  default?: string;
  description: string;
}

export interface BenchCli<O extends Record<string, BenchOption>> {
  /** Script name, e.g. `data-bench`. */
  name: string;
  /** One paragraph for --help: what it measures and what it prints. */
  description: string;
  options: O;
}

/** The raw values: booleans, strings (always set when the option has a default). */
export type BenchValues<O extends Record<string, BenchOption>> = {
  [K in keyof O]: O[K]['type'] extends 'boolean' ? boolean : O[K] extends { default: string } ? string : string | undefined;
};

/** A wrong command line: the message says which option and why. */
export class BenchUsageError extends Error {
  override name = 'BenchUsageError';
}

export type BenchParse<A> = { help: true; text: string } | { help: false; args: A };

/** The --help text: usage line, description, one line per option with its default. */
export function helpText<O extends Record<string, BenchOption>>(cli: BenchCli<O>): string {
  const rows: Array<[string, string]> = Object.entries(cli.options).map(([name, o]) => [
    `--${name}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`,
    `${o.description}${o.default !== undefined ? ` (default ${o.default})` : ''}`,
  ]);
  rows.push(['-h, --help', 'print this help and exit']);
  const width = Math.max(...rows.map(([flag]) => flag.length));
  return [
    `usage: node tools/dist/bench/${cli.name}.js [options]`,
    '',
    cli.description,
    '',
    'options:',
    ...rows.map(([flag, text]) => `  ${flag.padEnd(width)}  ${text}`),
    '',
  ].join('\n');
}

/** Parses `argv` (without node and the script); throws BenchUsageError on a wrong command line. */
export function parseBench<O extends Record<string, BenchOption>, A>(cli: BenchCli<O>, convert: (values: BenchValues<O>) => A, argv: readonly string[]): BenchParse<A> {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; default?: string | boolean }> = { help: { type: 'boolean', short: 'h' } };
  for (const [name, o] of Object.entries(cli.options)) {
    options[name] = o.type === 'boolean' ? { type: 'boolean', default: false } : o.default !== undefined ? { type: 'string', default: o.default } : { type: 'string' };
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }) as { values: Record<string, string | boolean | undefined> });
  } catch (error) {
    throw new BenchUsageError(error instanceof Error ? error.message : String(error));
  }
  if (values.help) return { help: true, text: helpText(cli) };
  delete values.help;
  return { help: false, args: convert(values as BenchValues<O>) };
}

/**
 * The benchmark's arguments from `process.argv`: prints --help and exits 0, or prints a usage
 * error and exits 2.
 */
export function readBenchArgs<O extends Record<string, BenchOption>, A>(cli: BenchCli<O>, convert: (values: BenchValues<O>) => A, argv: readonly string[] = process.argv.slice(2)): A {
  try {
    const parsed = parseBench(cli, convert, argv);
    if (!parsed.help) return parsed.args;
    process.stdout.write(parsed.text);
    process.exit(0);
  } catch (error) {
    if (!(error instanceof BenchUsageError)) throw error;
    process.stderr.write(`${cli.name}: ${error.message}\nRun with --help to see the options.\n`);
    process.exit(2);
  }
}

/** An integer ≥ `min` (underscores allowed: 10_000_000). */
export function intValue(option: string, text: string, min = 0): number {
  const n = Number(text.replace(/_/g, ''));
  if (text.trim() === '' || !Number.isInteger(n) || n < min) throw new BenchUsageError(`--${option} must be an integer ≥ ${min}, got "${text}"`);
  return n;
}

/** A finite number. */
export function numberValue(option: string, text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n)) throw new BenchUsageError(`--${option} must be a number, got "${text}"`);
  return n;
}

/** Integers ≥ `min` separated by commas, e.g. `1,2`. */
export function intListValue(option: string, text: string, min = 1): number[] {
  const parts = text.split(',');
  const values = parts.map((part) => Number(part.trim()));
  if (parts.some((part) => part.trim() === '') || values.some((n) => !Number.isInteger(n) || n < min)) {
    throw new BenchUsageError(`--${option} takes integers ≥ ${min} separated by commas, got "${text}"`);
  }
  return values;
}

/** Names from `choices` separated by commas. */
export function choiceListValue<T extends string>(option: string, text: string, choices: readonly T[]): T[] {
  const values = text.split(',').map((part) => part.trim());
  for (const v of values) if (!choices.includes(v as T)) throw new BenchUsageError(`--${option}: unknown value "${v}" (one of ${choices.join(', ')})`);
  return values as T[];
}

/** One name from `choices`. */
export function choiceValue<T extends string>(option: string, text: string, choices: readonly T[]): T {
  if (!choices.includes(text as T)) throw new BenchUsageError(`--${option} must be one of ${choices.join(', ')}, got "${text}"`);
  return text as T;
}
