// api-bench's command line: the scenarios, the options and the parsed arguments.
import { resolve } from 'node:path';
import { BenchCli, BenchOption, BenchValues, choiceValue, intValue } from './bench-args';

export const SCENARIOS = ['throughput', 'similar-burst', 'retrain-load'] as const;
export type Scenario = (typeof SCENARIOS)[number];

export interface Args {
  scenario: Scenario;
  check: boolean;
  connections: number;
  duration: number;
  warmup: number;
  rounds: number;
  pairs: number;
  variables: boolean;
  data: string | undefined;
  format: string | undefined;
  cpuProf: string | undefined;
  /** Throughput through this many API replicas over one PostgreSQL beside one (1: the single-process scenario). */
  replicas: number;
  /** The PostgreSQL cluster the replicas' database is created in (`--replicas` ≥ 2; absent: RECSYS_TEST_DATABASE_URL). */
  databaseUrl: string | undefined;
}

export const CLI = {
  name: 'api-bench',
  description:
    'Prediction queries per second and their latency against the compiled API (a child process on loopback), beside the same ' +
    'server answering a constant ({ ping }), with autocannon. Prints one JSON document on stdout; progress on stderr.',
  options: {
    scenario: { type: 'string', value: 'NAME', default: 'throughput', description: `what to measure: ${SCENARIOS.join(', ')} (see the head of tools/bench/api-bench.ts)` },
    check: { type: 'boolean', description: 'exit with code 1 when a figure misses its bound (the JSON is printed either way)' },
    connections: { type: 'string', value: 'N', description: 'concurrent connections (default 10; retrain-load: 8)' },
    duration: { type: 'string', value: 'S', description: 'seconds of each measured run (default 10; retrain-load: 4)' },
    warmup: { type: 'string', value: 'S', default: '3', description: 'seconds of warm-up before each run (0: none)' },
    rounds: { type: 'string', value: 'N', default: '2', description: 'rounds (each runs both query kinds, in alternating order)' },
    pairs: { type: 'string', value: 'N', default: '1000', description: '(user, movie) pairs the prediction requests cycle through' },
    variables: { type: 'boolean', description: 'send the ids as GraphQL variables instead of literals in the query text' },
    data: { type: 'string', value: 'PATH', description: "the server's data (default: the embedded synthetic set)" },
    format: { type: 'string', value: 'F', description: 'force the data format of --data' },
    'cpu-prof': { type: 'string', value: 'DIR', description: "write the server's CPU profile into DIR" },
    replicas: {
      type: 'string',
      value: 'N',
      default: '1',
      description: 'throughput: N ≥ 2 starts N API replicas over one PostgreSQL and one model directory and measures prediction queries through all of them (round-robin) beside through one, in the same run',
    },
    'database-url': {
      type: 'string',
      value: 'URL',
      description: 'with --replicas: a PostgreSQL cluster where the bench may create (and then drops) a database of its own (default RECSYS_TEST_DATABASE_URL)',
    },
  },
} as const satisfies BenchCli<Record<string, BenchOption>>;

export function argsFrom(v: BenchValues<typeof CLI.options>): Args {
  const scenario = choiceValue('scenario', v.scenario, SCENARIOS);
  const retrain = scenario === 'retrain-load';
  return {
    scenario,
    check: v.check,
    connections: intValue('connections', v.connections ?? (retrain ? '8' : '10'), 1),
    duration: intValue('duration', v.duration ?? (retrain ? '4' : '10'), 1),
    warmup: intValue('warmup', v.warmup, 0),
    rounds: intValue('rounds', v.rounds, 1),
    pairs: intValue('pairs', v.pairs, 1),
    variables: v.variables,
    data: v.data,
    format: v.format,
    cpuProf: v['cpu-prof'] === undefined ? undefined : resolve(v['cpu-prof']),
    replicas: intValue('replicas', v.replicas, 1),
    databaseUrl: v['database-url'],
  };
}
