import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { collectSkipped } from './collection';

/**
 * The throwaway cluster's URL, set by `.ci/run` through `tools/pg/throwaway-cluster.sh start`
 * (a superuser on a cluster started for this run: tests create and drop databases in it).
 */
export const TEST_DATABASE_URL_VARIABLE = 'RECSYS_TEST_DATABASE_URL';

/** The test cluster's URL, or undefined when none was started. */
export function testDatabaseUrl(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const url = env[TEST_DATABASE_URL_VARIABLE];
  return url === undefined || url === '' ? undefined : url;
}

/**
 * `describe` for tests that need PostgreSQL. Without RECSYS_TEST_DATABASE_URL the block is
 * skipped with a plain note, except in CI (`CI=true`), where one test fails instead: `.ci/run`
 * starts the cluster, so a missing URL there means it failed to, and CI must not pass quietly.
 * To run these locally: `eval "$(bash tools/pg/throwaway-cluster.sh start)"` before jest.
 */
export function describeWithPostgres(name: string, fn: () => void, env: NodeJS.ProcessEnv = process.env): void {
  if (testDatabaseUrl(env) !== undefined) {
    describe(name, fn);
    return;
  }
  const why = `${TEST_DATABASE_URL_VARIABLE} is not set (eval "$(bash tools/pg/throwaway-cluster.sh start)" starts a throwaway cluster and sets it)`;
  if (env.CI === 'true') {
    describe(name, () => {
      it('has a PostgreSQL cluster to test against', () => {
        throw new Error(`${why}; CI=true, so "${name}" fails instead of being skipped`);
      });
    });
    return;
  }
  process.stderr.write(`skipped: ${why} ("${name}")\n`);
  collectSkipped(() => describe.skip(name, fn));
}

/** A database of its own for one test file, in the test cluster; `drop()` removes it (closing its connections). */
export interface TestDatabase {
  /** Its URL: the cluster's, with this database's name. */
  readonly url: string;
  readonly name: string;
  drop(): Promise<void>;
}

/**
 * Creates an empty database named `recsys_<prefix>_<random>` in the test cluster (so that test
 * files running in parallel never share tables). Call inside beforeAll/a test, not at load time.
 */
export async function createTestDatabase(prefix = 'test'): Promise<TestDatabase> {
  const clusterUrl = testDatabaseUrl();
  if (clusterUrl === undefined) throw new Error(`createTestDatabase: ${TEST_DATABASE_URL_VARIABLE} is not set (use describeWithPostgres)`);
  const name = `recsys_${prefix.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
  await onAdmin(clusterUrl, (c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(clusterUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: () => onAdmin(clusterUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

async function onAdmin<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
